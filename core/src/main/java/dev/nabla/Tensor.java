package dev.nabla;

import dev.nabla.backend.Backend;
import dev.nabla.backend.BinaryOp;
import dev.nabla.backend.Buffer;
import dev.nabla.backend.Storage;
import dev.nabla.backend.UnaryOp;
import dev.nabla.internal.TensorAccess;
import dev.nabla.ops.Checks;
import dev.nabla.ops.Creation;
import dev.nabla.ops.Dispatch;
import dev.nabla.ops.Elementwise;
import dev.nabla.ops.Indexing;
import dev.nabla.ops.LinearAlgebra;
import dev.nabla.ops.Reductions;
import dev.nabla.ops.Shapes;
import java.lang.ref.Cleaner;
import java.lang.ref.Reference;

/**
 * An immutable n-dimensional array on a {@link Device}. Ops return new tensors; a {@link GradientTape} records
 * them for reverse-mode differentiation.
 *
 * <pre>{@code
 * try (Tensor x = Tensor.of(new float[] {1, 2, 3});
 *      Tensor y = x.mul(x).add(1).sum()) {
 *     System.out.println(y);                 // Tensor(17.0, shape=(), dtype=float32)
 * }
 * }</pre>
 *
 * <p>{@link #close()} frees the buffer at once (back to the device's pool), and so does the end of the
 * {@link Scope} the tensor was made in ({@link Nabla#scope()}, {@link Nabla#scoped}); tensors never closed are freed
 * after the garbage collector finds them unreachable.
 */
public class Tensor implements AutoCloseable {
    private static final java.util.concurrent.atomic.AtomicLong SERIALS = new java.util.concurrent.atomic.AtomicLong();
    private final Storage storage;
    private final Shape shape;
    private final long serial = SERIALS.incrementAndGet();
    private final Cleaner.Cleanable cleanable;
    private volatile boolean closed;
    /** The memory scope that closes this tensor when it ends, or null ({@link Scope}). */
    Scope scope;

    static {
        TensorAccess.install(new TensorAccess.Operations() {
            @Override public Tensor wrap(Storage storage, Shape shape) { return new Tensor(storage, shape); }
            @Override public Storage storage(Tensor t, String op) { return t.storage(op); }
            @Override public Backend backend(Tensor t) { return t.backend(); }
            @Override public long serial(Tensor t) { return t.serial; }
            @Override public long lastSerial() { return SERIALS.get(); }
            @Override public void markModified(Variable v) { v.markModified(); }
            @Override public <T extends Tensor> T detach(T t) { Scope.detach(t); return t; }
        });
    }

    /** A tensor viewing {@code storage} with {@code shape}; ops make them through {@link TensorAccess#wrap}. */
    Tensor(Storage storage, Shape shape) {
        if (storage.size() != shape.size()) {
            throw new IllegalArgumentException("buffer of " + storage.size() + " elements cannot hold shape "
                    + shape);
        }
        this.storage = storage;
        this.shape = shape;
        this.cleanable = storage.acquire(this);
        this.scope = Scope.adopt(this);
    }

    // ---- creation ------------------------------------------------------------------------------------------

    /** A FLOAT32 scalar on the default device. */
    public static Tensor scalar(float v) { return Creation.scalar(Device.defaultDevice(), new float[] {v}); }
    /** A FLOAT64 scalar on the default device. */
    public static Tensor scalar(double v) { return Creation.scalar(Device.defaultDevice(), new double[] {v}); }
    /** An INT32 scalar on the default device. */
    public static Tensor scalar(int v) { return Creation.scalar(Device.defaultDevice(), new int[] {v}); }
    /** A FLOAT32 scalar on {@code d}. */
    public static Tensor scalar(Device d, float v) { return Creation.scalar(d, new float[] {v}); }
    /** A FLOAT64 scalar on {@code d}. */
    public static Tensor scalar(Device d, double v) { return Creation.scalar(d, new double[] {v}); }
    /** An INT32 scalar on {@code d}. */
    public static Tensor scalar(Device d, int v) { return Creation.scalar(d, new int[] {v}); }

