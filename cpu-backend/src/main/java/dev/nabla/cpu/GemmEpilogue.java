package dev.nabla.cpu;

import dev.nabla.backend.BinaryOp;
import dev.nabla.backend.MatrixEpilogue;
import dev.nabla.backend.UnaryOp;

/**
 * A {@link MatrixEpilogue} with its FLOAT32 bias, applied by {@link FloatGemm} to a block of C as soon as the block's
 * values are final, while it is in cache. It runs the element-wise kernels the ops run alone ({@link FloatLanes#row},
 * {@link FloatLanes#unary}), so the bits are theirs.
 */
record GemmEpilogue(MatrixEpilogue what, float[] bias) {
    /** Rows {@code [r0, r1)} and columns {@code [c0, c1)} of the (m, n) result at {@code c[cOff]}, dense or in runs. */
    void apply(float[] c, int cOff, Runs cRuns, int n, int r0, int r1, int c0, int c1) {
        Runs layout = cRuns != null ? cRuns : Runs.dense(n);
        boolean perRow = what.perRow();
        for (int r = r0; r < r1; r++) {
            // each stretch of the row within one run of C (the whole row when C is dense)
            for (int col = c0, end; col < c1; col = end) {
                end = Math.min(c1, layout.runEnd(col));
                int at = cOff + r * layout.rowStride() + layout.col(col);
                int len = end - col;
                int b = perRow ? r : col;
                if (what.biasFirst()) {
                    FloatLanes.row(BinaryOp.ADD, bias, b, perRow, c, at, false, c, null, at, len);
                } else {
                    FloatLanes.row(BinaryOp.ADD, c, at, false, bias, b, perRow, c, null, at, len);
                }
                if (what.relu()) {
                    FloatLanes.unary(UnaryOp.RELU, c, c, at, at + len);
                }
            }
        }
    }

    /** The whole (m, n) result, rows shared among the threads. */
    void applyAll(float[] c, int cOff, Runs cRuns, int m, int n) {
        if (n == 0) {
            return;
        }
        Parallel.range(m, Math.max(1, Parallel.ELEMENTWISE_GRAIN / n), (lo, hi) -> apply(c, cOff, cRuns, n, lo, hi,
                0, n));
    }
}
