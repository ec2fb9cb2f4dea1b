package dev.nabla.ops;

import dev.nabla.DType;
import dev.nabla.Device;
import dev.nabla.Shape;
import dev.nabla.Tensor;
import dev.nabla.autograd.Recorder;
import dev.nabla.backend.Backend;
import dev.nabla.backend.Backends;
import dev.nabla.backend.Buffer;
import dev.nabla.backend.Storage;
import dev.nabla.internal.TensorAccess;

/** Making tensors: from host data, filled, ranges, copies, casts and device transfers. */
public final class Creation {
    private Creation() {
    }

    /** A new tensor with an uninitialised buffer, for an op to write. */
    public static Tensor empty(Backend backend, DType dtype, Shape shape) {
        return TensorAccess.wrap(new Storage(backend, backend.allocate(dtype, shape.size())), shape);
    }

    /**
     * As {@link #empty(Backend, DType, Shape)}, for op {@code op}: a size the backend refuses (more elements than
     * one buffer can hold) is an IllegalArgumentException naming the op and the shape.
     */
    public static Tensor empty(String op, Backend backend, DType dtype, Shape shape) {
        Buffer buffer;
        try {
            buffer = backend.allocate(dtype, shape.size());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(op + ": cannot allocate a " + dtype + " tensor of shape " + shape + ": "
                    + e.getMessage(), e);
        }
        return TensorAccess.wrap(new Storage(backend, buffer), shape);
    }

    /** The backend of {@code d}, checked non-null for {@code op}. */
    public static Backend backend(String op, Device d) {
        return Backends.get(Checks.notNull(op, "device", d));
    }

    /** A tensor of host {@code data} ({@code float[]}, {@code double[]}, {@code int[]}, {@code boolean[]}); no shape: 1-D. */
    public static Tensor of(Device d, Object data, long... shape) {
        Checks.notNull("of", "data", data);
        Checks.notNull("of", "shape", shape);
        int n = java.lang.reflect.Array.getLength(data);
        return withShape(d, data, shape.length == 0 ? Shape.of(n) : Checks.shape("of", shape));
    }

    /** A 0-d tensor from a one-element host array. */
    public static Tensor scalar(Device d, Object oneElement) {
        return withShape(d, oneElement, Shape.scalar());
    }

    /** A tensor of host {@code data} with an explicit shape (the only way to pass a scalar shape). */
    public static Tensor withShape(Device d, Object data, Shape s) {
        Checks.notNull("of", "data", data);
        Checks.notNull("of", "device", d);
        int n = java.lang.reflect.Array.getLength(data);
        DType dtype = switch (data) {
            case float[] x -> DType.FLOAT32;
            case double[] x -> DType.FLOAT64;
            case int[] x -> DType.INT32;
            case boolean[] x -> DType.BOOL;
            default -> throw new IllegalArgumentException("of: unsupported array type " + data.getClass());
        };
        if (s.size() != n) {
            throw new IllegalArgumentException("of: " + n + " values do not fill shape " + s + " (" + s.size()
                    + " elements)");
        }
        Backend b = Backends.get(d);
        return TensorAccess.wrap(new Storage(b, b.upload(data, dtype)), s);
    }

    /** A FLOAT32 matrix from rows. @throws IllegalArgumentException for ragged rows */
    public static Tensor of(Device d, float[][] rows) {
        Checks.notNullElements("of", "rows", rows);
        int cols = rows.length == 0 ? 0 : rows[0].length;
        float[] flat = new float[Checks.intSize("of", (long) rows.length * cols)];
        for (int r = 0; r < rows.length; r++) {
            if (rows[r].length != cols) {
                throw new IllegalArgumentException("of: ragged rows: row " + r + " has " + rows[r].length
                        + " values, row 0 has " + cols);
            }
            System.arraycopy(rows[r], 0, flat, r * cols, cols);
        }
        return of(d, flat, rows.length, cols);
    }

    /** A tensor filled with {@code value}. */
    public static Tensor full(Device d, double value, DType t, long... shape) {
        return full("full", d, value, t, shape);
    }

    /** A tensor filled with {@code value}, for the public op {@code op} ({@code zeros}, {@code ones}, {@code full}). */
    public static Tensor full(String op, Device d, double value, DType t, long... shape) {
        Backend b = backend(op, d);
        Checks.notNull(op, "dtype", t);
        Shape s = Checks.shape(op, shape);
        Tensor out = empty(op, b, t, s);
        b.fill(TensorAccess.buffer(out, op), value);
        return out;
    }

    /** INT32 0 .. n-1. */
    public static Tensor arange(Device d, int n) {
        if (n < 0) {
            throw new IllegalArgumentException("arange: n must be >= 0, got " + n);
        }
        Backend b = backend("arange", d);
        Tensor out = empty(b, DType.INT32, Shape.of(n));
        b.iota(TensorAccess.buffer(out, "arange"));
        return out;
    }

    /** A scalar of {@code like}'s dtype and device: how a Java number joins a tensor op. */
    public static Tensor scalarLike(Tensor like, double v) {
        // no open check here: the op taking the number checks `like` and names itself ("add: ... after close()")
        Backend b = TensorAccess.backend(like);
        Tensor out = empty(b, like.dtype(), Shape.scalar());
        b.fill(TensorAccess.buffer(out, "scalar"), v);
        return out;
    }

    /** A fresh storage holding a copy of {@code t}'s elements on its device. */
    public static Storage copyStorage(Tensor t, String op) {
        Storage src = TensorAccess.storage(t, op);
        Backend b = src.backend();
        Storage dst = new Storage(b, b.allocate(t.dtype(), t.size()));
        long[] strides = t.shape().strides();
        b.copy(src.buffer(), 0, strides, dst.buffer(), 0, strides, t.shape().dims());
        return dst;
    }

    /** {@code t} on device {@code d}; gradients flow back to {@code t}'s device. */
    public static Tensor toDevice(Tensor t, Device d) {
        TensorAccess.storage(t, "to");
        Checks.notNull("to", "device", d);
        if (t.device().equals(d)) {
            return t;
        }
        Backend target = Backends.get(d);
        Object host = switch (t.dtype()) {
            case FLOAT32 -> t.toFloatArray();
            case FLOAT64 -> t.toDoubleArray();
            case INT32 -> t.toIntArray();
            case BOOL -> toBooleans(t.toIntArray());
        };
        Tensor out = TensorAccess.wrap(new Storage(target, target.upload(host, t.dtype())), t.shape());
        Device from = t.device();
        Recorder.recordLinear("to", new Tensor[] {t}, out, (g, needed) -> new Tensor[] {g.to(from)});
        return out;
    }

    private static boolean[] toBooleans(int[] v) {
        boolean[] r = new boolean[v.length];
        for (int i = 0; i < v.length; i++) {
            r[i] = v[i] != 0;
        }
        return r;
    }

    /** {@code t} converted to {@code dtype}; differentiable between float types. */
    public static Tensor cast(Tensor t, DType dtype) {
        Backend b = TensorAccess.storage(t, "to").backend();
        Checks.notNull("to", "dtype", dtype);
        if (t.dtype() == dtype) {
            return t;
        }
        Tensor out = empty(b, dtype, t.shape());
        b.cast(TensorAccess.buffer(t, "to"), TensorAccess.buffer(out, "to"));
        DType from = t.dtype();
        if (from.isFloating() && dtype.isFloating()) {
            Recorder.recordLinear("cast", new Tensor[] {t}, out, (g, needed) -> new Tensor[] {g.to(from)});
        }
        return out;
    }
}
