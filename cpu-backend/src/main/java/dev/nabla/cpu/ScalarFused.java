package dev.nabla.cpu;

import dev.nabla.DType;
import dev.nabla.backend.FusedProgram;

/**
 * A fused program without the Vector API: each element runs the steps' scalar definitions in order, a FLOAT32 step
 * rounded to float as the scalar unfused op stores it, so the bits are the unfused ones; no temporaries.
 */
final class ScalarFused {
    private ScalarFused() {
    }

    static void run(FusedProgram p, CpuBuffer[] in, CpuBuffer out) {
        int n = (int) p.size();
        Parallel.range(n, Parallel.ELEMENTWISE_GRAIN, (lo, hi) -> run(p, in, out::set, lo, hi));
    }

    /** {@code out[r] = sum of the program's result (outer, n) along n}, in {@link SumOrder}'s order, block by block. */
    static void sumRows(FusedProgram p, CpuBuffer[] in, int outer, int n, CpuBuffer out) {
        boolean single = p.dtype() == DType.FLOAT32;
        SumOrder.rows(outer, n, out, (start, len) -> {
            double[] block = new double[len];
            run(p, in, (i, v) -> block[i - start] = v, start, start + len);
            return ScalarKernels.blockSum(block, len, single, new double[SumOrder.LANES]);
        });
    }

    /** Where element {@code i} of the result goes. */
    @FunctionalInterface
    private interface Sink {
        void set(int i, double value);
    }

    private static void run(FusedProgram p, CpuBuffer[] in, Sink out, int lo, int hi) {
        long[] shape = p.shape();
        long[][] strides = p.inputStrides();
        int rank = shape.length;
        long[] idx = new long[rank];
        long rest = lo;
        for (int d = rank - 1; d >= 0; d--) {
            idx[d] = rest % shape[d];
            rest /= shape[d];
        }
        FusedProgram.Step[] steps = p.steps();
        double[] value = new double[steps.length];
        double[] input = new double[in.length];
        boolean single = p.dtype() == DType.FLOAT32;
        for (int i = lo; i < hi; i++) {
            for (int k = 0; k < in.length; k++) {
                long offset = 0;
                for (int d = 0; d < rank; d++) {
                    offset += idx[d] * strides[k][d];
                }
                input[k] = in[k].get((int) offset);
            }
            for (int s = 0; s < steps.length; s++) {
                FusedProgram.Step step = steps[s];
                double a = step.a() >= 0 ? value[step.a()] : input[-1 - step.a()];
                double v = step.unary() != null ? step.unary().apply(a)
                        : step.binary().apply(a, step.b() >= 0 ? value[step.b()] : input[-1 - step.b()]);
                value[s] = single ? (float) v : v;
            }
            out.set(i, value[steps.length - 1]);
            for (int d = rank - 1; d >= 0; d--) {
                if (++idx[d] < shape[d]) {
                    break;
                }
                idx[d] = 0;
            }
        }
    }
}
