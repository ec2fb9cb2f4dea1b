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

    private static CpuBuffer floats(float[] v) {
        return new CpuBuffer(DType.FLOAT32, v.length, v.clone(), POOL);
    }

    private static CpuBuffer doubles(double[] v) {
        return new CpuBuffer(DType.FLOAT64, v.length, v.clone(), POOL);
    }

    @Test
    void everyFloat32StepMatchesItsScalarDefinition() {
        Random r = new Random(1);
        for (int n : SIZES) {
            for (OptimizerStep step : STEPS) {
                float[] p = new float[n];
                float[] g = new float[n];
                float[][] s = new float[step.slots()][n];
                for (int i = 0; i < n; i++) {
                    p[i] = (float) r.nextGaussian();
                    g[i] = (float) r.nextGaussian();
                    for (float[] slot : s) {
                        slot[i] = (float) Math.abs(r.nextGaussian());
                    }
                }
                // expected: the scalar definition, element by element, rounded to float32
                float[] ep = p.clone();
                float[][] es = new float[s.length][];
                for (int k = 0; k < s.length; k++) {
                    es[k] = s[k].clone();
                }
                double[] e = new double[s.length];
                for (int i = 0; i < n; i++) {
                    for (int k = 0; k < e.length; k++) {
                        e[k] = es[k][i];
                    }
                    ep[i] = (float) step.apply(ep[i], g[i], e, true);
                    for (int k = 0; k < e.length; k++) {
                        es[k][i] = (float) e[k];
                    }
                }
                CpuBuffer pb = floats(p);
                CpuBuffer[] sb = new CpuBuffer[s.length];
                for (int k = 0; k < s.length; k++) {
                    sb[k] = floats(s[k]);
                }
                OptimizerKernels.apply(step, pb, floats(g), sb);
                assertArrayEquals(ep, pb.floats(), 0f, step + " n=" + n);
                for (int k = 0; k < s.length; k++) {
                    assertArrayEquals(es[k], sb[k].floats(), 0f, step + " slot " + k + " n=" + n);
                }
            }
        }
    }

    @Test
    void everyFloat64StepMatchesItsScalarDefinition() {
        Random r = new Random(2);
        for (int n : SIZES) {
            for (OptimizerStep step : STEPS) {
                double[] p = new double[n];
                double[] g = new double[n];
                double[][] s = new double[step.slots()][n];
                for (int i = 0; i < n; i++) {
                    p[i] = r.nextGaussian();
                    g[i] = r.nextGaussian();
                    for (double[] slot : s) {
                        slot[i] = Math.abs(r.nextGaussian());
                    }
                }
                // expected: the scalar definition, element by element, in double (no float32 rounding)
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
                    ep[i] = step.apply(ep[i], g[i], e, false);
                    for (int k = 0; k < e.length; k++) {
                        es[k][i] = e[k];
                    }
                }
                CpuBuffer pb = doubles(p);
                CpuBuffer[] sb = new CpuBuffer[s.length];
                for (int k = 0; k < s.length; k++) {
                    sb[k] = doubles(s[k]);
                }
                OptimizerKernels.apply(step, pb, doubles(g), sb);
                assertArrayEquals(ep, pb.doubles(), 0, step + " n=" + n);
                for (int k = 0; k < s.length; k++) {
                    assertArrayEquals(es[k], sb[k].doubles(), 0, step + " slot " + k + " n=" + n);
                }
            }
        }
    }
}
