package dev.nabla.nn;

import dev.nabla.Tensor;

/**
 * The rectifier as a layer, for {@link Sequential}.
 *
 * <pre>{@code
 * Layer block = new Sequential(new Dense(4, 8, rng), new Relu());
 * }</pre>
 */
public final class Relu extends Layer {
    /** A relu layer; it has no variables. */
    public Relu() {
    }

    @Override
    public Tensor forward(Tensor x) {
        return x.relu();
    }
}
