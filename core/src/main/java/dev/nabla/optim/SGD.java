package dev.nabla.optim;

import dev.nabla.backend.OptimizerStep;
import java.util.List;

/**
 * Stochastic gradient descent with optional momentum and Nesterov momentum, as Keras 3's {@code SGD}
 * (defaults: learning rate 0.01, momentum 0):
 * {@code m = momentum·m - lr·g; v += m} (Nesterov: {@code v += momentum·m - lr·g}); without momentum
 * {@code v -= lr·g}.
 *
 * <pre>{@code
 * Optimizer plain = new SGD(0.1);
 * Optimizer heavy = SGD.builder().learningRate(0.05).momentum(0.9).nesterov(true).build();
 * heavy.minimize(() -> x.square().sum(), List.of(x));
 * }</pre>
 */
public final class SGD extends SlotOptimizer {
    private final double momentum;
    private final boolean nesterov;

    /** Plain gradient descent with a fixed learning rate. */
    public SGD(double learningRate) {
        this(builder().learningRate(learningRate));
    }

    private SGD(Builder b) {
        super(b.options());
        this.momentum = b.momentum;
        this.nesterov = b.nesterov;
    }

    /** A builder with Keras' defaults. */
    public static Builder builder() {
        return new Builder();
    }

    @Override
    protected OptimizerStep step(double learningRate, long iteration) {
        return new OptimizerStep.Sgd(learningRate, momentum, nesterov, options().weightDecay());
    }

    @Override
    protected List<String> slotNames() {
        return List.of("momentum");
    }

    /**
     * Builds an {@link SGD}.
     *
     * <pre>{@code
     * SGD sgd = SGD.builder().learningRate(0.1).momentum(0.9).nesterov(true).build();
     * }</pre>
     */
    public static final class Builder extends SlotOptimizer.Builder<Builder> {
        private double momentum;
        private boolean nesterov;

        private Builder() {
            super(0.01, 0);
        }

        /** Momentum in [0, 1]; 0 means plain gradient descent. */
        public Builder momentum(double momentum) {
            if (!(momentum >= 0 && momentum <= 1)) {
                throw new IllegalArgumentException(algorithm() + ": momentum must be in [0, 1], got " + momentum);
            }
            this.momentum = momentum;
            return this;
        }

        /** Nesterov momentum. */
        public Builder nesterov(boolean nesterov) {
            this.nesterov = nesterov;
            return this;
        }

        /** The optimizer. */
        public SGD build() {
            return new SGD(this);
        }
    }
}
