package dev.nabla.cpu;

import dev.nabla.DType;

/** Batched matrix multiplication: dispatch by dtype, batch offsets, and the reference triple loop. */
final class Gemm {
    private Gemm() {
    }

    /** One matrix product of a batch: where its operands and its result start. */
    record Batch(int aOff, int bOff, int cOff) {
    }

    /**
     * Batched {@code out[b] = op(a[b]) · op(b[b])} as {@link dev.nabla.backend.Backend#matmul} defines it:
     * FLOAT32 and FLOAT64 through the packed, register-blocked {@link FloatGemm} and {@link DoubleGemm} (twins, each in
     * its dtype's order of FMAs: {@link ScalarKernels#matmul}), INT32 through the reference loop.
     */
    static void batched(CpuBuffer a, long[] aBatchStrides, boolean ta, CpuBuffer b, long[] bBatchStrides, boolean tb,
            CpuBuffer out, long[] batchShape, int m, int k, int n) {
        int batches = 1;
        for (long d : batchShape) {
            batches *= (int) d;
        }
        long[] aOff = offsets(batchShape, aBatchStrides, batches);
        long[] bOff = offsets(batchShape, bBatchStrides, batches);
        if ((a.dtype() == DType.FLOAT32 || a.dtype() == DType.FLOAT64) && !VectorSupport.AVAILABLE) {
            for (int bi = 0; bi < batches; bi++) {
                ScalarKernels.matmul(a, (int) aOff[bi], ta, b, (int) bOff[bi], tb, out, bi * m * n, m, k, n);
            }
            return;
        }
        if (a.dtype() == DType.FLOAT32 || a.dtype() == DType.FLOAT64) {
            Batch[] plan = new Batch[batches];
            for (int bi = 0; bi < batches; bi++) {
                plan[bi] = new Batch((int) aOff[bi], (int) bOff[bi], bi * m * n);
            }
            if (a.dtype() == DType.FLOAT32) {
                FloatGemm.multiply(a.floats(), ta, b.floats(), tb, out.floats(), plan, m, k, n, out.pool());
            } else {
                DoubleGemm.multiply(a.doubles(), ta, b.doubles(), tb, out.doubles(), plan, m, k, n, out.pool());
            }
            return;
        }
        for (int bi = 0; bi < batches; bi++) {
            reference(a, (int) aOff[bi], ta, b, (int) bOff[bi], tb, out, bi * m * n, m, k, n);
        }
    }

    /**
     * Whether {@link FloatGemm#multiplyCol2im} (and its FLOAT64 twin) takes a product of (m, n) with B in
     * {@code bRuns} (null: dense) as the columns of {@code g}: m is its rows and n its columns, and every image's first
     * column starts a run of B, so that the image groups' parts of B are B's layout again.
     */
    static boolean imagesAligned(Runs bRuns, long m, long n, dev.nabla.backend.WindowGeometry g) {
        long plane = (long) g.outH() * g.outW();
        return m == g.rows() && n == g.columns() && (bRuns == null || plane % bRuns.run() == 0);
    }

    /** The offset of each batch from the batch strides, row-major over the batch shape. */
    static long[] offsets(long[] shape, long[] strides, int count) {
        long[] off = new long[count];
        long[] idx = new long[shape.length];
        for (int i = 0; i < count; i++) {
            long o = 0;
            for (int d = 0; d < shape.length; d++) {
                o += idx[d] * strides[d];
            }
            off[i] = o;
            for (int d = shape.length - 1; d >= 0; d--) {
                if (++idx[d] < shape[d]) {
                    break;
                }
                idx[d] = 0;
            }
        }
        return off;
    }

    /** The plain triple loop over any dtype: INT32 in int arithmetic (wrapping), the others accumulating in double. */
    static void reference(CpuBuffer a, int aOff, boolean ta, CpuBuffer b, int bOff, boolean tb, CpuBuffer c, int cOff,
            int m, int k, int n) {
        if (a.dtype() == DType.INT32) {
            int[] x = a.ints();
            int[] y = b.ints();
            int[] z = c.ints();
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    int acc = 0;
                    for (int p = 0; p < k; p++) {
                        acc += x[aOff + (ta ? p * m + i : i * k + p)] * y[bOff + (tb ? j * k + p : p * n + j)];
                    }
                    z[cOff + i * n + j] = acc;
                }
            }
            return;
        }
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double acc = 0;
                for (int p = 0; p < k; p++) {
                    double av = a.get(aOff + (ta ? p * m + i : i * k + p));
                    double bv = b.get(bOff + (tb ? j * k + p : p * n + j));
                    acc += av * bv;
                }
                c.set(cOff + i * n + j, acc);
            }
        }
    }
}
