package dev.nabla.backend;

/**
 * Where the elements of a matrix operand lie when its rows are not contiguous: row {@code r} starts at
 * {@code r · rowStride}, and each row is cut into runs of {@code run} contiguous elements, {@code runStride} apart, so
 * element {@code (r, c)} is at {@code r · rowStride + (c / run) · runStride + c % run}. This is a permuted tensor read
 * in place: a convolution's output gradient {@code (N, O, H·W)} read as the {@code (O, N·H·W)} matrix of the kernel
 * gradient's product has {@code rowStride = H·W}, {@code run = H·W}, {@code runStride = O·H·W}.
 *
 * <pre>{@code
 * // the (2, 6) matrix of a (3, 2, 2) buffer permuted to (2, 3, 2): rows 2 apart, runs of 2, 4 apart
 * MatrixRuns runs = new MatrixRuns(2, 2, 4);
 * long at = runs.offset(1, 3);   // 1·2 + (3 / 2)·4 + 3 % 2 = 7
 * }</pre>
 *
 * @param rowStride where consecutive rows start, apart
 * @param run       contiguous elements per run (at least 1; a row's length divided evenly)
 * @param runStride where consecutive runs of a row start, apart
 */
public record MatrixRuns(long rowStride, long run, long runStride) {
    public MatrixRuns {
        if (run < 1 || rowStride < 0 || runStride < 0) {
            throw new IllegalArgumentException("MatrixRuns: run " + run + " must be at least 1 and strides "
                    + rowStride + ", " + runStride + " non-negative");
        }
    }

    /** Where element {@code (r, c)} lies. */
    public long offset(long r, long c) {
        return r * rowStride + c / run * runStride + c % run;
    }

    /**
     * The strides of the same elements as a {@code (rows, cols / run, run)} array, for {@link Backend#copy}: its
     * shape is {@link #shape}.
     */
    public long[] strides() {
        return new long[] {rowStride, runStride, 1};
    }

    /** The {@code (rows, cols / run, run)} shape of a {@code rows × cols} matrix in these runs. */
    public long[] shape(long rows, long cols) {
        return new long[] {rows, cols / run, run};
    }
}
