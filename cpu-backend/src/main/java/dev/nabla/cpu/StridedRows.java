package dev.nabla.cpu;

/**
 * Walks the index space of a shape one innermost row at a time, keeping the element offset of each operand from
 * its strides: the loop structure every strided CPU kernel shares.
 */
final class StridedRows {
    private StridedRows() {
    }

    /** Receives one row: the operands' offsets of its first element and the row length. */
    @FunctionalInterface
    interface Row {
        void visit(long row, long[] offsets, int length);
    }

    /**
     * Calls {@code row} for each innermost row of {@code shape}, in row-major order; {@code strides[k]} are the
     * element strides of operand k and {@code bases[k]} its starting offset.
     */
    static void forEach(long[] shape, long[][] strides, long[] bases, Row row) {
        forRows(shape, strides, bases, 0, rows(shape), row);
    }

    /** The number of innermost rows of {@code shape} (0 when it is empty). */
    static long rows(long[] shape) {
        long total = 1;
        for (long d : shape) {
            total *= d;
        }
        return total == 0 ? 0 : total / (shape.length == 0 ? 1 : shape[shape.length - 1]);
    }

    /** {@link #forEach} over rows {@code [from, to)} only, so that threads can share the rows of one walk. */
    static void forRows(long[] shape, long[][] strides, long[] bases, long from, long to, Row row) {
        int rank = shape.length;
        if (from >= to) {
            return;
        }
        int length = rank == 0 ? 1 : (int) shape[rank - 1];
        int k = strides.length;
        long[] offsets = bases.clone();
        long[] counter = new long[Math.max(rank - 1, 0)];
        long rest = from;
        for (int d = rank - 2; d >= 0; d--) {
            counter[d] = rest % shape[d];
            rest /= shape[d];
            for (int j = 0; j < k; j++) {
                offsets[j] += counter[d] * strides[j][d];
            }
        }
        for (long r = from; r < to; r++) {
            row.visit(r, offsets, length);
            for (int d = rank - 2; d >= 0; d--) {
                counter[d]++;
                for (int j = 0; j < k; j++) {
                    offsets[j] += strides[j][d];
                }
                if (counter[d] < shape[d]) {
                    break;
                }
                for (int j = 0; j < k; j++) {
                    offsets[j] -= strides[j][d] * shape[d];
                }
                counter[d] = 0;
            }
        }
    }

    /** The stride of the innermost dimension (0 for a scalar). */
    static long inner(long[] strides) {
        return strides.length == 0 ? 0 : strides[strides.length - 1];
    }

    /** True when {@code strides} are the dense row-major strides of {@code shape}. */
    static boolean isDense(long[] shape, long[] strides) {
        long expected = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            if (shape[i] != 1 && strides[i] != expected) {
                return false;
            }
            expected *= shape[i];
        }
        return true;
    }

    /** True when every stride is 0 (one element read everywhere). */
    static boolean isScalar(long[] strides) {
        for (long s : strides) {
            if (s != 0) {
                return false;
            }
        }
        return true;
    }
}