    /** A FLOAT32 tensor holding a copy of {@code data} in row-major order; no shape means 1-D. */
    public static Tensor of(float[] data, long... shape) { return Creation.of(Device.defaultDevice(), data, shape); }
    /** A FLOAT64 tensor; see {@link #of(float[], long...)}. */
    public static Tensor of(double[] data, long... shape) { return Creation.of(Device.defaultDevice(), data, shape); }
    /** An INT32 tensor; see {@link #of(float[], long...)}. */
    public static Tensor of(int[] data, long... shape) { return Creation.of(Device.defaultDevice(), data, shape); }
    /** A BOOL tensor; see {@link #of(float[], long...)}. */
    public static Tensor of(boolean[] data, long... shape) { return Creation.of(Device.defaultDevice(), data, shape); }
    /** A FLOAT32 tensor on {@code d}. */
    public static Tensor of(Device d, float[] data, long... shape) { return Creation.of(d, data, shape); }
    /** A FLOAT64 tensor on {@code d}. */
    public static Tensor of(Device d, double[] data, long... shape) { return Creation.of(d, data, shape); }
    /** An INT32 tensor on {@code d}. */
    public static Tensor of(Device d, int[] data, long... shape) { return Creation.of(d, data, shape); }
    /** A BOOL tensor on {@code d}. */
    public static Tensor of(Device d, boolean[] data, long... shape) { return Creation.of(d, data, shape); }
    /** A FLOAT32 matrix from rows, which must all have the same length. */
    public static Tensor of(float[][] rows) { return Creation.of(Device.defaultDevice(), rows); }
    /** A FLOAT32 matrix on {@code d}. */
    public static Tensor of(Device d, float[][] rows) { return Creation.of(d, rows); }

    /** FLOAT32 zeros. */
    public static Tensor zeros(long... shape) { return zeros(Device.defaultDevice(), shape); }
    /** FLOAT32 ones. */
    public static Tensor ones(long... shape) { return ones(Device.defaultDevice(), shape); }
    /** Zeros of a dtype. */
    public static Tensor zeros(DType t, long... shape) {
        return Creation.full("zeros", Device.defaultDevice(), 0, t, shape);
    }
    /** Ones of a dtype. */
    public static Tensor ones(DType t, long... shape) {
        return Creation.full("ones", Device.defaultDevice(), 1, t, shape);
    }
    /** FLOAT32 zeros on {@code d}. */
    public static Tensor zeros(Device d, long... shape) { return Creation.full("zeros", d, 0, DType.FLOAT32, shape); }
    /** FLOAT32 ones on {@code d}. */
    public static Tensor ones(Device d, long... shape) { return Creation.full("ones", d, 1, DType.FLOAT32, shape); }
    /** A tensor filled with {@code value}. */
    public static Tensor full(double value, DType t, long... shape) {
        return Creation.full("full", Device.defaultDevice(), value, t, shape);
    }
    /** A tensor filled with {@code value} on {@code d}. */
    public static Tensor full(Device d, double value, DType t, long... shape) {
        return Creation.full("full", d, value, t, shape);
    }
    /** INT32 {@code 0 .. n-1}. */
    public static Tensor arange(int n) { return Creation.arange(Device.defaultDevice(), n); }
    /** INT32 {@code 0 .. n-1} on {@code d}. */
    public static Tensor arange(Device d, int n) { return Creation.arange(d, n); }
    /** Ones with the shape, dtype and device of {@code t}. */
    public static Tensor onesLike(Tensor t) { return Creation.full(t.device(), 1, t.dtype(), t.shape().dims()); }
    /** Zeros with the shape, dtype and device of {@code t}. */
    public static Tensor zerosLike(Tensor t) { return Creation.full(t.device(), 0, t.dtype(), t.shape().dims()); }

