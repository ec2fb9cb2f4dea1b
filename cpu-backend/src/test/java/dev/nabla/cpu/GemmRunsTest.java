package dev.nabla.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.nabla.DType;
import dev.nabla.backend.Buffer;
import dev.nabla.backend.MatrixRuns;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Products whose operands are read, and whose result is written, through {@link MatrixRuns} (a permuted tensor read in
 * place, a product written in its reader's permuted layout) have the bits of the same product of dense matrices:
 * every transpose, any of A, B and C in runs, runs that do and do not divide the panels and the transposition
 * blocks, gaps between runs (left untouched), and W7's five convolution products that a traced plan runs this way;
 * FLOAT32 and FLOAT64 each (W7's products in FLOAT32).
 */
class GemmRunsTest {
    private final CpuBackend backend = TestBuffers.backend();
    private final Random random = new Random(17);

    @Test
    void productsOfOperandsInRunsEqualThoseOfTheDenseCopies() {
        int[][] shapes = {{1, 1, 1}, {3, 4, 5}, {7, 12, 33}, {FloatGemm.MR + 1, FloatGemm.KC + 4, 3 * FloatGemm.NR + 2},
            {40, 30, 2 * FloatGemm.NR}, {13, 300, FloatGemm.NR_NARROW}, {2, 2 * FloatGemm.KC + 6, 9},
            {16, 50 * FloatGemm.KC + 16, 9}, {5, 9, 3 * FloatGemm.NR_NARROW + 3}, {0, 4, 6}, {4, 0, 6}, {4, 6, 0}};
        for (DType t : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            for (int[] s : shapes) {
                for (int flags = 0; flags < 32; flags++) {
                    check(t, s[0], s[1], s[2], (flags & 1) != 0, (flags & 2) != 0, (flags & 4) != 0,
                            (flags & 8) != 0, (flags & 16) != 0, flags % 3);
                }
            }
        }
    }

    /**
     * W7's kernel gradients {@code g·colsᵀ} and its input gradient {@code kernelᵀ·g}, with g the (N, O, H·W)
     * output gradient read as (O, N·H·W), and its forward products {@code kernel·cols} written as (N, O, H·W): runs
     * of 784 and 196 (196 is no multiple of the panel width or of the eight-depth transposition blocks).
     */
    @Test
    void w7sConvolutionProductsReadAndWriteTheirImagesInPlace() {
        for (int gap : new int[] {0, 3}) {
            checkRuns(16, 64 * 784, 9, false, true, 784, gap, 'a');
            checkRuns(32, 64 * 196, 144, false, true, 196, gap, 'a');
            checkRuns(144, 32, 64 * 196, true, false, 196, gap, 'b');
            checkRuns(16, 9, 64 * 784, false, false, 784, gap, 'c');
            checkRuns(32, 144, 64 * 196, false, false, 196, gap, 'c');
        }
    }

    /**
     * A B in runs shorter than a panel: each panel's columns span several runs (and the last panel is a partial wide
     * one), so they are packed a piece within one run at a time.
     */
    @Test
    void panelsThatSpanSeveralRunsArePackedPieceByPiece() {
        int n = 3 * FloatGemm.NR_NARROW + 3;
        for (int run : new int[] {1, 3}) {
            for (int gap : new int[] {0, 2}) {
                checkRuns(9, FloatGemm.KC + 20, n, false, false, run, gap, 'b');
                checkRuns(9, FloatGemm.KC + 20, n, true, false, run, gap, 'b');
            }
        }
    }

    private void check(DType t, int m, int k, int n, boolean ta, boolean tb, boolean aInRuns, boolean bInRuns,
            boolean cInRuns, int gap) {
        int aRows = ta ? k : m;
        int aCols = ta ? m : k;
        int bRows = tb ? n : k;
        int bCols = tb ? k : n;
        Operand a = aInRuns ? Operand.inRuns(t, aRows, aCols, divisor(aCols), gap, random)
                : Operand.dense(t, aRows, aCols, random);
        Operand b = bInRuns ? Operand.inRuns(t, bRows, bCols, divisor(bCols), gap, random)
                : Operand.dense(t, bRows, bCols, random);
        compare(t, a, b, cInRuns ? runs(m, n, divisor(n), gap) : null, m, k, n, ta, tb);
    }

    private void checkRuns(int m, int k, int n, boolean ta, boolean tb, int run, int gap, char inRuns) {
        // FLOAT64 on the small shapes only: the same code as FLOAT32's, and in the width-64 execution a one-lane
        // DoubleVector runs on the Vector API's Java fallback, where W7's products took 20 s
        boolean small = (long) m * k * n < 1_000_000;
        for (DType t : small ? new DType[] {DType.FLOAT32, DType.FLOAT64} : new DType[] {DType.FLOAT32}) {
            checkRuns(t, m, k, n, ta, tb, run, gap, inRuns);
        }
    }

    private void checkRuns(DType t, int m, int k, int n, boolean ta, boolean tb, int run, int gap, char inRuns) {
        Operand a = inRuns == 'a' ? Operand.inRuns(t, ta ? k : m, ta ? m : k, run, gap, random)
                : Operand.dense(t, ta ? k : m, ta ? m : k, random);
        Operand b = inRuns == 'b' ? Operand.inRuns(t, tb ? n : k, tb ? k : n, run, gap, random)
                : Operand.dense(t, tb ? n : k, tb ? k : n, random);
        compare(t, a, b, inRuns == 'c' ? runs(m, n, run, gap) : null, m, k, n, ta, tb);
    }

    /** The result in runs: as a permuted (n / run, m, run) tensor, {@code gap} unused elements between blocks. */
    private static MatrixRuns runs(int rows, int cols, int run, int gap) {
        return new MatrixRuns(run, run, (long) rows * run + gap);
    }

    private void compare(DType t, Operand a, Operand b, MatrixRuns cRuns, int m, int k, int n, boolean ta,
            boolean tb) {
        Buffer expected = backend.allocate(t, (long) m * n);
        int size = m * n == 0 ? 0 : cRuns == null ? m * n : (int) cRuns.offset(m - 1, n - 1) + 1 + 2;
        Buffer got = backend.allocate(t, size);
        backend.fill(got, Double.NaN);
        backend.matmul(upload(a.dense, t), new long[0], ta, upload(b.dense, t), new long[0], tb, expected,
                new long[0], m, k, n);
        backend.matmul(upload(a.stored, t), a.runs, ta, upload(b.stored, t), b.runs, tb, got, cRuns, m, k, n);
        String what = t + " m=" + m + " k=" + k + " n=" + n + " ta=" + ta + " tb=" + tb + " a " + a.runs + " b "
                + b.runs + " c " + cRuns;
        double[] all = backend.readDoubles(got);
        double[] dense = new double[m * n];
        boolean[] written = new boolean[all.length];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                int at = cRuns == null ? i * n + j : (int) cRuns.offset(i, j);
                dense[i * n + j] = all[at];
                written[at] = true;
            }
        }
        assertArrayEquals(backend.readDoubles(expected), dense, what);
        for (int e = 0; e < all.length; e++) {
            if (!written[e] && !Double.isNaN(all[e])) {
                throw new AssertionError(what + ": element " + e + " outside the result was written: " + all[e]);
            }
        }
    }

    private Buffer upload(double[] v, DType t) {
        return TestBuffers.upload(backend, v, t);
    }

    /** A divisor of {@code cols}: 1, cols itself, or one between, so runs of every length occur. */
    private int divisor(int cols) {
        if (cols <= 1) {
            return 1;
        }
        int[] d = java.util.stream.IntStream.rangeClosed(1, cols).filter(x -> cols % x == 0).toArray();
        return d[random.nextInt(d.length)];
    }

    /** An operand's dense values and the same values stored in runs (or dense, with null runs). */
    private record Operand(double[] dense, double[] stored, MatrixRuns runs) {
        static Operand dense(DType t, int rows, int cols, Random random) {
            double[] v = values(t, rows * cols, random);
            return new Operand(v, v, null);
        }

        /**
         * Stored as a permuted (cols / run, rows, run) tensor, {@code gap} unused elements after each run block of
         * all rows; the unused elements are NaN, so reading one shows.
         */
        static Operand inRuns(DType t, int rows, int cols, int run, int gap, Random random) {
            double[] v = values(t, rows * cols, random);
            MatrixRuns runs = new MatrixRuns(run, run, (long) rows * run + gap);
            double[] stored = new double[cols == 0 || rows == 0 ? 0
                    : (int) runs.offset(rows - 1, cols - 1) + 1 + gap];
            Arrays.fill(stored, Double.NaN);
            for (int r = 0; r < rows; r++) {
                for (int c = 0; c < cols; c++) {
                    stored[(int) runs.offset(r, c)] = v[r * cols + c];
                }
            }
            return new Operand(v, stored, runs);
        }

        private static double[] values(DType t, int size, Random random) {
            double[] v = new double[size];
            for (int i = 0; i < size; i++) {
                v[i] = t == DType.FLOAT32 ? (float) random.nextGaussian() : random.nextGaussian();
            }
            return v;
        }
    }
}
