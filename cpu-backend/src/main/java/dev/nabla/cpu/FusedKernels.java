package dev.nabla.cpu;

import dev.nabla.DType;
import dev.nabla.backend.FusedProgram;

/**
 * One pass for a fused element-wise program: each thread's range is cut into blocks that stay in L1, and every step
 * runs over a block with the same lane loops the unfused op uses ({@link FloatLanes#unary}, {@link FloatLanes#row}),
 * so each step rounds exactly as the unfused op and the result has the same bits, while the intermediates never go
 * to memory. Inputs must be dense or one broadcast value; other layouts take the backend's step-by-step default.
 */
final class FusedKernels {
    /** Elements per block: 8 KiB of floats per step, a few steps' blocks fit in L1. */
    private static final int BLOCK = 2048;
    private static final ThreadLocal<float[][]> FLOAT_SCRATCH = new ThreadLocal<>();
    private static final ThreadLocal<double[][]> DOUBLE_SCRATCH = new ThreadLocal<>();

    private FusedKernels() {
    }

    /** True when this pass applies: a float dtype, the Vector API present, inputs dense or scalar. */
    static boolean applies(FusedProgram p) {
        if (!VectorSupport.AVAILABLE || (p.dtype() != DType.FLOAT32 && p.dtype() != DType.FLOAT64)) {
            return false;
        }
        for (int k = 0; k < p.inputStrides().length; k++) {
            if (!p.isDense(k) && !p.isScalar(k)) {
                return false;
            }
        }
        return true;
    }

    static void run(FusedProgram p, CpuBuffer[] in, CpuBuffer out) {
        int n = (int) p.size();
        boolean[] scalar = new boolean[in.length];
        for (int k = 0; k < in.length; k++) {
            scalar[k] = !p.isDense(k) || n == 1;
        }
        if (p.dtype() == DType.FLOAT32) {
            float[][] ext = new float[in.length][];
            for (int k = 0; k < in.length; k++) {
                ext[k] = in[k].floats();
            }
            float[] z = out.floats();
            Parallel.range(n, Parallel.ELEMENTWISE_GRAIN, (lo, hi) -> floats(p, ext, scalar, z, lo, hi));
        } else {
            double[][] ext = new double[in.length][];
            for (int k = 0; k < in.length; k++) {
                ext[k] = in[k].doubles();
            }
            double[] z = out.doubles();
            Parallel.range(n, Parallel.ELEMENTWISE_GRAIN, (lo, hi) -> doubles(p, ext, scalar, z, lo, hi));
        }
    }

    private static float[][] floatScratch(int steps) {
        float[][] s = FLOAT_SCRATCH.get();
        if (s == null || s.length < steps) {
            s = new float[steps][BLOCK];
            FLOAT_SCRATCH.set(s);
        }
        return s;
    }

    private static double[][] doubleScratch(int steps) {
        double[][] s = DOUBLE_SCRATCH.get();
        if (s == null || s.length < steps) {
            s = new double[steps][BLOCK];
            DOUBLE_SCRATCH.set(s);
        }
        return s;
    }

    private static void floats(FusedProgram p, float[][] ext, boolean[] scalar, float[] z, int lo, int hi) {
        FusedProgram.Step[] steps = p.steps();
        int last = steps.length - 1;
        float[][] scratch = floatScratch(steps.length);
        for (int at = lo; at < hi; at += BLOCK) {
            int n = Math.min(BLOCK, hi - at);
            for (int k = 0; k <= last; k++) {
                FusedProgram.Step s = steps[k];
                float[] dst = k == last ? z : scratch[k];
                int d = k == last ? at : 0;
                if (s.unary() != null) {
                    float[] src;
                    int si;
                    if (s.a() >= 0) {
                        src = scratch[s.a()];
                        si = 0;
                    } else if (scalar[-1 - s.a()]) {
                        java.util.Arrays.fill(dst, d, d + n, ext[-1 - s.a()][0]);
                        src = dst;
                        si = d;
                    } else {
                        src = ext[-1 - s.a()];
                        si = at;
                    }
                    if (src != dst || si != d) {
                        System.arraycopy(src, si, dst, d, n);
                    }
                    FloatLanes.unary(s.unary(), dst, dst, d, d + n);
                } else {
                    int a = s.a();
                    int b = s.b();
                    float[] x = a >= 0 ? scratch[a] : ext[-1 - a];
                    boolean xb = a < 0 && scalar[-1 - a];
                    int xi = a >= 0 || xb ? 0 : at;
                    float[] y = b >= 0 ? scratch[b] : ext[-1 - b];
                    boolean yb = b < 0 && scalar[-1 - b];
                    int yi = b >= 0 || yb ? 0 : at;
                    FloatLanes.row(s.binary(), x, xi, xb, y, yi, yb, dst, null, d, n);
                }
            }
        }
    }

    private static void doubles(FusedProgram p, double[][] ext, boolean[] scalar, double[] z, int lo, int hi) {
        FusedProgram.Step[] steps = p.steps();
        int last = steps.length - 1;
        double[][] scratch = doubleScratch(steps.length);
        for (int at = lo; at < hi; at += BLOCK) {
            int n = Math.min(BLOCK, hi - at);
            for (int k = 0; k <= last; k++) {
                FusedProgram.Step s = steps[k];
                double[] dst = k == last ? z : scratch[k];
                int d = k == last ? at : 0;
                if (s.unary() != null) {
                    double[] src;
                    int si;
                    if (s.a() >= 0) {
                        src = scratch[s.a()];
                        si = 0;
                    } else if (scalar[-1 - s.a()]) {
                        java.util.Arrays.fill(dst, d, d + n, ext[-1 - s.a()][0]);
                        src = dst;
                        si = d;
                    } else {
                        src = ext[-1 - s.a()];
                        si = at;
                    }
                    if (src != dst || si != d) {
                        System.arraycopy(src, si, dst, d, n);
                    }
                    DoubleLanes.unary(s.unary(), dst, dst, d, d + n);
                } else {
                    int a = s.a();
                    int b = s.b();
                    double[] x = a >= 0 ? scratch[a] : ext[-1 - a];
                    boolean xb = a < 0 && scalar[-1 - a];
                    int xi = a >= 0 || xb ? 0 : at;
                    double[] y = b >= 0 ? scratch[b] : ext[-1 - b];
                    boolean yb = b < 0 && scalar[-1 - b];
                    int yi = b >= 0 || yb ? 0 : at;
                    DoubleLanes.row(s.binary(), x, xi, xb, y, yi, yb, dst, null, d, n);
                }
            }
        }
    }
}
