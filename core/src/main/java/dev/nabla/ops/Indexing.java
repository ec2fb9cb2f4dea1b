package dev.nabla.ops;

import dev.nabla.DType;
import dev.nabla.Shape;
import dev.nabla.Tensor;
import dev.nabla.backend.Backend;
import dev.nabla.backend.Buffer;
import dev.nabla.backend.IndexCheck;
import dev.nabla.internal.TensorAccess;


/**
 * Gather, its adjoint scatter-add, and one-hot encoding.
 *
 * <p>An index outside its axis is an {@link IllegalArgumentException} naming the op, the index, its position, the
 * axis and the shape ({@link IndexCheck}). It is raised by the op itself on the CPU; on an asynchronous device
 * (CUDA) the indices are checked on the device without waiting for it, and the error is raised at the latest at the
 * next read of any result on that device (a {@code to*Array}, {@code item}, a synchronization), by whichever call
 * reaches that point.
 */
public final class Indexing {
    private Indexing() {
    }

    private record Layout(long outer, long axisSize, long inner) {
        static Layout of(Shape s, int axis) {
            long outer = 1;
            long inner = 1;
            for (int i = 0; i < s.rank(); i++) {
                if (i < axis) {
                    outer *= s.dim(i);
                } else if (i > axis) {
                    inner *= s.dim(i);
                }
            }
            return new Layout(outer, s.dim(axis), inner);
        }
    }

    private static Shape gatheredShape(Shape params, int axis, Shape indices) {
        long[] p = params.dims();
        long[] idx = indices.dims();
        long[] out = new long[p.length - 1 + idx.length];
        System.arraycopy(p, 0, out, 0, axis);
        System.arraycopy(idx, 0, out, axis, idx.length);
        System.arraycopy(p, axis + 1, out, axis + idx.length, p.length - axis - 1);
        return Shape.of(out);
    }

    /** {@code params} sliced along {@code axis} at each INT32 index; shape params[:axis] ++ indices ++ params[axis+1:]. */
    public static Tensor gather(Tensor params, Tensor indices, int axis) {
        String op = "gather";
        TensorAccess.storage(params, op);
        Checks.open(op, "indices", indices);
        Checks.dtype(op, "indices", indices, DType.INT32);
        Checks.sameDevice(op, params, indices);
        if (params.rank() == 0) {
            throw new IllegalArgumentException(op + ": params must have rank >= 1, got " + params.shape());
        }
        int a = Shape.normalizeAxis(axis, params.rank(), op);
        return Dispatch.apply(new Gather(params.shape(), a, axis, indices.shape(),
                gatheredShape(params.shape(), a, indices.shape()), params.dtype()), params, indices);
    }

    /** The gather primitive (inputs: params, indices); its gradient is the scatter-add of {@code g}. */
    public record Gather(Shape paramsShape, int axis, int givenAxis, Shape indicesShape, Shape shape, DType dtype)
            implements Primitive {
        @Override public String name() { return "gather"; }
        @Override public Recording recording() { return Recording.LINEAR; }
        @Override public String attributes() { return "axis=" + axis; }
        @Override public void compute(Backend b, Buffer[] in, Buffer out) {
            Layout l = Layout.of(paramsShape, axis);
            b.gather(in[0], l.outer, l.axisSize, l.inner, in[1], out,
                    new IndexCheck("gather", "axis " + givenAxis + " of " + paramsShape));
        }
        @Override public Tensor[] gradient(Tensor[] in, Tensor out, Tensor g, boolean[] needed) {
            return new Tensor[] {scatterAdd(paramsShape, axis, in[1], g), null};
        }
    }

    /**
     * Zeros of {@code shape} with slices of {@code updates} added along {@code axis} (negative counts from the end,
     * as in gather) at {@code indices}: the adjoint of gather (repeated indices add up).
     */
    public static Tensor scatterAdd(Shape shape, int axis, Tensor indices, Tensor updates) {
        String op = "scatterAdd";
        Checks.dtype(op, "indices", indices, DType.INT32);
        int a = Shape.normalizeAxis(axis, shape.rank(), op);
        Shape expected = gatheredShape(shape, a, indices.shape());
        if (!updates.shape().equals(expected)) {
            throw new IllegalArgumentException(op + ": updates " + updates.shape() + " do not match " + expected);
        }
        TensorAccess.storage(updates, op);
        return Dispatch.apply(new ScatterAdd(shape, a, axis, updates.dtype()), updates, indices);
    }

    /** The scatter-add primitive into zeros (inputs: updates, indices); its gradient is the gather of {@code g}. */
    public record ScatterAdd(Shape shape, int axis, int givenAxis, DType dtype) implements Primitive {
        @Override public String name() { return "scatterAdd"; }
        @Override public Recording recording() { return Recording.LINEAR; }
        @Override public String attributes() { return "axis=" + axis; }
        @Override public void compute(Backend b, Buffer[] in, Buffer out) {
            Layout l = Layout.of(shape, axis);
            b.fill(out, 0);
            b.scatterAdd(out, l.outer, l.axisSize, l.inner, in[1], in[0],
                    new IndexCheck("scatterAdd", "axis " + givenAxis + " of " + shape));
        }
        @Override public Tensor[] gradient(Tensor[] in, Tensor out, Tensor g, boolean[] needed) {
            return new Tensor[] {g.gather(in[1], axis), null};
        }
    }

    /** One-hot FLOAT32 rows; labels outside {@code [0, depth)} give all-zero rows, as TF. */
    public static Tensor oneHot(Tensor labels, int depth) {
        String op = "oneHot";
        TensorAccess.storage(labels, op);
        Checks.dtype(op, "labels", labels, DType.INT32);
        if (depth < 0) {
            throw new IllegalArgumentException(op + ": depth must be >= 0, got " + depth);
        }
        try (Tensor range = Tensor.arange(labels.device(), depth); Tensor col = labels.expandDims(-1);
                Tensor hits = col.eq(range)) {
            return hits.to(DType.FLOAT32);
        }
    }

}
