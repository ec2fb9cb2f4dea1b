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
            for (int p = lo; p < hi; p++) {
                int base = (p / inner) * n * inner + p % inner;
                y.set(p, n == 0 ? 0 : inner == 1 ? contiguous(x, base, n, f32) : strided(x, base, n, inner, f32));
            }
        });
    }

    private static double contiguous(CpuBuffer x, int from, int n, boolean f32) {
        double total = 0;
        for (int b = 0; b < n; b += SumOrder.BLOCK) {
            int len = Math.min(SumOrder.BLOCK, n - b);
            if (f32) {
                float[] v = x.floats();
                float[] lanes = new float[SumOrder.LANES];
                for (int i = 0; i < len; i++) {
                    lanes[i % SumOrder.LANES] += v[from + b + i];
                }
                for (int w = SumOrder.LANES / 2; w > 0; w /= 2) {
                    for (int j = 0; j < w; j++) {
                        lanes[j] += lanes[j + w];
                    }
                }
                total += lanes[0];
            } else {
                double[] v = x.doubles();
                double[] lanes = new double[SumOrder.LANES];
                for (int i = 0; i < len; i++) {
                    lanes[i % SumOrder.LANES] += v[from + b + i];
                }
                for (int w = SumOrder.LANES / 2; w > 0; w /= 2) {
                    for (int j = 0; j < w; j++) {
                        lanes[j] += lanes[j + w];
                    }
                }
                total += lanes[0];
            }
        }
        return total;
    }

    private static double strided(CpuBuffer x, int base, int n, int stride, boolean f32) {
        if (!f32) {
            double[] v = x.doubles();
            double acc = v[base];
            for (int k = 1; k < n; k++) {
                acc += v[base + k * stride];
            }
            return acc;
        }
        float[] v = x.floats();
        double total = 0;
        for (int k0 = 0; k0 < n; k0 += SumOrder.ROWS) {
            float run = v[base + k0 * stride];
            for (int k = k0 + 1; k < Math.min(n, k0 + SumOrder.ROWS); k++) {
                run += v[base + k * stride];
            }
            total += run;
        }
        return total;
    }

    /** One batch of {@code c = op(a) · op(b)}, FLOAT32 or FLOAT64, with the vector GEMMs' arithmetic per element. */
    static void matmul(CpuBuffer a, int aOff, boolean ta, CpuBuffer b, int bOff, boolean tb, CpuBuffer c, int cOff,
            int m, int k, int n) {
        boolean f32 = a.dtype() == DType.FLOAT32;
        Parallel.range(m, 1, (lo, hi) -> {
            for (int i = lo; i < hi; i++) {
                for (int j = 0; j < n; j++) {
                    double out;
                    if (f32) {
                        float[] x = a.floats();
                        float[] y = b.floats();
                        float total = 0;
                        for (int pc = 0; pc < k; pc += FloatGemm.KC) {
                            float acc = 0;
                            for (int p = pc; p < Math.min(k, pc + FloatGemm.KC); p++) {
                                acc = Math.fma(x[aOff + (ta ? p * m + i : i * k + p)],
                                        y[bOff + (tb ? j * k + p : p * n + j)], acc);
                            }
                            total = pc == 0 ? acc : total + acc;
                        }
                        out = total;
                    } else {
                        double[] x = a.doubles();
                        double[] y = b.doubles();
                        double acc = 0;
                        for (int p = 0; p < k; p++) {
                            acc = Math.fma(x[aOff + (ta ? p * m + i : i * k + p)],
                                    y[bOff + (tb ? j * k + p : p * n + j)], acc);
                        }
                        out = acc;
                    }
                    c.set(cOff + i * n + j, out);
                }
            }
        });
    }
}
