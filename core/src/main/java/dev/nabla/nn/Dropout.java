package dev.nabla.nn;

import dev.nabla.Nabla;

import dev.nabla.Rng;
import dev.nabla.Tensor;

/**
 * Inverted dropout in training mode, the identity in evaluation mode.
 *
 * <pre>{@code
 * Dropout drop = new Dropout(0.25, Rng.seeded(1));
 * drop.eval();                      // now forward(x) returns x
 * }</pre>
 */
public final class Dropout extends Layer {
    private final double rate;
    private final Rng rng;

    /** Drops each element with probability {@code rate}, drawing from {@code rng}. */
    public Dropout(double rate, Rng rng) {
        if (!(rate >= 0 && rate < 1)) {
            throw new IllegalArgumentException("Dropout: rate must be in [0, 1), got " + rate);
        }
        this.rate = rate;
        this.rng = dev.nabla.ops.Checks.notNull("Dropout", "rng", rng);
    }

    @Override
    public Tensor forward(Tensor x) {
        return Nabla.scoped(() -> Functional.dropout(x, rate, rng, isTraining()));
    }
}