    // ---- properties ----------------------------------------------------------------------------------------

    /** The shape. */
    public Shape shape() { return shape; }
    /** The element type. */
    public DType dtype() { return storage.dtype(); }
    /** The device holding the buffer. */
    public Device device() { return storage.backend().device(); }
    /** Number of dimensions. */
    public int rank() { return shape.rank(); }
    /** Number of elements. */
    public long size() { return shape.size(); }
    /** True after {@link #close()}. */
    public boolean isClosed() { return closed; }

    /**
     * Computes this tensor's values now if they are still deferred, and returns it. On the CPU, an element-wise op on
     * a large tensor waits until its values are read, so that a chain of them runs as one pass over memory (the same
     * bits); any read of the values computes them anyway. Call it to time a computation, or to let the chain's inputs
     * go.
     *
     * <pre>{@code
     * Tensor y = a.mul(b).add(a).evaluate();   // computed here, in one pass; a * b never reaches memory
     * }</pre>
     */
    public Tensor evaluate() {
        storage("evaluate").buffer();
        return this;
    }

    /** The storage, checked open. */
    Storage storage(String op) {
        if (closed) {
            throw new IllegalStateException(op + ": tensor " + shape + " " + dtype() + " was used after close()");
        }
        return storage;
    }

    /** The buffer, checked open. */
    Buffer buffer(String op) { return storage(op).buffer(); }
    /** The backend of this tensor's device. */
    Backend backend() { return storage.backend(); }

    // ---- host access ---------------------------------------------------------------------------------------

    /** The single element as a float. @throws IllegalStateException unless the tensor has exactly one element */
    public float item() { return (float) doubleItem(); }

    /** The single element as a double. @throws IllegalStateException unless the tensor has exactly one element */
    public double doubleItem() {
        if (size() != 1) {
            throw new IllegalStateException("item: only a tensor with one element can be converted to a number, got "
                    + "shape " + shape);
        }
        Dispatch.refuseHostReadWhileTracing("item", this);
        try {
            return backend().readDoubles(buffer("item"))[0];
        } finally {
            // NOTE: in x.exp().item() nothing uses the tensor once its buffer is fetched, so a collection during the
            // copy could run its Cleaner and release the buffer being read
            Reference.reachabilityFence(this);
        }
    }

    /** A row-major host copy converted to float. */
    public float[] toFloatArray() {
        Dispatch.refuseHostReadWhileTracing("toFloatArray", this);
        try {
            return backend().readFloats(buffer("toFloatArray"));
        } finally {
            Reference.reachabilityFence(this);   // as in doubleItem
        }
    }
    /** A row-major host copy converted to double. */
    public double[] toDoubleArray() {
        Dispatch.refuseHostReadWhileTracing("toDoubleArray", this);
        try {
            return backend().readDoubles(buffer("toDoubleArray"));
        } finally {
            Reference.reachabilityFence(this);   // as in doubleItem
        }
    }
    /** A row-major host copy converted to int (truncating). */
    public int[] toIntArray() {
        Dispatch.refuseHostReadWhileTracing("toIntArray", this);
        try {
            return backend().readInts(buffer("toIntArray"));
        } finally {
            Reference.reachabilityFence(this);   // as in doubleItem
        }
    }

    /** This tensor on device {@code d} (itself when already there); differentiable. */
    public Tensor to(Device d) { return Creation.toDevice(this, d); }
    /** This tensor cast to {@code t} (itself when already of that type); differentiable between float types. */
    public Tensor to(DType t) { return Creation.cast(this, t); }

    // ---- element-wise --------------------------------------------------------------------------------------

