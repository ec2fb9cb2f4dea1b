package dev.nabla.nn;

import dev.nabla.Tensor;

/**
 * Flattens every axis but the first: (N, d1, d2, ...) to (N, d1·d2·...).
 *
 * <pre>{@code
 * Tensor rows = new Flatten().forward(Tensor.zeros(8, 32, 7, 7));   // (8, 1568)
 * }</pre>
 */
public final class Flatten extends Layer {
    /** A flatten layer; it has no variables. */
    public Flatten() {
    }

    @Override
    public Tensor forward(Tensor x) {
        if (x.rank() < 1) {
            throw new IllegalArgumentException("Flatten: needs a batch axis, got " + x.shape());
        }
        // the product written out: -1 cannot be inferred from 0 elements, and (0, 3) must stay (0, 3), not (0, 0)
        long rest = 1;
        for (int i = 1; i < x.rank(); i++) {
            rest *= x.shape().dim(i);
        }
        return x.reshape(x.shape().dim(0), rest);
    }
}
