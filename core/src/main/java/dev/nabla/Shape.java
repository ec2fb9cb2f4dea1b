package dev.nabla;

import java.util.Arrays;

/**
 * An immutable tensor shape: a list of non-negative dimension sizes. Prints as a Python tuple:
 * {@code ()}, {@code (3,)}, {@code (1, 3)}.
 *
 * <pre>{@code
 * Shape s = Shape.of(2, 3);
 * assert s.rank() == 2 && s.size() == 6 && s.dim(-1) == 3;
 * }</pre>
 */
public final class Shape {
    private static final Shape SCALAR = new Shape(new long[0]);
    private final long[] dims;
    private final long size;

    private Shape(long[] dims) {
        this.dims = dims;
        long n = 1;
        boolean overflow = false;
        for (long d : dims) {
            if (d < 0) {
                throw new IllegalArgumentException("Shape.of: negative dimension in shape " + format(dims));
            }
        }
        for (long d : dims) {
            try {
                n = Math.multiplyExact(n, d);
            } catch (ArithmeticException e) {
                overflow = true;
                n = 1;
            }
            if (d == 0) {
                break;
            }
        }
        if (overflow && n != 0) {
            throw new IllegalArgumentException("Shape.of: shape " + format(dims)
                    + " has more elements than a long can count (2^63 - 1)");
        }
        this.size = n;
    }

    /**
     * A shape with the given dimensions; no dimensions is a scalar.
     *
     * @throws IllegalArgumentException for a negative dimension, or more elements than a long can count
     */
    public static Shape of(long... dims) {
        if (dims == null) {
            throw new NullPointerException("Shape.of: argument dims is null");
        }
        return dims.length == 0 ? SCALAR : new Shape(dims.clone());
    }

    /** The shape of a scalar, {@code ()}. */
    public static Shape scalar() {
        return SCALAR;
    }

    /** Number of dimensions. */
    public int rank() {
        return dims.length;
    }

    /** Size of one dimension; a negative axis counts from the end. */
    public long dim(int axis) {
        return dims[normalizeAxis(axis, dims.length, "dim")];
    }

    /** Number of elements (1 for a scalar, 0 if any dimension is 0). */
    public long size() {
        return size;
    }

    /** A copy of the dimensions. */
    public long[] dims() {
        return dims.clone();
    }

    /** Row-major element strides of a contiguous tensor of this shape. */
    public long[] strides() {
        long[] s = new long[dims.length];
        long acc = 1;
        for (int i = dims.length - 1; i >= 0; i--) {
            s[i] = acc;
            acc *= dims[i];
        }
        return s;
    }

    /**
     * Maps a possibly negative axis into {@code [0, rank)}.
     *
     * @throws IllegalArgumentException naming {@code op} when the axis is out of range
     */
    public static int normalizeAxis(int axis, int rank, String op) {
        int a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank) {
            throw new IllegalArgumentException(op + ": axis " + axis + " is out of range for rank " + rank);
        }
        return a;
    }

    /** Formats dimensions as a Python tuple. */
    public static String format(long[] dims) {
        if (dims.length == 1) {
            return "(" + dims[0] + ",)";
        }
        StringBuilder sb = new StringBuilder("(");
        for (int i = 0; i < dims.length; i++) {
            if (i > 0) {
                sb.append(", ");
            }
            sb.append(dims[i]);
        }
        return sb.append(')').toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Shape s && Arrays.equals(dims, s.dims);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(dims);
    }

    @Override
    public String toString() {
        return format(dims);
    }
}