    /** {@code this + o}, broadcasting. */
    public Tensor add(Tensor o) { return Elementwise.binary(BinaryOp.ADD, this, o); }
    /** {@code this - o}, broadcasting. */
    public Tensor sub(Tensor o) { return Elementwise.binary(BinaryOp.SUB, this, o); }
    /** {@code this * o}, broadcasting. */
    public Tensor mul(Tensor o) { return Elementwise.binary(BinaryOp.MUL, this, o); }
    /** {@code this / o}, broadcasting; INT32 division truncates toward zero. */
    public Tensor div(Tensor o) { return Elementwise.binary(BinaryOp.DIV, this, o); }
    /** {@code this ** o}, broadcasting. */
    public Tensor pow(Tensor o) { return Elementwise.binary(BinaryOp.POW, this, o); }
    /** Element-wise maximum, broadcasting. */
    public Tensor maximum(Tensor o) { return Elementwise.binary(BinaryOp.MAXIMUM, this, o); }
    /** Element-wise minimum, broadcasting. */
    public Tensor minimum(Tensor o) { return Elementwise.binary(BinaryOp.MINIMUM, this, o); }
    /** {@code this + o} with {@code o} in this tensor's dtype. */
    public Tensor add(double o) { return add(Creation.scalarLike(this, o)); }
    /** {@code this - o}. */
    public Tensor sub(double o) { return sub(Creation.scalarLike(this, o)); }
    /** {@code this * o}. */
    public Tensor mul(double o) { return mul(Creation.scalarLike(this, o)); }
    /** {@code this / o}. */
    public Tensor div(double o) { return div(Creation.scalarLike(this, o)); }
    /** {@code this ** o}. */
    public Tensor pow(double o) { return pow(Creation.scalarLike(this, o)); }
    /** Element-wise maximum with a number. */
    public Tensor maximum(double o) { return maximum(Creation.scalarLike(this, o)); }
    /** Element-wise minimum with a number. */
    public Tensor minimum(double o) { return minimum(Creation.scalarLike(this, o)); }

    /** {@code this == o}, BOOL. */
    public Tensor eq(Tensor o) { return Elementwise.binary(BinaryOp.EQ, this, o); }
    /** {@code this != o}, BOOL. */
    public Tensor ne(Tensor o) { return Elementwise.binary(BinaryOp.NE, this, o); }
    /** {@code this < o}, BOOL. */
    public Tensor lt(Tensor o) { return Elementwise.binary(BinaryOp.LT, this, o); }
    /** {@code this <= o}, BOOL. */
    public Tensor le(Tensor o) { return Elementwise.binary(BinaryOp.LE, this, o); }
    /** {@code this > o}, BOOL. */
    public Tensor gt(Tensor o) { return Elementwise.binary(BinaryOp.GT, this, o); }
    /** {@code this >= o}, BOOL. */
    public Tensor ge(Tensor o) { return Elementwise.binary(BinaryOp.GE, this, o); }
    /** {@code this == o}, BOOL. */
    public Tensor eq(double o) { return eq(Creation.scalarLike(this, o)); }
    /** {@code this != o}, BOOL. */
    public Tensor ne(double o) { return ne(Creation.scalarLike(this, o)); }
    /** {@code this < o}, BOOL. */
    public Tensor lt(double o) { return lt(Creation.scalarLike(this, o)); }
    /** {@code this <= o}, BOOL. */
    public Tensor le(double o) { return le(Creation.scalarLike(this, o)); }
    /** {@code this > o}, BOOL. */
    public Tensor gt(double o) { return gt(Creation.scalarLike(this, o)); }
    /** {@code this >= o}, BOOL. */
    public Tensor ge(double o) { return ge(Creation.scalarLike(this, o)); }

