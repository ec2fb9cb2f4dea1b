package dev.nabla.cpu;

import dev.nabla.backend.OptimizerStep;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * FLOAT32 optimizer updates on the Vector API. Each loop performs exactly the operations of the step's scalar
 * definition, in the same order and each rounded to float32 (no fused multiply-add), so the results are bit for bit
 * those of {@link OptimizerStep#apply}; the tail runs that definition itself.
 */
final class FloatOptimizerLanes {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    private FloatOptimizerLanes() {
    }

    /** Updates {@code [lo, hi)}; returns false when the step has no vector form (the caller loops instead). */
    static boolean apply(OptimizerStep step, float[] p, float[] g, float[][] s, int lo, int hi) {
        int end = lo + F.loopBound(hi - lo);
        int i = switch (step) {
            case OptimizerStep.Sgd sgd when sgd.momentum() == 0 -> plainSgd(sgd, p, g, lo, end);
            case OptimizerStep.Adam adam when !adam.amsgrad() -> adam(adam, p, g, s[0], s[1], lo, end);
            default -> -1;
        };
        if (i < 0) {
            return false;
        }
        double[] e = new double[s.length];
        for (; i < hi; i++) {
            for (int k = 0; k < e.length; k++) {
                e[k] = s[k][i];
            }
            p[i] = (float) step.apply(p[i], g[i], e, true);
            for (int k = 0; k < e.length; k++) {
                s[k][i] = (float) e[k];
            }
        }
        return true;
    }

    /** {@code p = decay(p) - g·lr}. */
    private static int plainSgd(OptimizerStep.Sgd sgd, float[] p, float[] g, int lo, int end) {
        float lr = (float) sgd.learningRate();
        float wd = (float) sgd.weightDecay();
        int i = lo;
        for (; i < end; i += F.length()) {
            FloatVector pv = decay(FloatVector.fromArray(F, p, i), wd, lr);
            FloatVector gv = FloatVector.fromArray(F, g, i);
            pv.sub(gv.mul(lr)).intoArray(p, i);
        }
        return i;
    }

    /** {@code m += (g - m)(1 - β1); v += (g² - v)(1 - β2); p = decay(p) - m·α / (sqrt(v) + ε)}. */
    private static int adam(OptimizerStep.Adam a, float[] p, float[] g, float[] m, float[] v, int lo, int end) {
        float lr = (float) a.learningRate();
        float wd = (float) a.weightDecay();
        float keep1 = (float) (1 - a.beta1());
        float keep2 = (float) (1 - a.beta2());
        float alpha = (float) a.alpha();
        float eps = (float) a.epsilon();
        int i = lo;
        for (; i < end; i += F.length()) {
            FloatVector pv = decay(FloatVector.fromArray(F, p, i), wd, lr);
            FloatVector gv = FloatVector.fromArray(F, g, i);
            FloatVector mv = FloatVector.fromArray(F, m, i);
            FloatVector vv = FloatVector.fromArray(F, v, i);
            mv = mv.add(gv.sub(mv).mul(keep1));
            vv = vv.add(gv.mul(gv).sub(vv).mul(keep2));
            mv.intoArray(m, i);
            vv.intoArray(v, i);
            FloatVector denominator = vv.lanewise(VectorOperators.SQRT).add(eps);
            pv.sub(mv.mul(alpha).div(denominator)).intoArray(p, i);
        }
        return i;
    }

    /** Keras' {@code p - p·wd·lr}, skipped without decay as the scalar definition does. */
    private static FloatVector decay(FloatVector p, float wd, float lr) {
        return wd == 0 ? p : p.sub(p.mul(wd).mul(lr));
    }
}
