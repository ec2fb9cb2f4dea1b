package dev.nabla.cpu;

import dev.nabla.DType;
import dev.nabla.backend.OptimizerStep;

/**
 * Fused optimizer updates: one pass over parameter, gradient and slots, in place, with no temporaries, split over
 * the cores for large parameters, on the Vector API ({@link FloatOptimizerLanes}, {@link DoubleOptimizerLanes});
 * without it, the step's scalar definition per element.
 */
final class OptimizerKernels {
    private OptimizerKernels() {
    }

    static void apply(OptimizerStep step, CpuBuffer p, CpuBuffer g, CpuBuffer[] slots) {
        int n = p.n();
        int grain = Parallel.ELEMENTWISE_GRAIN / 8;
        if (VectorSupport.AVAILABLE && p.dtype() == DType.FLOAT32) {
            float[] pv = p.floats();
            float[] gv = g.floats();
            float[][] sv = new float[slots.length][];
            for (int k = 0; k < slots.length; k++) {
                sv[k] = slots[k].floats();
            }
            Parallel.range(n, grain, (lo, hi) -> FloatOptimizerLanes.apply(step, pv, gv, sv, lo, hi));
            return;
        }
        if (VectorSupport.AVAILABLE && p.dtype() == DType.FLOAT64) {
            double[] pv = p.doubles();
            double[] gv = g.doubles();
            double[][] sv = new double[slots.length][];
            for (int k = 0; k < slots.length; k++) {
                sv[k] = slots[k].doubles();
            }
            Parallel.range(n, grain, (lo, hi) -> DoubleOptimizerLanes.apply(step, pv, gv, sv, lo, hi));
            return;
        }
        // without the Vector API: the step's scalar definition (FLOAT32 rounding each operation)
        boolean float32 = p.dtype() == DType.FLOAT32;
        Parallel.range(n, grain, (lo, hi) -> {
            double[] e = new double[slots.length];
            for (int i = lo; i < hi; i++) {
                for (int k = 0; k < e.length; k++) {
                    e[k] = slots[k].get(i);
                }
                p.set(i, step.apply(p.get(i), g.get(i), e, float32));
                for (int k = 0; k < e.length; k++) {
                    slots[k].set(i, e[k]);
                }
            }
        });
    }
}
