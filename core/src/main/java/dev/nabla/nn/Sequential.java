package dev.nabla.nn;

import dev.nabla.Tensor;
import dev.nabla.ops.Checks;
import java.util.List;

/**
 * Modules applied one after the other; children are named {@code "0"}, {@code "1"}, ...
 *
 * <pre>{@code
 * Module mlp = new Sequential(new Dense(4, 8, rng), new Relu(), new Dense(8, 1, rng));
 * }</pre>
 */
public final class Sequential extends Module {
    private final List<Module> layers;

    /** The layers, in order. */
    public Sequential(Module... layers) {
        Checks.notNullElements("Sequential", "layers", layers);
        this.layers = List.of(layers);
        for (int i = 0; i < layers.length; i++) {
            register(Integer.toString(i), layers[i]);
        }
    }

    /** The layers. */
    public List<Module> layers() {
        return layers;
    }

    @Override
    public Tensor forward(Tensor x) {
        Tensor h = x;
        for (Module m : layers) {
            h = m.forward(h);
        }
        return h;
    }
}
