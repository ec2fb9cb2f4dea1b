package dev.nabla.examples;

import dev.nabla.Device;
import dev.nabla.Tensor;
import dev.nabla.io.Checkpoint;
import dev.nabla.nn.Layer;
import dev.nabla.optim.SlotOptimizer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A training run's state in one safetensors file: the model's variables under {@code model.}, the optimizer's slots
 * and iteration count under {@code optimizer.}, and the finished epochs in the metadata.
 */
final class TrainingState {
    private static final String MODEL = "model.";
    private static final String OPTIMIZER = "optimizer.";

    private TrainingState() {
    }

    static void save(Path file, Layer model, SlotOptimizer optimizer, int epochs) throws IOException {
        Map<String, Tensor> all = new LinkedHashMap<>();
        model.stateDict().forEach((k, v) -> all.put(MODEL + k, v));
        optimizer.state().forEach((k, v) -> all.put(OPTIMIZER + k, v));
        Checkpoint.save(file, all, Map.of("epochs", Integer.toString(epochs)));
    }

    /** Restores model and optimizer; returns the number of epochs already trained. */
    static int restore(Path file, Layer model, SlotOptimizer optimizer, Device device) throws IOException {
        Map<String, Tensor> all = Checkpoint.load(file, device);
        model.loadStateDict(withPrefix(all, MODEL));
        optimizer.build(model.parameters());
        optimizer.loadState(withPrefix(all, OPTIMIZER));
        return Integer.parseInt(Checkpoint.metadata(file).getOrDefault("epochs", "0"));
    }

    private static Map<String, Tensor> withPrefix(Map<String, Tensor> all, String prefix) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        all.forEach((k, v) -> {
            if (k.startsWith(prefix)) {
                out.put(k.substring(prefix.length()), v);
            }
        });
        return out;
    }
}
