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
            FloatOptimizerLanes.applyAll(step, p, g, slots, grain);
            return;
        }
        if (VectorSupport.AVAILABLE && p.dtype() == DType.FLOAT64) {
            DoubleOptimizerLanes.applyAll(step, p, g, slots, grain);
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
