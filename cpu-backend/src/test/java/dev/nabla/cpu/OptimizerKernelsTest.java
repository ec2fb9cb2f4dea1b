package dev.nabla.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.nabla.DType;
import dev.nabla.backend.OptimizerStep;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The fused CPU updates, vector paths included, equal the scalar definitions bit for bit. */
class OptimizerKernelsTest {
    private static final BufferPool POOL = new BufferPool(1 << 20);

    /** Every rule, and each branch of its vector loop (momentum, Nesterov, decay, amsgrad, centered). */
    private static final List<OptimizerStep> STEPS = List.of(
            new OptimizerStep.Sgd(0.1, 0, false, 0),
            new OptimizerStep.Sgd(0.1, 0, false, 0.01),
            new OptimizerStep.Sgd(0.05, 0.9, true, 0),
            new OptimizerStep.Sgd(0.05, 0.9, false, 0.02),
            OptimizerStep.Adam.at(1e-3, 0.9, 0.999, 1e-7, false, 3, 0),
            OptimizerStep.Adam.at(1e-2, 0.8, 0.99, 1e-6, false, 1, 0.004),
            OptimizerStep.Adam.at(1e-2, 0.9, 0.999, 1e-7, true, 5, 0),
            new OptimizerStep.RmsProp(1e-3, 0.9, 0.5, 1e-7, true, 0),
            new OptimizerStep.RmsProp(1e-3, 0.9, 0, 1e-7, false, 0.01),
            new OptimizerStep.Adagrad(0.01, 1e-7, 0),
            new OptimizerStep.Adagrad(0.01, 1e-7, 0.003));
    private static final int[] SIZES = {1, 7, 8, 33, 1000, 200_003};

    @Test
    void everyFloat32StepMatchesItsScalarDefinition() {
        checkEveryStep(DType.FLOAT32, new Random(1));
    }

    @Test
    void everyFloat64StepMatchesItsScalarDefinition() {
        checkEveryStep(DType.FLOAT64, new Random(2));
    }

    private static void checkEveryStep(DType t, Random r) {
        boolean single = t == DType.FLOAT32;
        for (int n : SIZES) {
            for (OptimizerStep step : STEPS) {
                double[] p = new double[n];
                double[] g = new double[n];
                double[][] s = new double[step.slots()][n];
                for (int i = 0; i < n; i++) {
                    p[i] = round(r.nextGaussian(), single);
                    g[i] = round(r.nextGaussian(), single);
                    for (double[] slot : s) {
                        slot[i] = round(Math.abs(r.nextGaussian()), single);
                    }
                }
                // expected: the scalar definition, element by element, rounded to the dtype
                double[] ep = p.clone();
                double[][] es = new double[s.length][];
                for (int k = 0; k < s.length; k++) {
                    es[k] = s[k].clone();
                }
                double[] e = new double[s.length];
                for (int i = 0; i < n; i++) {
                    for (int k = 0; k < e.length; k++) {
                        e[k] = es[k][i];
                    }
                    ep[i] = round(step.apply(ep[i], g[i], e, single), single);
                    for (int k = 0; k < e.length; k++) {
                        es[k][i] = round(e[k], single);
                    }
                }
                CpuBuffer pb = TestBuffers.of(POOL, t, p);
                CpuBuffer[] sb = new CpuBuffer[s.length];
                for (int k = 0; k < s.length; k++) {
                    sb[k] = TestBuffers.of(POOL, t, s[k]);
                }
                OptimizerKernels.apply(step, pb, TestBuffers.of(POOL, t, g), sb);
                assertArrayEquals(ep, TestBuffers.values(pb), 0, t + " " + step + " n=" + n);
                for (int k = 0; k < s.length; k++) {
                    assertArrayEquals(es[k], TestBuffers.values(sb[k]), 0,
                            t + " " + step + " slot " + k + " n=" + n);
                }
            }
        }
    }

    private static double round(double v, boolean single) {
        return single ? (float) v : v;
    }
}
