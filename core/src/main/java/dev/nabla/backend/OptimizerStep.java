package dev.nabla.backend;

/**
 * One optimizer update, applied element-wise and in place to a parameter, its gradient and its slots: the fused
 * primitive behind each algorithm of {@code dev.nabla.optim}. Each record carries the step's hyperparameters and
 * its scalar definition ({@link #apply}), which backends reproduce (CPU loops, CUDA kernels) and which the default
 * {@link Backend#optimizerStep} runs on the host.
 *
 * <p>Every rule first applies decoupled weight decay, {@code p -= p · weightDecay · learningRate}, as Keras 3 does
 * before any update. Every arithmetic step is rounded to the parameter's precision ({@code single}: float32), in the
 * order Keras writes the update, so a float32 variable ends where Keras' float32 ops would put it (the notebook's
 * thirty SGD epochs print the same digits as TensorFlow).
 *
 * <pre>{@code
 * // what a backend's optimizerStep does for one float32 element p with gradient g and slots s
 * double next = step.apply(p, g, s, true);
 * }</pre>
 */
public sealed interface OptimizerStep {
    /** Number of slot buffers (state per element) the rule reads and writes. */
    int slots();

    /**
     * Updates one element: returns the new parameter value for parameter {@code p} and gradient {@code g}, and
     * updates the element's slot values {@code s} (length {@link #slots()}) in place; {@code single} rounds every
     * step to float32.
     */
    double apply(double p, double g, double[] s, boolean single);

    /** {@code x} rounded to float32 when {@code single}. */
    static double round(double x, boolean single) {
        return single ? (float) x : x;
    }

    /** Keras' {@code variable - variable * weight_decay * lr}, skipped when there is no decay. */
    static double decay(double p, double weightDecay, double learningRate, boolean single) {
        if (weightDecay == 0) {
            return p;
        }
        double w = round(weightDecay, single);
        double lr = round(learningRate, single);
        return round(p - round(round(p * w, single) * lr, single), single);
    }

    /** Keras SGD: slot 0 is the momentum buffer when {@code momentum > 0}. */
    record Sgd(double learningRate, double momentum, boolean nesterov, double weightDecay) implements OptimizerStep {
        @Override
        public int slots() {
            return momentum > 0 ? 1 : 0;
        }

        @Override
        public double apply(double p, double g, double[] s, boolean single) {
            double v = decay(p, weightDecay, learningRate, single);
            double lr = round(learningRate, single);
            if (momentum == 0) {
                return round(v - round(g * lr, single), single);         // variable -= gradient * lr
            }
            double mu = round(momentum, single);
            double step = round(-g * lr, single);
            double m = round(step + round(s[0] * mu, single), single);  // m = -gradient * lr + m * momentum
            s[0] = m;
            if (nesterov) {
                return round(v + round(step + round(m * mu, single), single), single);
            }
            return round(v + m, single);
        }
    }

    /**
     * Keras Adam (and AdamW, which only differs by its weight decay default): slots m, v, and vHat for amsgrad.
     * {@code alpha} is the learning rate with both bias corrections folded in; see {@link #at}.
     */
    record Adam(double learningRate, double alpha, double beta1, double beta2, double epsilon, boolean amsgrad,
            double weightDecay) implements OptimizerStep {
        /** The step for 1-based update count {@code step}: {@code alpha = lr · sqrt(1 - β2^t) / (1 - β1^t)}. */
        public static Adam at(double learningRate, double beta1, double beta2, double epsilon, boolean amsgrad,
                long step, double weightDecay) {
            double alpha = learningRate * Math.sqrt(1 - Math.pow(beta2, step)) / (1 - Math.pow(beta1, step));
            return new Adam(learningRate, alpha, beta1, beta2, epsilon, amsgrad, weightDecay);
        }

        @Override
        public int slots() {
            return amsgrad ? 3 : 2;
        }

        @Override
        public double apply(double p, double g, double[] s, boolean single) {
            double v = decay(p, weightDecay, learningRate, single);
            double m = round(s[0] + round(round(g - s[0], single) * round(1 - beta1, single), single), single);
            double g2 = round(g * g, single);
            double u = round(s[1] + round(round(g2 - s[1], single) * round(1 - beta2, single), single), single);
            s[0] = m;
            s[1] = u;
            if (amsgrad) {
                u = Math.max(s[2], u);
                s[2] = u;
            }
            double denominator = round(round(Math.sqrt(u), single) + round(epsilon, single), single);
            return round(v - round(round(m * round(alpha, single), single) / denominator, single), single);
        }
    }

    /** Keras RMSprop: slot 0 the mean square, then the momentum buffer (if momentum), then the mean (if centered). */
    record RmsProp(double learningRate, double rho, double momentum, double epsilon, boolean centered,
            double weightDecay) implements OptimizerStep {
        @Override
        public int slots() {
            return 1 + (momentum > 0 ? 1 : 0) + (centered ? 1 : 0);
        }

        @Override
        public double apply(double p, double g, double[] s, boolean single) {
            double v = decay(p, weightDecay, learningRate, single);
            double r = round(rho, single);
            double keep = round(1 - rho, single);
            double ms = round(round(r * s[0], single) + round(keep * round(g * g, single), single), single);
            s[0] = ms;
            double denominator;
            if (centered) {
                int k = momentum > 0 ? 2 : 1;
                double mean = round(round(r * s[k], single) + round(keep * g, single), single);
                s[k] = mean;
                denominator = round(round(ms - round(mean * mean, single), single) + round(epsilon, single), single);
            } else {
                denominator = round(ms + round(epsilon, single), single);
            }
            double increment = round(round(round(learningRate, single) * g, single)
                    / round(Math.sqrt(denominator), single), single);
            if (momentum > 0) {
                double m = round(round(round(momentum, single) * s[1], single) + increment, single);
                s[1] = m;
                return round(v - m, single);
            }
            return round(v - increment, single);
        }
    }

    /** Keras Adagrad: slot 0 the accumulated squares (starting at the initial accumulator value). */
    record Adagrad(double learningRate, double epsilon, double weightDecay) implements OptimizerStep {
        @Override
        public int slots() {
            return 1;
        }

        @Override
        public double apply(double p, double g, double[] s, boolean single) {
            double v = decay(p, weightDecay, learningRate, single);
            double acc = round(s[0] + round(g * g, single), single);
            s[0] = acc;
            double rate = round(round(learningRate, single) * g, single);
            return round(v - round(rate / round(Math.sqrt(round(acc + round(epsilon, single), single)), single),
                    single), single);
        }
    }
}
