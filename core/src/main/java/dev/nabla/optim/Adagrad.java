package dev.nabla.optim;

import dev.nabla.backend.OptimizerStep;
import java.util.List;

/**
 * Adagrad, as Keras 3's {@code Adagrad} (defaults: learning rate 0.001, initial accumulator 0.1, ε 1e-7):
 * {@code a += g²; p -= lr·g / sqrt(a + ε)}.
 *
 * <pre>{@code
 * Optimizer opt = Adagrad.builder().learningRate(0.01).build();
 * }</pre>
 */
public final class Adagrad extends SlotOptimizer {
    private final double initialAccumulator;
    private final double epsilon;

    /** Adagrad with Keras' defaults and the given learning rate. */
    public Adagrad(double learningRate) {
        this(builder().learningRate(learningRate));
    }

    private Adagrad(Builder b) {
        super(b.options());
        this.initialAccumulator = b.initialAccumulator;
        this.epsilon = b.epsilon;
    }

    /** A builder with Keras' defaults. */
    public static Builder builder() {
        return new Builder();
    }

    @Override
    protected OptimizerStep step(double learningRate, long iteration) {
        return new OptimizerStep.Adagrad(learningRate, epsilon, options().weightDecay());
    }

    @Override
    protected List<String> slotNames() {
        return List.of("accumulator");
    }

    @Override
    protected double initialSlotValue(int k) {
        return initialAccumulator;
    }

    /**
     * Builds an {@link Adagrad}.
     *
     * <pre>{@code
     * Adagrad adagrad = Adagrad.builder().learningRate(0.01).initialAccumulatorValue(0.1).build();
     * }</pre>
     */
    public static final class Builder extends SlotOptimizer.Builder<Builder> {
        private double initialAccumulator = 0.1;
        private double epsilon = 1e-7;

        private Builder() {
            super(0.001, 0);
        }

        /** The value the squared-gradient accumulator starts at (must be >= 0). */
        public Builder initialAccumulatorValue(double value) {
            this.initialAccumulator = nonNegative("initial accumulator", value);
            return this;
        }

        /** The small constant under the square root (finite, >= 0). */
        public Builder epsilon(double epsilon) {
            this.epsilon = nonNegative("epsilon", epsilon);
            return this;
        }

        /** The optimizer. */
        public Adagrad build() {
            return new Adagrad(this);
        }
    }
}
