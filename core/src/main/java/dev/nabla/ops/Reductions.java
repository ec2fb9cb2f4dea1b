package dev.nabla.ops;

import dev.nabla.DType;
import dev.nabla.Shape;
import dev.nabla.Tensor;
import dev.nabla.autograd.Recorder;
import dev.nabla.backend.Backend;
import dev.nabla.backend.ReduceOp;
import dev.nabla.internal.TensorAccess;
import java.util.Arrays;

/** Reductions along axes, and the composites built on them (mean, logSumExp, softmax, logSoftmax). */
public final class Reductions {
    private Reductions() {
    }

    /** Sorted, distinct, non-negative axes; {@code null} means all. */
    static int[] normalizeAxes(String op, int[] axes, int rank) {
        if (axes == null) {
            int[] all = new int[rank];
            Arrays.setAll(all, i -> i);
            return all;
        }
        int[] n = new int[axes.length];
        for (int i = 0; i < axes.length; i++) {
            n[i] = Shape.normalizeAxis(axes[i], rank, op);
        }
        int[] sorted = Arrays.stream(n).sorted().distinct().toArray();
        if (sorted.length != n.length) {
            throw new IllegalArgumentException(op + ": repeated axis in " + Arrays.toString(axes));
        }
        return sorted;
    }

    /** The shape with reduced axes set to 1. */
    static Shape keptShape(Shape s, int[] axes) {
        long[] d = s.dims();
        for (int a : axes) {
            d[a] = 1;
        }
        return Shape.of(d);
    }

    private static Shape droppedShape(Shape s, int[] axes) {
        long[] d = s.dims();
        long[] out = new long[d.length - axes.length];
        int j = 0;
        for (int i = 0; i < d.length; i++) {
            if (Arrays.binarySearch(axes, i) < 0) {
                out[j++] = d[i];
            }
        }
        return Shape.of(out);
    }

    /**
     * Runs a reduction primitive over the axes, merging runs of adjacent axes into one pass and going from the
     * last run to the first; the result has the kept shape.
     */
    private static Tensor reduceRaw(String op, ReduceOp kind, Tensor x, int[] axes) {
        Backend b = TensorAccess.storage(x, op).backend();
        long[] dims = x.shape().dims();
        Tensor current = x;
        int i = axes.length - 1;
        while (i >= 0) {
            int hi = axes[i];
            int lo = hi;
            while (i > 0 && axes[i - 1] == lo - 1) {
                lo = axes[--i];
            }
            i--;
            long outer = 1;
            long n = 1;
            long inner = 1;
            for (int d = 0; d < dims.length; d++) {
                if (d < lo) {
                    outer *= dims[d];
                } else if (d <= hi) {
                    n *= dims[d];
                } else {
                    inner *= dims[d];
                }
            }
            if (n == 0 && kind != ReduceOp.SUM) {
                throw new IllegalArgumentException(op + ": cannot reduce over an empty dimension of "
                        + x.shape());
            }
            for (int d = lo; d <= hi; d++) {
                dims[d] = 1;
            }
            DType outType = kind == ReduceOp.ARGMAX ? DType.INT32 : current.dtype();
            Tensor next = Creation.empty(b, outType, Shape.of(dims));
            // NOTE: an empty result needs no kernel, and a zero-sized launch is an error on some devices
            if (next.size() > 0) {
                b.reduce(kind, TensorAccess.buffer(current, op), outer, n, inner, TensorAccess.buffer(next, op));
            }
            if (current != x) {
                current.close();
            }
            current = next;
        }
        if (current == x) {
            return TensorAccess.wrap(Creation.copyStorage(x, op), x.shape());
        }
        return current;
    }

    /** Sum along axes. */
    public static Tensor sum(Tensor x, int[] axes, boolean keepDims) {
        Checks.notBool("sum", x);
        int[] ax = normalizeAxes("sum", axes, x.rank());
        Tensor kept = reduceRaw("sum", ReduceOp.SUM, x, ax);
        Tensor out = keepDims ? kept : kept.reshape(droppedShape(x.shape(), ax).dims());
        if (out != kept) {
            kept.close();
        }
        Shape keptShape = keptShape(x.shape(), ax);
        Recorder.recordLinear("sum", new Tensor[] {x}, out,
                (g, needed) -> new Tensor[] {g.reshape(keptShape.dims()).broadcastTo(x.shape().dims())});
        return out;
    }

    /** Mean along axes (NaN over an empty axis, as NumPy). */
    public static Tensor mean(Tensor x, int[] axes, boolean keepDims) {
        Checks.notBool("mean", x);          // NOTE: before sum, whose message would name sum
        int[] ax = normalizeAxes("mean", axes, x.rank());
        long count = 1;
        for (int a : ax) {
            count *= x.shape().dim(a);
        }
        return sum(x, ax, keepDims).div(count);
    }

