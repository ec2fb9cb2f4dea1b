package dev.nabla.cpu;

/**
 * A broadcast iteration space reduced to the fewest dimensions: adjacent dimensions merge when every operand steps
 * through them as through one (a dense tensor becomes one long row, a scalar broadcast too), size-1 dimensions
 * vanish. What is left is a sequence of rows of {@link #rowLength} elements; the fast kernels need each operand to
 * step by 0 or 1 inside a row, which covers same-shape, scalar, row {@code (n, m) + (m,)} and column
 * {@code (n, m) + (n, 1)} broadcasts.
 */
final class RowLayout {
    private final long[] outerShape;
    private final long[][] outerStrides;
    private final int rowLength;
    private final long[] innerStrides;

    private RowLayout(long[] outerShape, long[][] outerStrides, int rowLength, long[] innerStrides) {
        this.outerShape = outerShape;
        this.outerStrides = outerStrides;
        this.rowLength = rowLength;
        this.innerStrides = innerStrides;
    }

    /** Collapses {@code shape} as read by each operand through its {@code strides}. */
    static RowLayout of(long[] shape, long[]... strides) {
        int ops = strides.length;
        long[] dims = new long[shape.length];
        long[][] st = new long[ops][shape.length];
        int rank = 0;
        for (int d = shape.length - 1; d >= 0; d--) {
            if (shape[d] == 1) {
                continue;
            }
            if (rank > 0 && mergesInto(strides, d, st, rank - 1, dims[rank - 1])) {
                dims[rank - 1] *= shape[d];
                continue;
            }
            dims[rank] = shape[d];
            for (int k = 0; k < ops; k++) {
                st[k][rank] = strides[k][d];
            }
            rank++;
        }
        // dims/st hold the kept dimensions innermost first
        int rowLength = rank == 0 ? 1 : (int) dims[0];
        long[] inner = new long[ops];
        for (int k = 0; k < ops; k++) {
            inner[k] = rank == 0 ? 0 : st[k][0];
        }
        int outerRank = Math.max(rank - 1, 0);
        long[] outerShape = new long[outerRank];
        long[][] outerStrides = new long[ops][outerRank];
        for (int i = 0; i < outerRank; i++) {
            outerShape[i] = dims[rank - 1 - i];
            for (int k = 0; k < ops; k++) {
                outerStrides[k][i] = st[k][rank - 1 - i];
            }
        }
        return new RowLayout(outerShape, outerStrides, rowLength, inner);
    }

    private static boolean mergesInto(long[][] strides, int d, long[][] st, int group, long groupSize) {
        for (int k = 0; k < strides.length; k++) {
            if (strides[k][d] != st[k][group] * groupSize) {
                return false;
            }
        }
        return true;
    }

    /** The merged dimensions, outermost first, the row's last ({@code {1}} for one element). */
    long[] dims() {
        long[] d = java.util.Arrays.copyOf(outerShape, outerShape.length + 1);
        d[outerShape.length] = rowLength;
        return d;
    }

    /** Operand {@code k}'s strides through {@link #dims()}. */
    long[] strides(int k) {
        long[] s = java.util.Arrays.copyOf(outerStrides[k], outerShape.length + 1);
        s[outerShape.length] = innerStrides[k];
        return s;
    }

    /** Elements per row. */
    int rowLength() {
        return rowLength;
    }

    /** Number of rows (0 when the shape is empty). */
    long rows() {
        long r = 1;
        for (long d : outerShape) {
            r *= d;
        }
        return rowLength == 0 ? 0 : r;
    }

    /** The step of operand {@code k} inside a row. */
    long innerStride(int k) {
        return innerStrides[k];
    }

    /** True when every operand steps by 0 (broadcast) or 1 (contiguous) inside a row. */
    boolean rowsAreUnitOrBroadcast() {
        for (long s : innerStrides) {
            if (s != 0 && s != 1) {
                return false;
            }
        }
        return true;
    }

    /** Offset of the first element of {@code row} in operand {@code k}. */
    long offset(int k, long row) {
        if (outerShape.length == 1) {
            // the usual (rows, row) layout: no division (two per row piece were 2.5% of W5's eager step in JFR)
            return row * outerStrides[k][0];
        }
        long off = 0;
        long r = row;
        long[] s = outerStrides[k];
        for (int d = outerShape.length - 1; d >= 0 && r != 0; d--) {
            off += (r % outerShape[d]) * s[d];
            r /= outerShape[d];
        }
        return off;
    }
}
