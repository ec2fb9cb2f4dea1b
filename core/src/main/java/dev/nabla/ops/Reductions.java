package dev.nabla.ops;

import dev.nabla.DType;
import dev.nabla.Shape;
import dev.nabla.Tensor;
import dev.nabla.backend.Backend;
import dev.nabla.backend.Buffer;
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
     * The reduction primitive over sorted axes: runs of adjacent axes merge into one backend pass, going from the
     * last run to the first; the output is {@code shape} (the kept or the dropped shape: the same elements).
     */
    public record Reduce(String name, ReduceOp kind, Shape inShape, int[] axes, Shape shape, DType dtype)
            implements Primitive {
        static Reduce of(String op, ReduceOp kind, Tensor x, int[] axes, boolean keepDims) {
            for (int a : axes) {
                if (x.shape().dim(a) == 0 && kind != ReduceOp.SUM) {
                    throw new IllegalArgumentException(op + ": cannot reduce over an empty dimension of "
                            + x.shape());
                }
            }
            Shape out = keepDims ? keptShape(x.shape(), axes) : droppedShape(x.shape(), axes);
            return new Reduce(op, kind, x.shape(), axes, out, kind == ReduceOp.ARGMAX ? DType.INT32 : x.dtype());
        }

        @Override public Recording recording() {
            return switch (kind) {
                case SUM -> Recording.LINEAR;
                case ARGMAX -> Recording.NONE;
                case MAX, MIN -> Recording.SAVES_INPUTS;
            };
        }

        @Override public String attributes() {
            return "axes=" + Arrays.toString(axes).replace('[', '(').replace(']', ')');
        }

        @Override public void compute(Backend b, Buffer[] in, Buffer out) {
            long[] dims = inShape.dims();
            Buffer current = in[0];
            int i = axes.length - 1;
            if (i < 0) {
                long[] strides = inShape.strides();
                b.copy(current, 0, strides, out, 0, strides, dims);
                return;
            }
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
                Buffer next = i < 0 ? out : b.allocate(dtype, outer * inner);
                // NOTE: an empty result needs no kernel, and a zero-sized launch is an error on some devices
                if (outer * inner > 0) {
                    b.reduce(kind, current, outer, n, inner, next);
                }
                if (current != in[0]) {
                    current.release();
                }
                for (int d = lo; d <= hi; d++) {
                    dims[d] = 1;
                }
                current = next;
            }
        }

        @Override public Tensor[] gradient(Tensor[] in, Tensor out, Tensor g, boolean[] needed) {
            Shape kept = keptShape(inShape, axes);
            if (kind == ReduceOp.SUM) {
                // g over the kept dims, which broadcasts to the input: the tape broadcasts it for the rules that
                // need the full shape, and gives it as it is to those that broadcast it themselves
                return new Tensor[] {g.reshape(kept.dims())};
            }
            return new Tensor[] {extremumGradient(in[0], out.reshape(kept.dims()), axes, g.reshape(kept.dims()))};
        }
    }

    /** Sum along axes. */
    public static Tensor sum(Tensor x, int[] axes, boolean keepDims) {
        Checks.notBool("sum", x);
        int[] ax = normalizeAxes("sum", axes, x.rank());
        return Dispatch.apply(Reduce.of("sum", ReduceOp.SUM, x, ax, keepDims), x);
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
        return Dispatch.apply(Reduce.of(op, kind, x, ax, keepDims), x);
    }

    /** NOTE: ties share the gradient equally, as TF's reduce_max gradient does. */
    private static Tensor extremumGradient(Tensor x, Tensor kept, int[] ax, Tensor keptGrad) {
        Tensor mask = x.eq(kept).to(x.dtype());
        Tensor count = mask.sum(ax, true);
        return keptGrad.mul(mask).div(count);
    }

    /** INT32 index of the first maximum along one axis (NaN counts as the maximum, as NumPy). */
    public static Tensor argmax(Tensor x, int axis) {
        Checks.notBool("argmax", x);
        int a = Shape.normalizeAxis(axis, x.rank(), "argmax");
        return Dispatch.apply(Reduce.of("argmax", ReduceOp.ARGMAX, x, new int[] {a}, false), x);
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
