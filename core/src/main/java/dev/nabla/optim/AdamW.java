package dev.nabla.optim;

/**
 * Adam with decoupled weight decay, as Keras 3's {@code AdamW}: the same update as {@link Adam}, with a weight decay
 * of 0.004 by default ({@code p -= p · weightDecay · lr} before each step).
 *
 * <pre>{@code
 * Optimizer opt = AdamW.builder().learningRate(1e-3).weightDecay(0.01).build();
 * }</pre>
 */
public final class AdamW extends Adam {
    /** AdamW with Keras' defaults and the given learning rate. */
    public AdamW(double learningRate) {
        super(builder().learningRate(learningRate));
    }

    private AdamW(Adam.Builder b) {
        super(b);
    }

    /** A builder with Keras' AdamW defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Builds an {@link AdamW}.
     *
     * <pre>{@code
     * AdamW adamw = AdamW.builder().learningRate(1e-3).weightDecay(0.01).build();
     * }</pre>
     */
    public static final class Builder extends Adam.Builder {
        private Builder() {
            super(0.004);
        }

        @Override
        public AdamW build() {
            return new AdamW(this);
        }
    }
}
