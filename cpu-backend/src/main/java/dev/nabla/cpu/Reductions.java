package dev.nabla.cpu;

import dev.nabla.backend.ReduceOp;

/** Generic (any dtype, any layout) reductions of {@code (outer, n, inner)} to {@code (outer, inner)}. */
final class Reductions {
    private Reductions() {
    }

    static void generic(ReduceOp op, CpuBuffer x, int outer, int n, int inner, CpuBuffer y) {
        Parallel.range(outer * inner, Math.max(1, Parallel.ELEMENTWISE_GRAIN / Math.max(n, 1)), (lo, hi) -> {
            for (int p = lo; p < hi; p++) {
                int o = p / inner;
                int i = p % inner;
                int base = o * n * inner + i;
                y.set(p, reduceOne(op, x, base, n, inner));
            }
        });
    }

    private static double reduceOne(ReduceOp op, CpuBuffer x, int base, int n, int stride) {
        switch (op) {
            case SUM -> {
                if (x.dtype() == dev.nabla.DType.INT32) {
                    // INT32 sums wrap in two's complement, as every INT32 op does
                    int[] values = x.ints();
                    int acc = 0;
                    for (int k = 0; k < n; k++) {
                        acc += values[base + k * stride];
                    }
                    return acc;
                }
                // double accumulation: exact for float32 inputs summing to < 2^53
                double acc = 0;
                for (int k = 0; k < n; k++) {
                    acc += x.get(base + k * stride);
                }
                return acc;
            }
            case MAX, MIN -> {
                double best = x.get(base);
                for (int k = 1; k < n; k++) {
                    double v = x.get(base + k * stride);
                    best = op == ReduceOp.MAX ? Math.max(best, v) : Math.min(best, v);
                }
                return best;
            }
            case ARGMAX -> {
                // NOTE: NaN counts as the maximum (its first occurrence wins), as NumPy's argmax
                int best = 0;
                double bv = x.get(base);
                for (int k = 1; k < n && !Double.isNaN(bv); k++) {
                    double v = x.get(base + k * stride);
                    if (v > bv || Double.isNaN(v)) {
                        bv = v;
                        best = k;
                    }
                }
                return best;
            }
            default -> throw new IllegalArgumentException("unknown reduction " + op);
        }
    }
}
