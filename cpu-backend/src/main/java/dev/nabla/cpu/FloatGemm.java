package dev.nabla.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * FLOAT32 GEMM in the BLIS structure: B is packed once into panels of {@link #NR} columns (all of K, shared by the
 * threads), each thread packs its own block of {@link #MC} rows × {@link #KC} of A into panels of {@link #MR} rows,
 * and a register-blocked micro-kernel computes one {@code MR × NR} tile of C per call with FMAs.
 *
 * <p>Why these sizes (reference machine: Zen 4 under AVX2, so 16 ymm registers, 32 KiB L1d, 1 MiB L2 per core):
 * C2 hoists every broadcast of A into its own register, so a kernel needs {@code MR·V + V + MR} registers for
 * {@code MR} rows and {@code V} vectors of columns. 3 × 3 takes 15 and keeps 9 independent FMA chains (enough for
 * 2 FMAs/cycle at 4-cycle latency); 6 × 2 and 4 × 3 (12 accumulators) spilled accumulators to the stack and ran at
 * half the speed. A B micro-panel ({@code KC × NR} floats, 24 KiB) stays in L1 while every A panel of the block
 * passes, and the {@code MC × KC} A block (192 KiB) stays in L2 while the thread walks across all of N. Packing
 * from either layout is how transposed operands cost nothing extra.
 */
final class FloatGemm {
    private static final VectorSpecies<Float> F = FloatLanes.F;
    private static final int L = F.length();
    static final int MR = 3;
    static final int NR = 3 * L;
    static final int KC = 256;
    static final int MC = 64 * MR;
    /** Depths per slab of a transposed B panel's packing: 64 × NR floats, 12 KiB at 16 lanes. */
    private static final int PACK_SLAB = 64;

    private FloatGemm() {
    }

    /**
     * {@code c[batch] = op(a[batch]) · op(b[batch])} for every batch, dense (m, n) results; {@code a} is (m, k) or
     * (k, m) when {@code ta}, {@code b} is (k, n) or (n, k) when {@code tb}.
     */
    static void multiply(float[] a, boolean ta, float[] b, boolean tb, float[] c, Gemm.Batch[] batches, int m, int k,
            int n, BufferPool pool) {
        if (m == 0 || n == 0 || batches.length == 0) {
            return;
        }
        if (k == 0) {
            java.util.Arrays.fill(c, 0, batches.length * m * n, 0f);
            return;
        }
        int nPanels = (n + NR - 1) / NR;
        int mPanels = (m + MR - 1) / MR;
        int panelSize = k * NR;
        int packedLength = batches.length * nPanels * panelSize;
        float[] packedB = (float[]) pool.take(dev.nabla.DType.FLOAT32, packedLength);
        try {
            long flops = 2L * m * n * k;
            Parallel.range(batches.length * nPanels, grain(flops / nPanels), (lo, hi) -> {
                for (int t = lo; t < hi; t++) {
                    Gemm.Batch bt = batches[t / nPanels];
                    packB(b, bt.bOff(), tb, k, n, (t % nPanels) * NR, packedB, t * panelSize);
                }
            });
            // split N too when there are fewer row panels than threads (a matrix-vector product, say)
            int rowItems = batches.length * mPanels;
            int nParts = rowItems >= Parallel.THREADS ? 1 : Math.min(nPanels, Parallel.THREADS);
            int items = rowItems * nParts;
            Parallel.range(items, grain(flops / (mPanels * nParts)), (lo, hi) -> {
                float[] packedA = (float[]) pool.take(dev.nabla.DType.FLOAT32, MC * KC);
                float[] edge = new float[MR * NR];
                try {
                    int t = lo;
                    while (t < hi) {
                        int batch = t / (mPanels * nParts);
                        int part = (t / mPanels) % nParts;
                        int panel0 = t % mPanels;
                        int count = Math.min(Math.min(hi - t, mPanels - panel0), MC / MR);
                        Gemm.Batch bt = batches[batch];
                        int j0 = (int) ((long) nPanels * part / nParts);
                        int j1 = (int) ((long) nPanels * (part + 1) / nParts);
                        block(a, bt.aOff(), ta, packedB, batch * nPanels * panelSize, c, bt.cOff(), m, k, n,
                                panel0 * MR, count, j0, j1, packedA, edge);
                        t += count;
                    }
                } finally {
                    pool.give(dev.nabla.DType.FLOAT32, packedA);
                }
            });
        } finally {
            pool.give(dev.nabla.DType.FLOAT32, packedB);
        }
    }

    private static int grain(long flopsPerItem) {
        // NOTE: about 2 MFLOP (tens of µs) per chunk pays for waking a worker; smaller products stay on the caller
        return (int) Math.max(1, (2L << 20) / Math.max(1, flopsPerItem));
    }

    /** Rows {@code [i0, i0 + panels·MR)} of C times the B panels {@code [j0, j1)}, over all of K. */
    private static void block(float[] a, int aOff, boolean ta, float[] packedB, int bBase, float[] c, int cOff,
            int m, int k, int n, int i0, int panels, int j0, int j1, float[] packedA, float[] edge) {
        for (int pc = 0; pc < k; pc += KC) {
            int kc = Math.min(KC, k - pc);
            boolean accumulate = pc > 0;
            for (int ip = 0; ip < panels; ip++) {
                packA(a, aOff, ta, m, k, i0 + ip * MR, pc, kc, packedA, ip * kc * MR);
            }
            for (int jp = j0; jp < j1; jp++) {
                int j = jp * NR;
                int bAt = bBase + jp * k * NR + pc * NR;
                for (int ip = 0; ip < panels; ip++) {
                    int i = i0 + ip * MR;
                    if (i + MR <= m && j + NR <= n) {
                        microKernel(kc, packedA, ip * kc * MR, packedB, bAt, c, cOff + i * n + j, n, accumulate);
                    } else {
                        microKernel(kc, packedA, ip * kc * MR, packedB, bAt, edge, 0, NR, false);
                        int rows = Math.min(MR, m - i);
                        int cols = Math.min(NR, n - j);
                        for (int r = 0; r < rows; r++) {
                            int at = cOff + (i + r) * n + j;
                            for (int q = 0; q < cols; q++) {
                                c[at + q] = accumulate ? c[at + q] + edge[r * NR + q] : edge[r * NR + q];
                            }
                        }
                    }
                }
            }
        }
    }

    /** Packs A rows {@code [i, i + MR)} × depth {@code [pc, pc + kc)} as {@code kc} groups of MR, zero past m. */
    private static void packA(float[] a, int aOff, boolean ta, int m, int k, int i, int pc, int kc, float[] dst,
            int at) {
        int rows = Math.min(MR, m - i);
        if (ta) {
            // stored (k, m): the MR values of one depth are contiguous
            for (int p = 0; p < kc; p++) {
                int src = aOff + (pc + p) * m + i;
                int d = at + p * MR;
                for (int r = 0; r < rows; r++) {
                    dst[d + r] = a[src + r];
                }
                for (int r = rows; r < MR; r++) {
                    dst[d + r] = 0f;
                }
            }
            return;
        }
        for (int r = 0; r < MR; r++) {
            if (r < rows) {
                int src = aOff + (i + r) * k + pc;
                for (int p = 0; p < kc; p++) {
                    dst[at + p * MR + r] = a[src + p];
                }
            } else {
                for (int p = 0; p < kc; p++) {
                    dst[at + p * MR + r] = 0f;
                }
            }
        }
    }

    /** Packs B columns {@code [j, j + NR)} over all of K as {@code k} rows of NR, zero past n. */
    private static void packB(float[] b, int bOff, boolean tb, int k, int n, int j, float[] dst, int at) {
        int cols = Math.min(NR, n - j);
        if (tb) {
            // stored (n, k): one column of op(B) is contiguous; transposed in slabs of depth so that the slab of
            // the panel being written stays in L1 while the NR columns are read (a long K otherwise evicts it)
            for (int p0 = 0; p0 < k; p0 += PACK_SLAB) {
                int p1 = Math.min(k, p0 + PACK_SLAB);
                for (int q = 0; q < NR; q++) {
                    int src = bOff + (j + q) * k;
                    for (int p = p0; p < p1; p++) {
                        dst[at + p * NR + q] = q < cols ? b[src + p] : 0f;
                    }
                }
            }
            return;
        }
        for (int p = 0; p < k; p++) {
            int d = at + p * NR;
            System.arraycopy(b, bOff + p * n + j, dst, d, cols);
            if (cols < NR) {
                java.util.Arrays.fill(dst, d + cols, d + NR, 0f);
            }
        }
    }

    /**
     * {@code C[MR × NR] (+)= Apanel · Bpanel} over {@code kc}: the accumulators live in registers for the whole
     * depth and C is touched once at the end.
     */
    static void microKernel(int kc, float[] ap, int aAt, float[] bp, int bAt, float[] c, int cAt, int ldc,
            boolean accumulate) {
        FloatVector c00 = FloatVector.zero(F);
        FloatVector c01 = FloatVector.zero(F);
        FloatVector c02 = FloatVector.zero(F);
        FloatVector c10 = FloatVector.zero(F);
        FloatVector c11 = FloatVector.zero(F);
        FloatVector c12 = FloatVector.zero(F);
        FloatVector c20 = FloatVector.zero(F);
        FloatVector c21 = FloatVector.zero(F);
        FloatVector c22 = FloatVector.zero(F);
        for (int p = 0; p < kc; p++) {
            int bi = bAt + p * NR;
            int ai = aAt + p * MR;
            FloatVector b0 = FloatVector.fromArray(F, bp, bi);
            FloatVector b1 = FloatVector.fromArray(F, bp, bi + L);
            FloatVector b2 = FloatVector.fromArray(F, bp, bi + 2 * L);
            FloatVector a0 = FloatVector.broadcast(F, ap[ai]);
            c00 = a0.fma(b0, c00);
            c01 = a0.fma(b1, c01);
            c02 = a0.fma(b2, c02);
            FloatVector a1 = FloatVector.broadcast(F, ap[ai + 1]);
            c10 = a1.fma(b0, c10);
            c11 = a1.fma(b1, c11);
            c12 = a1.fma(b2, c12);
            FloatVector a2 = FloatVector.broadcast(F, ap[ai + 2]);
            c20 = a2.fma(b0, c20);
            c21 = a2.fma(b1, c21);
            c22 = a2.fma(b2, c22);
        }
        // NOTE: C's tile is written inline, not through a helper: a call that C2 declines to inline (the kernel is
        // near its node-count cutoff) would box every accumulator
        if (accumulate) {
            c00 = c00.add(FloatVector.fromArray(F, c, cAt));
            c01 = c01.add(FloatVector.fromArray(F, c, cAt + L));
            c02 = c02.add(FloatVector.fromArray(F, c, cAt + 2 * L));
            c10 = c10.add(FloatVector.fromArray(F, c, cAt + ldc));
            c11 = c11.add(FloatVector.fromArray(F, c, cAt + ldc + L));
            c12 = c12.add(FloatVector.fromArray(F, c, cAt + ldc + 2 * L));
            c20 = c20.add(FloatVector.fromArray(F, c, cAt + 2 * ldc));
            c21 = c21.add(FloatVector.fromArray(F, c, cAt + 2 * ldc + L));
            c22 = c22.add(FloatVector.fromArray(F, c, cAt + 2 * ldc + 2 * L));
        }
        c00.intoArray(c, cAt);
        c01.intoArray(c, cAt + L);
        c02.intoArray(c, cAt + 2 * L);
        c10.intoArray(c, cAt + ldc);
        c11.intoArray(c, cAt + ldc + L);
        c12.intoArray(c, cAt + ldc + 2 * L);
        c20.intoArray(c, cAt + 2 * ldc);
        c21.intoArray(c, cAt + 2 * ldc + L);
        c22.intoArray(c, cAt + 2 * ldc + 2 * L);
    }
}
