package dev.nabla.cpu;

import dev.nabla.backend.MatrixRuns;

/**
 * {@link MatrixRuns} in int offsets for the kernels: element {@code (r, c)} of a matrix operand is at
 * {@code r · rowStride + col(c)}. A dense matrix of {@code cols} columns is one run a row ({@link #dense}).
 */
record Runs(int rowStride, int run, int runStride) {
    static Runs of(MatrixRuns runs) {
        return runs == null ? null : new Runs(Math.toIntExact(runs.rowStride()), Math.toIntExact(runs.run()),
                Math.toIntExact(runs.runStride()));
    }

    static Runs dense(int cols) {
        return new Runs(cols, Math.max(1, cols), 0);
    }

    /** Where column {@code c} of a row lies from the row's start. */
    int col(int c) {
        return c / run * runStride + c % run;
    }

    /** One past the last column of the run that holds column {@code c}. */
    int runEnd(int c) {
        return (c / run + 1) * run;
    }

    /**
     * The {@code rows × cols} matrix at {@code src[srcOff]} in layout {@code from} copied to {@code dst[dstOff]} in
     * layout {@code to} (either {@link #dense}), a stretch within one run of both at a time; {@code src} and
     * {@code dst} are arrays of one element type.
     */
    static void copy(Object src, int srcOff, Runs from, Object dst, int dstOff, Runs to, int rows, int cols) {
        for (int r = 0; r < rows; r++) {
            for (int c = 0, end; c < cols; c = end) {
                end = Math.min(cols, Math.min(from.runEnd(c), to.runEnd(c)));
                System.arraycopy(src, srcOff + r * from.rowStride + from.col(c), dst, dstOff + r * to.rowStride
                        + to.col(c), end - c);
            }
        }
    }
}
