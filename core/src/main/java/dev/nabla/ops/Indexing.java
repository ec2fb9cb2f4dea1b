package dev.nabla.ops;

import dev.nabla.DType;
import dev.nabla.Shape;
import dev.nabla.Tensor;
import dev.nabla.autograd.Recorder;
import dev.nabla.backend.Backend;
import dev.nabla.internal.TensorAccess;


/** Gather, its adjoint scatter-add, and one-hot encoding. */
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
        Layout l = Layout.of(params.shape(), a);
        Backend b = TensorAccess.backend(params);
        Tensor out = Creation.empty(op, b, params.dtype(), gatheredShape(params.shape(), a, indices.shape()));
        try {
            b.gather(TensorAccess.buffer(params, op), l.outer, l.axisSize, l.inner, TensorAccess.buffer(indices, op), TensorAccess.buffer(out, op));
        } catch (IndexOutOfBoundsException e) {
            out.close();
            throw new IllegalArgumentException(op + ": " + e.getMessage() + " for axis " + axis + " of "
                    + params.shape(), e);
        }
        Shape paramsShape = params.shape();
        Recorder.recordLinear(op, new Tensor[] {params, indices}, out,
                (g, needed) -> new Tensor[] {scatterAdd(paramsShape, a, indices, g), null});
        return out;
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
        Layout l = Layout.of(shape, a);
        Backend b = TensorAccess.storage(updates, op).backend();
        Tensor out = Creation.full(updates.device(), 0, updates.dtype(), shape.dims());
        try {
            b.scatterAdd(TensorAccess.buffer(out, op), l.outer, l.axisSize, l.inner, TensorAccess.buffer(indices, op), TensorAccess.buffer(updates, op));
        } catch (IndexOutOfBoundsException e) {
            out.close();
            throw new IllegalArgumentException(op + ": " + e.getMessage() + " for axis " + axis + " of " + shape, e);
        }
        Recorder.recordLinear(op, new Tensor[] {updates, indices}, out,
                (g, needed) -> new Tensor[] {g.gather(indices, a), null});
        return out;
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
