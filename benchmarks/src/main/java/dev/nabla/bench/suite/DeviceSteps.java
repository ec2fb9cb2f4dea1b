package dev.nabla.bench.suite;

import dev.nabla.Device;
import dev.nabla.Nabla;
import dev.nabla.Tensor;
import dev.nabla.Variable;
import dev.nabla.graph.TracedFunction;
import dev.nabla.optim.SGD;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.DoubleSupplier;

/**
 * The training steps of the graphs issue on one device, eager and traced, for {@code scripts/gpu-check.sh} (where
 * {@code scripts/torch_bench.py} times the same steps in PyTorch eager and {@code torch.compile}): W1 (the notebook
 * step, its loss read once at the end, so the device queues steps), W5 (the MLP step) and W7 (the MNIST CNN step
 * with Adam), each loss read every step as in the JMH suite. Not JMH: the GPU machine has minutes, not the suite's
 * half hour; each figure is the median of 5 timed batches after a warm-up. Prints {@code key=value} lines and writes
 * them to {@code OUT/nabla-steps.txt}.
 *
 * <p>Usage: {@code java ... dev.nabla.bench.suite.DeviceSteps OUT [device]} (default {@code cuda:0}; any device
 * runs it, {@code cpu} included).
 */
public final class DeviceSteps {
    private static final int BATCHES = 5;
    /** {@code -Dnabla.steps.scale=0.01}: a smoke run (on cuda-emu, say), at least one step per batch. */
    private static final double SCALE = Double.parseDouble(System.getProperty("nabla.steps.scale", "1"));

    private DeviceSteps() {
    }

    public static void main(String[] args) throws IOException {
        Path out = Path.of(args.length > 0 ? args[0] : ".");
        Device d = Device.parse(args.length > 1 ? args[1] : "cuda:0");
        Map<String, String> r = new LinkedHashMap<>();
        r.put("device", d.toString());

        Variable x = new Variable(Tensor.scalar(d, 3f), "x", true);
        SGD sgd = new SGD(0.1);
        Variable tx = new Variable(Tensor.scalar(d, 3f), "tx", true);
        SGD tracedSgd = new SGD(0.1);
        TracedFunction w1 = Nabla.function(() -> NablaWorkloads.notebookStep(tx, tracedSgd));
        r.put("w1_eager_us", f(perStep(scale(3000), scale(1000),
                () -> NablaWorkloads.notebookStep(x, sgd).close(), x::item) * 1e6));
        r.put("w1_traced_us", f(perStep(scale(3000), scale(1000), () -> w1.call().close(), tx::item) * 1e6));
        r.put("w1_x_eager_traced", x.item() + " " + tx.item());

        NablaWorkloads.Mlp mlp = new NablaWorkloads.Mlp(d);
        NablaWorkloads.Mlp tracedMlp = new NablaWorkloads.Mlp(d);
        r.put("w5_eager_ms", f(perStep(scale(200), scale(50), mlp::step, () -> 0) * 1e3));
        r.put("w5_traced_ms", f(perStep(scale(200), scale(50), tracedMlp::tracedStep, () -> 0) * 1e3));
        r.put("w5_loss_eager_traced", mlp.step() + " " + tracedMlp.tracedStep());

        NablaWorkloads.Cnn cnn = new NablaWorkloads.Cnn(d);
        NablaWorkloads.Cnn tracedCnn = new NablaWorkloads.Cnn(d);
        r.put("w7_eager_ms", f(perStep(scale(50), scale(20), cnn::step, () -> 0) * 1e3));
        r.put("w7_traced_ms", f(perStep(scale(50), scale(20), tracedCnn::tracedStep, () -> 0) * 1e3));
        r.put("w7_loss_eager_traced", cnn.step() + " " + tracedCnn.tracedStep());

        StringBuilder text = new StringBuilder();
        r.forEach((k, v) -> text.append(k).append('=').append(v).append('\n'));
        System.out.print(text);
        Files.createDirectories(out);
        Files.writeString(out.resolve("nabla-steps.txt"), text.toString());
    }

    /**
     * Seconds per step: {@code warm} steps, then the median over {@link #BATCHES} batches of {@code steps}, each
     * batch ended by {@code sync} (which waits for the device by reading a value).
     */
    private static double perStep(int warm, int steps, Runnable step, DoubleSupplier sync) {
        for (int i = 0; i < warm; i++) {
            step.run();
        }
        sync.getAsDouble();
        double[] t = new double[BATCHES];
        for (int b = 0; b < BATCHES; b++) {
            long start = System.nanoTime();
            for (int i = 0; i < steps; i++) {
                step.run();
            }
            sync.getAsDouble();
            t[b] = (System.nanoTime() - start) / 1e9 / steps;
        }
        Arrays.sort(t);
        return t[BATCHES / 2];
    }

    private static int scale(int steps) {
        return Math.max(1, (int) Math.round(steps * SCALE));
    }

    private static String f(double v) {
        return String.format(Locale.ROOT, "%.3f", v);
    }
}