    /** Maximum along axes. */
    public static Tensor max(Tensor x, int[] axes, boolean keepDims) {
        return extremum("max", ReduceOp.MAX, x, axes, keepDims);
    }

    /** Minimum along axes. */
    public static Tensor min(Tensor x, int[] axes, boolean keepDims) {
        return extremum("min", ReduceOp.MIN, x, axes, keepDims);
    }

    private static Tensor extremum(String op, ReduceOp kind, Tensor x, int[] axes, boolean keepDims) {
        Checks.notBool(op, x);
        int[] ax = normalizeAxes(op, axes, x.rank());
        Tensor kept = reduceRaw(op, kind, x, ax);
        Tensor out = keepDims ? kept : kept.reshape(droppedShape(x.shape(), ax).dims());
        Shape keptShape = keptShape(x.shape(), ax);
        // NOTE: ties share the gradient equally, as TF's reduce_max gradient does
        Recorder.record(op, new Tensor[] {x}, out, (g, needed) -> {
            Tensor mask = x.eq(kept).to(x.dtype());
            Tensor count = mask.sum(ax, true);
            return new Tensor[] {g.reshape(keptShape.dims()).mul(mask).div(count)};
        });
        return out;
    }

    /** INT32 index of the first maximum along one axis (NaN counts as the maximum, as NumPy). */
    public static Tensor argmax(Tensor x, int axis) {
        Checks.notBool("argmax", x);
        int a = Shape.normalizeAxis(axis, x.rank(), "argmax");
        Tensor kept = reduceRaw("argmax", ReduceOp.ARGMAX, x, new int[] {a});
        Tensor out = kept.reshape(droppedShape(x.shape(), new int[] {a}).dims());
        return out;
    }

    /**
     * The row maximum along {@code axis} (kept as size 1), without gradient, to shift by before {@code exp}; rows
     * whose maximum is infinite (all -inf, or a +inf) are shifted by 0 instead, as TF does, since {@code x - m}
     * would be NaN there. An empty axis has no maximum and is shifted by 0 too, which gives TF's answers (logSumExp
     * -inf, an empty softmax) where max threw "max: cannot reduce over an empty dimension".
     */
    private static Tensor stableShift(Tensor x, int[] ax) {
        if (x.shape().dim(ax[0]) == 0) {
            return Creation.full(x.device(), 0, x.dtype(), keptShape(x.shape(), ax).dims());
        }
        Tensor m = x.max(ax, true).stopGradient();
        Tensor finite = m.abs().lt(Double.POSITIVE_INFINITY);
        return Elementwise.select(finite, m, Tensor.zerosLike(m));
    }

    /** {@code log(sum(exp(x)))} along {@code axis}, keeping it as size 1. */
    static Tensor logSumExpKept(Tensor x, int axis) {
        Checks.floating("logSumExp", x);
        int[] ax = {Shape.normalizeAxis(axis, x.rank(), "logSumExp")};
        Tensor shift = stableShift(x, ax);
        return x.sub(shift).exp().sum(ax, true).log().add(shift);
    }

    /** {@code log(sum(exp(x), axis))}, the axis removed. */
    public static Tensor logSumExp(Tensor x, int axis) {
        int a = Shape.normalizeAxis(axis, x.rank(), "logSumExp");
        return logSumExpKept(x, a).squeeze(a);
    }

    /**
     * Softmax along {@code axis}: {@code e / sum(e)} with {@code e = exp(x - max)}. NOTE: not {@code exp(logSoftmax)}:
     * that rounds {@code log sum} before exponentiating, so {@code softmax([1000, 1000, -1000])} came out 0.49998546
     * instead of exactly 0.5 in float32.
     */
    public static Tensor softmax(Tensor x, int axis) {
        Checks.floating("softmax", x);
        int[] ax = {Shape.normalizeAxis(axis, x.rank(), "softmax")};
        Tensor e = x.sub(stableShift(x, ax)).exp();
        return e.div(e.sum(ax, true));
    }

    /** Log-softmax along {@code axis}: {@code (x - max) - log(sum(exp(x - max)))}. */
    public static Tensor logSoftmax(Tensor x, int axis) {
        Checks.floating("logSoftmax", x);
        int[] ax = {Shape.normalizeAxis(axis, x.rank(), "logSoftmax")};
        Tensor shifted = x.sub(stableShift(x, ax));
        return shifted.sub(shifted.exp().sum(ax, true).log());
    }
}
