package dev.nabla.cpu;

import dev.nabla.DType;

/**
 * Scalar twins of the Vector API kernels whose bits depend on their order of operations, used when the Vector API
 * is absent ({@link VectorSupport}): sums in {@link SumOrder}'s order and matmuls with the same fused multiply-adds
 * per output element as {@link FloatGemm} (a chain per {@code FloatGemm.KC} block, the blocks added to C) and
 * {@link DoubleGemm} (one chain over all of k). Element-wise ops need no twin: their fallback is the scalar
 * definition itself.
 */
final class ScalarKernels {
    private ScalarKernels() {
    }

    /** SUM of FLOAT32 or FLOAT64 {@code (outer, n, inner)} into {@code (outer, inner)}, in SumOrder's order. */
    static void sum(CpuBuffer x, int outer, int n, int inner, CpuBuffer y) {
        boolean f32 = x.dtype() == DType.FLOAT32;
        Parallel.range(outer * inner, Math.max(1, Parallel.ELEMENTWISE_GRAIN / Math.max(n, 1)), (lo, hi) -> {
            double[] lanes = new double[SumOrder.LANES];
            double[] block = inner == 1 ? new double[Math.min(n, SumOrder.BLOCK)] : null;
            for (int p = lo; p < hi; p++) {
                int base = (p / inner) * n * inner + p % inner;
                y.set(p, n == 0 ? 0 : inner == 1 ? contiguous(x, base, n, f32, block, lanes)
                        : strided(x, base, n, inner, f32));
            }
        });
    }

    /**
     * One addition in the element dtype. NOTE: a float sum computed in double and rounded once is the float sum
     * (double has more than twice float's precision), so one double loop serves both dtypes.
     */
    private static double add(double a, double b, boolean f32) {
        return f32 ? (float) (a + b) : a + b;
    }

    private static double contiguous(CpuBuffer x, int from, int n, boolean f32, double[] block, double[] lanes) {
        double total = 0;
        for (int b = 0; b < n; b += SumOrder.BLOCK) {
            int len = Math.min(SumOrder.BLOCK, n - b);
            for (int i = 0; i < len; i++) {
                block[i] = x.get(from + b + i);
            }
            total += blockSum(block, len, f32, lanes);
        }
        return total;
    }

    /** One block of {@code values[0, len)} in SumOrder's order, each addition in the element dtype. */
    static double blockSum(double[] values, int len, boolean f32, double[] lanes) {
        java.util.Arrays.fill(lanes, 0);
        for (int i = 0; i < len; i++) {
            lanes[i % SumOrder.LANES] = add(lanes[i % SumOrder.LANES], values[i], f32);
        }
        for (int w = SumOrder.LANES / 2; w > 0; w /= 2) {
            for (int j = 0; j < w; j++) {
                lanes[j] = add(lanes[j], lanes[j + w], f32);
            }
        }
        return lanes[0];
    }

    /** FLOAT64: one running sum from the first value; FLOAT32: runs of SumOrder.ROWS in float, met in double. */
    private static double strided(CpuBuffer x, int base, int n, int stride, boolean f32) {
        int run = f32 ? SumOrder.ROWS : n;
        double total = 0;
        for (int k0 = 0; k0 < n; k0 += run) {
            double acc = x.get(base + k0 * stride);
            for (int k = k0 + 1; k < Math.min(n, k0 + run); k++) {
                acc = add(acc, x.get(base + k * stride), f32);
            }
            total = f32 ? total + acc : acc;   // FLOAT64 has one run, kept as it is (-0 included)
        }
        return total;
    }

    /** One batch of {@code c = op(a) · op(b)}, FLOAT32 or FLOAT64, with the vector GEMMs' arithmetic per element. */
    static void matmul(CpuBuffer a, int aOff, boolean ta, CpuBuffer b, int bOff, boolean tb, CpuBuffer c, int cOff,
            int m, int k, int n) {
        int grain = (int) Math.max(1, (2L << 20) / Math.max(1L, 2L * n * k));   // as the vector GEMMs
        if (a.dtype() == DType.FLOAT32) {
            float[] x = a.floats();
            float[] y = b.floats();
            float[] z = c.floats();
            Parallel.range(m, grain, (lo, hi) -> {
                for (int i = lo; i < hi; i++) {
                    for (int j = 0; j < n; j++) {
                        float total = 0;
                        for (int pc = 0; pc < k; pc += FloatGemm.KC) {
                            float acc = 0;
                            for (int p = pc; p < Math.min(k, pc + FloatGemm.KC); p++) {
                                acc = Math.fma(x[aOff + (ta ? p * m + i : i * k + p)],
                                        y[bOff + (tb ? j * k + p : p * n + j)], acc);
                            }
                            total = pc == 0 ? acc : total + acc;
                        }
                        z[cOff + i * n + j] = total;
                    }
                }
            });
            return;
        }
        double[] x = a.doubles();
        double[] y = b.doubles();
        double[] z = c.doubles();
        Parallel.range(m, grain, (lo, hi) -> {
            for (int i = lo; i < hi; i++) {
                for (int j = 0; j < n; j++) {
                    double acc = 0;
                    for (int p = 0; p < k; p++) {
                        acc = Math.fma(x[aOff + (ta ? p * m + i : i * k + p)], y[bOff + (tb ? j * k + p : p * n + j)],
                                acc);
                    }
                    z[cOff + i * n + j] = acc;
                }
            }
        });
    }
}