    /** {@code -this}. */
    public Tensor neg() { return Elementwise.unary(UnaryOp.NEG, this); }
    /** {@code |this|}. */
    public Tensor abs() { return Elementwise.unary(UnaryOp.ABS, this); }
    /** {@code e^this}. */
    public Tensor exp() { return Elementwise.unary(UnaryOp.EXP, this); }
    /** Natural logarithm. */
    public Tensor log() { return Elementwise.unary(UnaryOp.LOG, this); }
    /** Square root. */
    public Tensor sqrt() { return Elementwise.unary(UnaryOp.SQRT, this); }
    /** {@code 1 / sqrt(this)}. */
    public Tensor rsqrt() { return Elementwise.unary(UnaryOp.RSQRT, this); }
    /** {@code this * this}. */
    public Tensor square() { return Elementwise.unary(UnaryOp.SQUARE, this); }
    /** {@code 1 / this}. */
    public Tensor reciprocal() { return Elementwise.unary(UnaryOp.RECIPROCAL, this); }
    /** Sine. */
    public Tensor sin() { return Elementwise.unary(UnaryOp.SIN, this); }
    /** Cosine. */
    public Tensor cos() { return Elementwise.unary(UnaryOp.COS, this); }
    /** Hyperbolic tangent. */
    public Tensor tanh() { return Elementwise.unary(UnaryOp.TANH, this); }
    /** Logistic sigmoid, computed without overflow for large |x|. */
    public Tensor sigmoid() { return Elementwise.unary(UnaryOp.SIGMOID, this); }
    /** {@code max(this, 0)} with gradient 0 at 0. */
    public Tensor relu() { return Elementwise.unary(UnaryOp.RELU, this); }
    /** -1, 0 or 1 by sign (no gradient: zero almost everywhere). */
    public Tensor sign() { return Elementwise.unary(UnaryOp.SIGN, this); }

    // ---- reductions ----------------------------------------------------------------------------------------

    /** Sum of all elements. */
    public Tensor sum() { return Reductions.sum(this, null, false); }
    /** Sum along axes (negative counts from the end). */
    public Tensor sum(int... axes) { return Reductions.sum(this, axes, false); }
    /** Sum along axes, keeping reduced axes as size 1 when {@code keepDims}. */
    public Tensor sum(int[] axes, boolean keepDims) { return Reductions.sum(this, axes, keepDims); }
    /** Mean of all elements. */
    public Tensor mean() { return mean(null, false); }
    /** Mean along axes. */
    public Tensor mean(int... axes) { return mean(axes, false); }
    /** Mean along axes, optionally keeping them. */
    public Tensor mean(int[] axes, boolean keepDims) {
        storage("mean");
        return Reductions.mean(this, axes, keepDims);
    }
    /** Maximum of all elements. */
    public Tensor max() { return Reductions.max(this, null, false); }
    /** Maximum along axes. */
    public Tensor max(int... axes) { return Reductions.max(this, axes, false); }
    /** Maximum along axes, optionally keeping them. */
    public Tensor max(int[] axes, boolean keepDims) { return Reductions.max(this, axes, keepDims); }
    /** Minimum of all elements. */
    public Tensor min() { return Reductions.min(this, null, false); }
    /** Minimum along axes. */
    public Tensor min(int... axes) { return Reductions.min(this, axes, false); }
    /** Minimum along axes, optionally keeping them. */
    public Tensor min(int[] axes, boolean keepDims) { return Reductions.min(this, axes, keepDims); }
    /** INT32 index of the first maximum along {@code axis}. */
    public Tensor argmax(int axis) { return Reductions.argmax(this, axis); }
    /** {@code log(sum(exp(this), axis))}, max-shifted so it does not overflow. */
    public Tensor logSumExp(int axis) {
        Checks.floatingAxis("logSumExp", this, axis);
        return Reductions.logSumExp(this, axis);
    }
    /** Softmax along {@code axis}, max-shifted. */
    public Tensor softmax(int axis) {
        Checks.floatingAxis("softmax", this, axis);
        return Reductions.softmax(this, axis);
    }
    /** Log of softmax along {@code axis}, computed as {@code (x - max) - log(sum(exp(x - max)))}. */
    public Tensor logSoftmax(int axis) {
        Checks.floatingAxis("logSoftmax", this, axis);
        return Reductions.logSoftmax(this, axis);
    }

    // ---- linear algebra and shape --------------------------------------------------------------------------

