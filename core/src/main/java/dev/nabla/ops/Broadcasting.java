package dev.nabla.ops;

import dev.nabla.Shape;
import dev.nabla.Tensor;
import java.util.ArrayList;
import java.util.List;

/** NumPy broadcasting: the result shape, the strides that read an operand as that shape, and the adjoint. */
public final class Broadcasting {
    private Broadcasting() {
    }

    /** The broadcast shape of {@code a} and {@code b}. @throws IllegalArgumentException naming {@code op} */
    public static Shape shape(String op, Shape a, Shape b) {
        int rank = Math.max(a.rank(), b.rank());
        long[] out = new long[rank];
        for (int i = 0; i < rank; i++) {
            long da = i < rank - a.rank() ? 1 : a.dim(i - (rank - a.rank()));
            long db = i < rank - b.rank() ? 1 : b.dim(i - (rank - b.rank()));
            if (da != db && da != 1 && db != 1) {
                throw new IllegalArgumentException(op + ": cannot broadcast " + a + " with " + b);
            }
            out[i] = da == 1 ? db : da;
        }
        return Shape.of(out);
    }

    /** True when {@code from} broadcasts to exactly {@code to}. */
    public static boolean broadcastsTo(Shape from, Shape to) {
        if (from.rank() > to.rank()) {
            return false;
        }
        int lead = to.rank() - from.rank();
        for (int i = 0; i < from.rank(); i++) {
            if (from.dim(i) != 1 && from.dim(i) != to.dim(lead + i)) {
                return false;
            }
        }
        return true;
    }

    /** Element strides that read a dense tensor of shape {@code from} as {@code to} (0 where it broadcasts). */
    public static long[] strides(Shape from, Shape to) {
        return strides(from, from.strides(), to);
    }

    /** Element strides that read a view of shape {@code from} stepping by {@code own} as {@code to}. */
    public static long[] strides(Shape from, long[] own, Shape to) {
        long[] out = new long[to.rank()];
        int lead = to.rank() - from.rank();
        for (int i = 0; i < from.rank(); i++) {
            out[lead + i] = from.dim(i) == 1 && to.dim(lead + i) != 1 ? 0 : own[i];
        }
        return out;
    }

    /**
     * Sums {@code grad} down to {@code shape}, undoing a broadcast: the one place every binary op's gradient
     * goes through.
     */
    public static Tensor sumToShape(Tensor grad, Shape shape) {
        if (grad.shape().equals(shape)) {
            return grad;
        }
        int lead = grad.rank() - shape.rank();
        List<Integer> axes = new ArrayList<>();
        for (int i = 0; i < grad.rank(); i++) {
            if (i < lead || (shape.dim(i - lead) == 1 && grad.shape().dim(i) != 1)) {
                axes.add(i);
            }
        }
        int[] ax = axes.stream().mapToInt(Integer::intValue).toArray();
        return grad.sum(ax, true).reshape(shape.dims());
    }
}
