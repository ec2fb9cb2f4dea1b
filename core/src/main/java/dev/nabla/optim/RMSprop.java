package dev.nabla.optim;

import dev.nabla.backend.OptimizerStep;
import java.util.ArrayList;
import java.util.List;

/**
 * RMSprop, as Keras 3's {@code RMSprop} (defaults: learning rate 0.001, ρ 0.9, momentum 0, ε 1e-7, not centered):
 * {@code s = ρ·s + (1-ρ)·g²; Δ = lr·g / sqrt(s - [centered] ḡ² + ε)}; with momentum {@code m = momentum·m + Δ;
 * p -= m}, else {@code p -= Δ}.
 *
 * <pre>{@code
 * Optimizer opt = RMSprop.builder().learningRate(1e-3).momentum(0.9).centered(true).build();
 * }</pre>
 */
public final class RMSprop extends SlotOptimizer {
    private final double rho;
    private final double momentum;
    private final double epsilon;
    private final boolean centered;

    /** RMSprop with Keras' defaults and the given learning rate. */
    public RMSprop(double learningRate) {
        this(builder().learningRate(learningRate));
    }

    private RMSprop(Builder b) {
        super(b.options());
        this.rho = b.rho;
        this.momentum = b.momentum;
        this.epsilon = b.epsilon;
        this.centered = b.centered;
    }

    /** A builder with Keras' defaults. */
    public static Builder builder() {
        return new Builder();
    }

    @Override
    protected OptimizerStep step(double learningRate, long iteration) {
        return new OptimizerStep.RmsProp(learningRate, rho, momentum, epsilon, centered, options().weightDecay());
    }

    @Override
    protected List<String> slotNames() {
        List<String> names = new ArrayList<>(List.of("velocity"));
        if (momentum > 0) {
            names.add("momentum");
        }
        if (centered) {
            names.add("average_gradient");
        }
        return names;
    }

    /**
     * Builds an {@link RMSprop}.
     *
     * <pre>{@code
     * RMSprop rms = RMSprop.builder().learningRate(1e-3).rho(0.9).centered(true).build();
     * }</pre>
     */
    public static final class Builder extends SlotOptimizer.Builder<Builder> {
        private double rho = 0.9;
        private double momentum;
        private double epsilon = 1e-7;
        private boolean centered;

        private Builder() {
            super(0.001, 0);
        }

        /** Decay of the mean square, in [0, 1). */
        public Builder rho(double rho) {
            this.rho = unitInterval("rho", rho);
            return this;
        }

        /** Momentum in [0, 1]. */
        public Builder momentum(double momentum) {
            if (!(momentum >= 0 && momentum <= 1)) {
                throw new IllegalArgumentException(algorithm() + ": momentum must be in [0, 1], got " + momentum);
            }
            this.momentum = momentum;
            return this;
        }

        /** The small constant under the square root (finite, >= 0). */
        public Builder epsilon(double epsilon) {
            this.epsilon = nonNegative("epsilon", epsilon);
            return this;
        }

        /** Normalise by the centered variance (subtracting the squared mean gradient). */
        public Builder centered(boolean centered) {
            this.centered = centered;
            return this;
        }

        /** The optimizer. */
        public RMSprop build() {
            return new RMSprop(this);
        }
    }
}
