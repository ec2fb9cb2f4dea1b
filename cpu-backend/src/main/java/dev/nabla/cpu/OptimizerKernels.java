package dev.nabla.cpu;

import dev.nabla.DType;
import dev.nabla.backend.OptimizerStep;

/**
 * Fused optimizer updates: one pass over parameter, gradient and slots, in place, with no temporaries, split over
 * the cores for large parameters. FLOAT32 runs on the Vector API ({@link FloatOptimizerLanes}); FLOAT64 runs the
 * step's scalar definition per element.
 */
final class OptimizerKernels {
    private OptimizerKernels() {
    }

    static void apply(OptimizerStep step, CpuBuffer p, CpuBuffer g, CpuBuffer[] slots) {
        int n = p.n();
        if (p.dtype() == DType.FLOAT32 && VectorSupport.AVAILABLE) {
            float[] pv = p.floats();
            float[] gv = g.floats();
            float[][] sv = new float[slots.length][];
            for (int k = 0; k < slots.length; k++) {
                sv[k] = slots[k].floats();
            }
            Parallel.range(n, Parallel.ELEMENTWISE_GRAIN / 8, (lo, hi) -> FloatOptimizerLanes.apply(step, pv, gv, sv,
                    lo, hi));
            return;
        }
        // FLOAT64, or FLOAT32 without the Vector API: the step's scalar definition (FLOAT32 rounding each operation)
        boolean float32 = p.dtype() == DType.FLOAT32;
        Parallel.range(n, Parallel.ELEMENTWISE_GRAIN / 8, (lo, hi) -> {
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
