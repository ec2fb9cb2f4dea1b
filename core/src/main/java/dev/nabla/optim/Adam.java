package dev.nabla.optim;

import dev.nabla.backend.OptimizerStep;
import java.util.List;

/**
 * Adam, as Keras 3's {@code Adam} (defaults: learning rate 0.001, β1 0.9, β2 0.999, ε 1e-7, no amsgrad):
 * {@code m += (g - m)(1 - β1); v += (g² - v)(1 - β2); p -= lr·sqrt(1 - β2^t)/(1 - β1^t) · m / (sqrt(v) + ε)}.
 * NOTE: ε is added after the bias correction is folded into the rate, as Keras does; PyTorch adds it to the
 * corrected denominator, so the two differ slightly while v is tiny.
 *
 * <pre>{@code
 * Optimizer adam = Adam.builder().learningRate(1e-3).amsgrad(true).build();
 * }</pre>
 */
public class Adam extends SlotOptimizer {
    private final double beta1;
    private final double beta2;
    private final double epsilon;
    private final boolean amsgrad;

    /** Adam with Keras' defaults and the given learning rate. */
    public Adam(double learningRate) {
        this(builder().learningRate(learningRate));
    }

    Adam(Builder b) {
        super(b.options());
        this.beta1 = b.beta1;
        this.beta2 = b.beta2;
        this.epsilon = b.epsilon;
        this.amsgrad = b.amsgrad;
    }

    /** A builder with Keras' defaults. */
    public static Builder builder() {
        return new Builder(0);
    }

    @Override
    protected OptimizerStep step(double learningRate, long iteration) {
        return OptimizerStep.Adam.at(learningRate, beta1, beta2, epsilon, amsgrad, iteration + 1,
                options().weightDecay());
    }

    @Override
    protected List<String> slotNames() {
        return List.of("m", "v", "vhat");
    }

    /**
     * Builds an {@link Adam} (or, from {@link AdamW#builder()}, an {@link AdamW}).
     *
     * <pre>{@code
     * Adam adam = Adam.builder().learningRate(1e-3).beta2(0.99).amsgrad(true).build();
     * }</pre>
     */
    public static class Builder extends SlotOptimizer.Builder<Builder> {
        private double beta1 = 0.9;
        private double beta2 = 0.999;
        private double epsilon = 1e-7;
        private boolean amsgrad;

        Builder(double defaultWeightDecay) {
            super(0.001, defaultWeightDecay);
        }

        /** Decay of the first moment, in [0, 1). */
        public Builder beta1(double beta1) {
            this.beta1 = unitInterval("beta1", beta1);
            return this;
        }

        /** Decay of the second moment, in [0, 1). */
        public Builder beta2(double beta2) {
            this.beta2 = unitInterval("beta2", beta2);
            return this;
        }

        /** The small constant added to the denominator (finite, >= 0). */
        public Builder epsilon(double epsilon) {
            this.epsilon = nonNegative("epsilon", epsilon);
            return this;
        }

        /** The AMSGrad variant (keeps the maximum second moment). */
        public Builder amsgrad(boolean amsgrad) {
            this.amsgrad = amsgrad;
            return this;
        }

        /** The optimizer. */
        public Adam build() {
            return new Adam(this);
        }
    }
}
