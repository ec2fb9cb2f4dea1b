package dev.nabla.optim;

import dev.nabla.ops.Checks;

/**
 * A learning rate that depends on the update count, as Keras' {@code LearningRateSchedule}s.
 *
 * <pre>{@code
 * LearningRateSchedule lr = LearningRateSchedule.exponentialDecay(0.1, 1000, 0.96, false);
 * Optimizer opt = SGD.builder().learningRate(lr).momentum(0.9).build();
 * }</pre>
 */
@FunctionalInterface
public interface LearningRateSchedule {
    /** The rate for the update with 0-based index {@code step} (the optimizer's iterations before it). */
    double at(long step);

    /** A constant rate. */
    static LearningRateSchedule constant(double rate) {
        return step -> rate;
    }

    /** {@code initial · rate^(step / decaySteps)}, with an integer exponent when {@code staircase}. */
    static LearningRateSchedule exponentialDecay(double initial, long decaySteps, double decayRate,
            boolean staircase) {
        if (decaySteps <= 0) {
            throw new IllegalArgumentException("exponentialDecay: decaySteps must be > 0, got " + decaySteps);
        }
        return step -> {
            double p = (double) step / decaySteps;
            return initial * Math.pow(decayRate, staircase ? Math.floor(p) : p);
        };
    }

    /**
     * Keras' {@code CosineDecay}: an optional linear warmup from {@code initial} to {@code warmupTarget} over
     * {@code warmupSteps}, then cosine decay over {@code decaySteps} from the peak down to {@code alpha · peak}.
     */
    static LearningRateSchedule cosineDecay(double initial, long decaySteps, double alpha, double warmupTarget,
            long warmupSteps) {
        if (decaySteps <= 0 || warmupSteps < 0) {
            throw new IllegalArgumentException("cosineDecay: need decaySteps > 0 and warmupSteps >= 0, got "
                    + decaySteps + " and " + warmupSteps);
        }
        double peak = warmupSteps > 0 ? warmupTarget : initial;
        return step -> {
            if (step < warmupSteps) {
                return initial + (warmupTarget - initial) * step / warmupSteps;
            }
            double t = Math.min(step - warmupSteps, decaySteps) / (double) decaySteps;
            double cosine = 0.5 * (1 + Math.cos(Math.PI * t));
            return peak * ((1 - alpha) * cosine + alpha);
        };
    }

    /** Cosine decay without warmup. */
    static LearningRateSchedule cosineDecay(double initial, long decaySteps, double alpha) {
        return cosineDecay(initial, decaySteps, alpha, initial, 0);
    }

    /**
     * {@code values[0]} while {@code step <= boundaries[0]}, {@code values[1]} while {@code step <= boundaries[1]},
     * ..., the last value after the last boundary (Keras' {@code PiecewiseConstantDecay}).
     */
    static LearningRateSchedule piecewiseConstant(long[] boundaries, double[] values) {
        Checks.notNull("piecewiseConstant", "boundaries", boundaries);
        Checks.notNull("piecewiseConstant", "values", values);
        if (values.length != boundaries.length + 1) {
            throw new IllegalArgumentException("piecewiseConstant: need one more value than boundaries, got "
                    + values.length + " values for " + boundaries.length + " boundaries");
        }
        for (int i = 1; i < boundaries.length; i++) {
            if (boundaries[i] <= boundaries[i - 1]) {
                throw new IllegalArgumentException("piecewiseConstant: boundaries must be strictly increasing, got "
                        + java.util.Arrays.toString(boundaries));
            }
        }
        long[] b = boundaries.clone();
        double[] v = values.clone();
        return step -> {
            for (int i = 0; i < b.length; i++) {
                if (step <= b[i]) {
                    return v[i];
                }
            }
            return v[v.length - 1];
        };
    }
}
