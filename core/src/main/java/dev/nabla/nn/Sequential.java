package dev.nabla.nn;

import dev.nabla.Nabla;

import dev.nabla.Tensor;
import dev.nabla.ops.Checks;
import java.util.List;

/**
 * Layers applied one after the other; children are named {@code "0"}, {@code "1"}, ...
 *
 * <pre>{@code
 * Layer mlp = new Sequential(new Dense(4, 8, rng), new Relu(), new Dense(8, 1, rng));
 * }</pre>
 */
public final class Sequential extends Layer {
    private final List<Layer> layers;

    /** The layers, in order. */
    public Sequential(Layer... layers) {
        Checks.notNullElements("Sequential", "layers", layers);
        this.layers = List.of(layers);
        for (int i = 0; i < layers.length; i++) {
            register(Integer.toString(i), layers[i]);
        }
    }

    /** The layers. */
    public List<Layer> layers() {
        return layers;
    }

    @Override
    public Tensor forward(Tensor x) {
        // in a memory scope: each layer output is freed once the next layer consumed it and no tape needs it
        return Nabla.scoped(() -> {
            Tensor h = x;
            for (Layer m : layers) {
                h = m.forward(h);
            }
            return h;
        });
    }
}
