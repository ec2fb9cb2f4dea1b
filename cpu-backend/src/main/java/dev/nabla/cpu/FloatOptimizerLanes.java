package dev.nabla.cpu;

import dev.nabla.backend.OptimizerStep;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * FLOAT32 optimizer updates on the Vector API, one loop per algorithm. Each loop performs exactly the operations of the step's scalar
 * definition, in the same order and each rounded to float32 (no fused multiply-add), so the results are bit for bit
 * those of {@link OptimizerStep#apply}; the tail runs that definition itself.
 */
final class FloatOptimizerLanes {
    private static final VectorSpecies<Float> F = FloatLanes.SPECIES;

    private FloatOptimizerLanes() {
    }

    /** Updates {@code [lo, hi)}. */
    static void apply(OptimizerStep step, float[] p, float[] g, float[][] s, int lo, int hi) {
        int end = lo + F.loopBound(hi - lo);
        int i = switch (step) {
            case OptimizerStep.Sgd sgd when sgd.momentum() == 0 -> plainSgd(sgd, p, g, lo, end);
            case OptimizerStep.Sgd sgd -> momentumSgd(sgd, p, g, s[0], lo, end);
            case OptimizerStep.Adam adam -> adam(adam, p, g, s[0], s[1], adam.amsgrad() ? s[2] : null, lo, end);
            case OptimizerStep.RmsProp rms -> rmsprop(rms, p, g, s, lo, end);
            case OptimizerStep.Adagrad ada -> adagrad(ada, p, g, s[0], lo, end);
        };
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

    /** {@code step = -g·lr; m = step + m·μ; p = decay(p) + m} (Nesterov: {@code + (step + m·μ)}). */
    private static int momentumSgd(OptimizerStep.Sgd sgd, float[] p, float[] g, float[] m, int lo, int end) {
        float lr = (float) sgd.learningRate();
        float wd = (float) sgd.weightDecay();
        float mu = (float) sgd.momentum();
        int i = lo;
        for (; i < end; i += F.length()) {
            FloatVector pv = decay(FloatVector.fromArray(F, p, i), wd, lr);
            FloatVector step = FloatVector.fromArray(F, g, i).neg().mul(lr);
            FloatVector mv = step.add(FloatVector.fromArray(F, m, i).mul(mu));
            mv.intoArray(m, i);
            (sgd.nesterov() ? pv.add(step.add(mv.mul(mu))) : pv.add(mv)).intoArray(p, i);
        }
        return i;
    }

    /** {@code s = ρ·s + (1-ρ)·g²; Δ = lr·g / sqrt(s - [centered] ḡ² + ε)}; with momentum {@code m = μ·m + Δ}. */
    private static int rmsprop(OptimizerStep.RmsProp r, float[] p, float[] g, float[][] s, int lo, int end) {
        float lr = (float) r.learningRate();
        float wd = (float) r.weightDecay();
        float rho = (float) r.rho();
        float keep = (float) (1 - r.rho());
        float eps = (float) r.epsilon();
        float mu = (float) r.momentum();
        boolean momentum = r.momentum() > 0;
        float[] mom = momentum ? s[1] : null;
        float[] mean = r.centered() ? s[momentum ? 2 : 1] : null;
        int i = lo;
        for (; i < end; i += F.length()) {
            FloatVector pv = decay(FloatVector.fromArray(F, p, i), wd, lr);
            FloatVector gv = FloatVector.fromArray(F, g, i);
            FloatVector ms = FloatVector.fromArray(F, s[0], i).mul(rho).add(gv.mul(gv).mul(keep));
            ms.intoArray(s[0], i);
            FloatVector denominator;
            if (mean != null) {
                FloatVector a = FloatVector.fromArray(F, mean, i).mul(rho).add(gv.mul(keep));
                a.intoArray(mean, i);
                denominator = ms.sub(a.mul(a)).add(eps);
            } else {
                denominator = ms.add(eps);
            }
            FloatVector increment = gv.mul(lr).div(denominator.lanewise(VectorOperators.SQRT));
            if (momentum) {
                FloatVector mv = FloatVector.fromArray(F, mom, i).mul(mu).add(increment);
                mv.intoArray(mom, i);
                pv.sub(mv).intoArray(p, i);
            } else {
                pv.sub(increment).intoArray(p, i);
            }
        }
        return i;
    }

    /** {@code a += g²; p = decay(p) - lr·g / sqrt(a + ε)}. */
    private static int adagrad(OptimizerStep.Adagrad a, float[] p, float[] g, float[] acc, int lo, int end) {
        float lr = (float) a.learningRate();
        float wd = (float) a.weightDecay();
        float eps = (float) a.epsilon();
        int i = lo;
        for (; i < end; i += F.length()) {
            FloatVector pv = decay(FloatVector.fromArray(F, p, i), wd, lr);
            FloatVector gv = FloatVector.fromArray(F, g, i);
            FloatVector av = FloatVector.fromArray(F, acc, i).add(gv.mul(gv));
            av.intoArray(acc, i);
            pv.sub(gv.mul(lr).div(av.add(eps).lanewise(VectorOperators.SQRT))).intoArray(p, i);
        }
        return i;
    }

    /**
     * {@code m += (g - m)(1 - β1); v += (g² - v)(1 - β2)}, amsgrad {@code v = vHat = max(vHat, v)};
     * {@code p = decay(p) - m·α / (sqrt(v) + ε)}.
     */
    private static int adam(OptimizerStep.Adam a, float[] p, float[] g, float[] m, float[] v, float[] vHat, int lo,
            int end) {
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
            if (vHat != null) {
                vv = FloatVector.fromArray(F, vHat, i).max(vv);
                vv.intoArray(vHat, i);
            }
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