    /** Matrix product: 2-D, or batched {@code (..., m, k) @ (..., k, n)} with broadcast batch dimensions. */
    public Tensor matmul(Tensor o) { return LinearAlgebra.matmul(this, o, false, false); }
    /** Swaps the last two axes. */
    public Tensor transpose() { return Shapes.transpose(this); }
    /** Reorders axes: result axis i is input axis {@code axes[i]}. */
    public Tensor permute(int... axes) { return Shapes.permute(this, axes); }
    /** Same elements, new shape; one dimension may be -1. */
    public Tensor reshape(long... shape) { return Shapes.reshape(this, shape); }
    /** A 1-D view of all elements. */
    public Tensor flatten() { return Shapes.reshape(this, -1); }
    /** Inserts a size-1 axis at {@code axis} (negative counts from the end of the result). */
    public Tensor expandDims(int axis) { return Shapes.expandDims(this, axis); }
    /** Removes the given size-1 axes, or all size-1 axes when none are given. */
    public Tensor squeeze(int... axes) { return Shapes.squeeze(this, axes); }
    /** Broadcasts to {@code shape} by NumPy rules. */
    public Tensor broadcastTo(long... shape) { return Shapes.broadcastTo(this, shape); }
    /** The block starting at {@code begin} with {@code size} ({@code -1}: to the end). */
    public Tensor slice(long[] begin, long[] size) { return Shapes.slice(this, begin, size); }
    /**
     * Zero padding: {@code before[i]} zeros ahead of axis {@code i} and {@code after[i]} behind it, as TF's
     * {@code tf.pad(x, [[before, after], ...])}; the gradient is the slice of the padded gradient that {@code this}
     * came from.
     *
     * <pre>{@code
     * Tensor.of(new float[] {1, 2}).pad(new long[] {1}, new long[] {2});   // [0. 1. 2. 0. 0.]
     * }</pre>
     *
     * @throws IllegalArgumentException unless both arrays have one non-negative entry per axis
     */
    public Tensor pad(long[] before, long[] after) { return Shapes.pad(this, before, after); }
    /**
     * Picks slices along {@code axis} by INT32 {@code indices}: shape {@code shape[:axis] ++ indices.shape ++
     * shape[axis+1:]}.
     *
     * <pre>{@code
     * Tensor.of(new float[] {10, 20, 30}).gather(Tensor.of(new int[] {2, 0}), 0);   // [30. 10.]
     * }</pre>
     *
     * @throws IllegalArgumentException for an index outside {@code [0, shape[axis])}, naming {@code gather}, the
     *     index and the shape: on the CPU at this call; on an asynchronous device (CUDA), where the indices are
     *     checked without waiting for the device, at the latest at the next read of any result on that device
     *     ({@code to*Array}, {@code item}, a synchronization)
     */
    public Tensor gather(Tensor indices, int axis) { return Indexing.gather(this, indices, axis); }
    /** One-hot FLOAT32 encoding of INT32 labels: shape {@code this.shape ++ (depth,)}. */
    public Tensor oneHot(int depth) { return Indexing.oneHot(this, depth); }
    /** The same value, with no gradient flowing back through it. */
    public Tensor stopGradient() { return Shapes.stopGradient(this); }

    // ---- lifetime and text ---------------------------------------------------------------------------------

    /** Frees the buffer now (when no other tensor views it); idempotent; any later use throws. */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            cleanable.clean();
        }
    }

    /** The text TensorFlow prints, e.g. {@code Tensor(10.0, shape=(), dtype=float32)}. */
    @Override
    public String toString() {
        if (closed) {
            return "Tensor(<closed>, shape=" + shape + ", dtype=" + dtype() + ")";
        }
        if (Dispatch.listener() != null) {
            return "Tensor(<traced>, shape=" + shape + ", dtype=" + dtype() + ")";
        }
        return TensorFormat.describe("Tensor", this);
    }
}
