package dev.nabla.cpu;

import dev.nabla.DType;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * FLOAT64 GEMM, the simpler vectorized form: B is packed row-major (from either layout) and each row of C is
 * built as a sum of B rows scaled by A's entries, with C's row segment and a {@link #KC} × {@link #NC} block of B
 * kept in cache. About a third of {@link FloatGemm}'s speed per lane; float64 matmul is rare in training.
 */
final class DoubleGemm {
    private static final VectorSpecies<Double> D = DoubleLanes.SPECIES;
    private static final int KC = 256;
    private static final int NC = 512;

    private DoubleGemm() {
    }

    /** As {@link FloatGemm#multiply}, for doubles. */
    static void multiply(double[] a, boolean ta, double[] b, boolean tb, double[] c, Gemm.Batch[] batches,
            int m, int k, int n, BufferPool pool) {
        if (m == 0 || n == 0 || batches.length == 0) {
            return;
        }
        java.util.Arrays.fill(c, 0, batches.length * m * n, 0);
        if (k == 0) {
            return;
        }
        double[] rowMajorB = tb ? (double[]) pool.take(DType.FLOAT64, k * n) : null;
        try {
            int grain = (int) Math.max(1, (2L << 20) / Math.max(1L, 2L * n * k));
            for (Gemm.Batch bt : batches) {
                double[] bb = b;
                int bOff = bt.bOff();
                if (tb) {
                    // stored (n, k): transpose into (k, n) once
                    for (int j = 0; j < n; j++) {
                        for (int p = 0; p < k; p++) {
                            rowMajorB[p * n + j] = b[bOff + j * k + p];
                        }
                    }
                    bb = rowMajorB;
                    bOff = 0;
                }
                double[] src = bb;
                int from = bOff;
                Parallel.range(m, grain, (lo, hi) -> rows(a, bt.aOff(), ta, src, from, c, bt.cOff(), m, k, n, lo, hi));
            }
        } finally {
            if (rowMajorB != null) {
                pool.give(DType.FLOAT64, rowMajorB);
            }
        }
    }

    private static void rows(double[] a, int aOff, boolean ta, double[] b, int bOff, double[] c, int cOff, int m,
            int k, int n, int i0, int i1) {
        int step = D.length();
        for (int jc = 0; jc < n; jc += NC) {
            int w = Math.min(NC, n - jc);
            int bound = D.loopBound(w);
            for (int pc = 0; pc < k; pc += KC) {
                int kc = Math.min(KC, k - pc);
                for (int i = i0; i < i1; i++) {
                    int ci = cOff + i * n + jc;
                    for (int p = pc; p < pc + kc; p++) {
                        double aip = a[aOff + (ta ? p * m + i : i * k + p)];
                        DoubleVector s = DoubleVector.broadcast(D, aip);
                        int bi = bOff + p * n + jc;
                        int j = 0;
                        for (; j < bound; j += step) {
                            s.fma(DoubleVector.fromArray(D, b, bi + j), DoubleVector.fromArray(D, c, ci + j))
                                    .intoArray(c, ci + j);
                        }
                        for (; j < w; j++) {
                            c[ci + j] = Math.fma(aip, b[bi + j], c[ci + j]);
                        }
                    }
                }
            }
        }
    }
}
