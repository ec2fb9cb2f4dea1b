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

    /** The {@code rows × cols} matrix at {@code off} copied dense (row-major) into {@code dst}. */
    void copyDense(float[] src, int off, int rows, int cols, float[] dst) {
        for (int r = 0; r < rows; r++) {
            for (int c = 0, end; c < cols; c = end) {
                end = Math.min(cols, runEnd(c));
                System.arraycopy(src, off + r * rowStride + col(c), dst, r * cols + c, end - c);
            }
        }
    }

    /** The dense (row-major) {@code rows × cols} matrix at {@code src[from]} copied into these runs at {@code off}. */
    void copyFromDense(float[] src, int from, int rows, int cols, float[] dst, int off) {
        for (int r = 0; r < rows; r++) {
            for (int c = 0, end; c < cols; c = end) {
                end = Math.min(cols, runEnd(c));
                System.arraycopy(src, from + r * cols + c, dst, off + r * rowStride + col(c), end - c);
            }
        }
    }
}
