package dev.nabla.conformance.fuzz;

import static org.junit.jupiter.api.Assertions.fail;

import dev.nabla.DType;
import dev.nabla.Device;
import dev.nabla.Nabla;
import dev.nabla.Rng;
import dev.nabla.Scope;
import dev.nabla.Tensor;
import dev.nabla.conformance.OnEachDevice;
import dev.nabla.graph.TracedFunction;
import dev.nabla.io.Checkpoint;
import dev.nabla.internal.TensorAccess;
import dev.nabla.nn.AvgPool2d;
import dev.nabla.nn.BatchNorm;
import dev.nabla.nn.Conv2d;
import dev.nabla.nn.Dense;
import dev.nabla.nn.Dropout;
import dev.nabla.nn.Flatten;
import dev.nabla.nn.Functional;
import dev.nabla.nn.Layer;
import dev.nabla.nn.MaxPool2d;
import dev.nabla.nn.Relu;
import dev.nabla.nn.Sequential;
import dev.nabla.ops.Deferral;
import dev.nabla.optim.Adagrad;
import dev.nabla.optim.Adam;
import dev.nabla.optim.AdamW;
import dev.nabla.optim.LearningRateSchedule;
import dev.nabla.optim.RMSprop;
import dev.nabla.optim.SGD;
import dev.nabla.optim.SlotOptimizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Random small training runs, each several ways on one device: eagerly; eagerly with every element-wise op deferred
 * from one element ({@link Deferral}), where the backend defers; as one traced step ({@code Nabla.function}); and,
 * without dropout, with its last step taken by a differently initialized model and a fresh optimizer loaded from a
 * checkpoint of the first two. They must agree bit for bit: every step's loss, every variable of the model
 * (parameters and BatchNorm's running statistics) and every optimizer slot. A run is a model of dense or
 * convolutional layers with ReLU, dropout, BatchNorm and pooling in random places, a loss (cross-entropy against
 * labels or probabilities, or mean squared error), and an optimizer with random options (momentum, Nesterov,
 * AMSGrad, centered RMSprop, weight decay, the three clippings, a decaying learning rate). Where {@link
 * DifferentialFuzzTest} checks ops against a reference, this checks what joins them in training: layers, tapes,
 * optimizer effects, scopes, deferral of optimizer slots and small Variables, and traced steps that update state on
 * every call.
 *
 * <p>System properties: {@code nabla.fuzz.runs} (default 300), {@code nabla.fuzz.seed} (a number, or
 * {@code random}), {@code nabla.fuzz.only} (one run, printed).
 */
class TrainingFuzzTest {
    private static final int STEPS = 3;

    @OnEachDevice
    void randomTrainingRunsAgreeEagerDeferredAndTraced(Device d) {
        int runs = Integer.getInteger("nabla.fuzz.runs", 300);
        String seedProp = System.getProperty("nabla.fuzz.seed", "").trim();
        long seed = seedProp.isEmpty() ? DifferentialFuzzTest.DEFAULT_SEED
                : seedProp.equals("random") ? System.nanoTime() : Long.parseLong(seedProp);
        boolean defers = TensorAccess.backend(Tensor.scalar(d, 0f)).defersElementwise();
        Integer only = Integer.getInteger("nabla.fuzz.only");
        int from = only != null ? only : 0;
        int to = only != null ? only + 1 : runs;
        List<String> failures = new ArrayList<>();
        int deferred = 0;
        int traced = 0;
        int resumed = 0;
        int failing = 0;
        for (int i = from; i < to; i++) {
            Run run = Run.random(seed, i);
            if (only != null) {
                System.out.println(run);
            }
            String failure = null;
            try {
                Map<String, double[]> eager = train(d, run, Mode.EAGER);
                if (defers) {
                    failure = differ(eager, train(d, run, Mode.DEFERRED), "deferred");
                    deferred++;
                }
                if (failure == null) {
                    failure = differ(eager, train(d, run, Mode.TRACED), "traced");
                    traced++;
                }
                // (a checkpoint holds no generator: a dropout's draws after a resume are not the same)
                if (failure == null && run.layers().stream().noneMatch(l -> l.startsWith("dropout"))) {
                    failure = differ(eager, train(d, run, Mode.RESUMED), "resumed from a checkpoint");
                    resumed++;
                }
            } catch (RuntimeException | Error e) {
                failure = "threw " + e + " at " + Arrays.stream(e.getStackTrace()).limit(6).toList();
            }
            if (failure != null) {
                failing++;
                if (failures.size() < 5) {
                    failures.add(failure + "\n" + run);
                }
            }
        }
        System.out.printf("training fuzz [%s] seed %d: %d runs of %d steps, %d also deferred, %d also traced, "
                + "%d also resumed from a checkpoint, %d failing%n", d, seed, to - from, STEPS, deferred, traced,
                resumed, failing);
        if (!failures.isEmpty()) {
            fail(failing + " training runs differ (replay one: -Dnabla.fuzz.seed=" + seed
                    + " -Dnabla.fuzz.only=N)\n" + String.join("\n", failures));
        }
    }

    private enum Mode { EAGER, DEFERRED, TRACED, RESUMED }

    /** The values a run ends with, by name: each step's loss, the model's variables, the optimizer's state. */
    private static Map<String, double[]> train(Device d, Run run, Mode mode) {
        // eager: nothing deferred (the width runs of cpu-backend defer everything by default)
        long previous = Deferral.minElements(mode == Mode.DEFERRED ? 1 : -1);
        Map<String, double[]> out = new LinkedHashMap<>();
        try (Scope scope = Nabla.scope()) {                 // its tensors back to the pool (not the Variables)
            Layer model = run.model(d);
            SlotOptimizer opt = run.optimizer();
            Tensor x = run.input(d);
            Tensor target = run.target(d);
            TracedFunction step = Nabla.function((in, y) -> opt.minimize(() -> run.loss(model.forward(in), y),
                    model.parameters()));
            for (int s = 0; s < STEPS; s++) {
                if (mode == Mode.RESUMED && s == STEPS - 1) {
                    // the last step after a checkpoint: a model initialized otherwise and a fresh optimizer, both
                    // loaded from the file, must go on as if nothing had happened
                    Layer resumed = run.model(d, 1);
                    SlotOptimizer reopened = run.optimizer();
                    restore(checkpoint(model, opt), resumed, reopened);
                    Tensor loss = reopened.minimize(() -> run.loss(resumed.forward(x), target), resumed.parameters());
                    out.put("loss " + s, values(loss));
                    collect(resumed, reopened, out);
                    return out;
                }
                Tensor loss = mode == Mode.TRACED ? step.call(x, target)
                        : opt.minimize(() -> run.loss(model.forward(x), target), model.parameters());
                out.put("loss " + s, values(loss));
            }
            collect(model, opt, out);
            return out;
        } finally {
            Deferral.minElements(previous);
        }
    }

    private static void collect(Layer model, SlotOptimizer opt, Map<String, double[]> out) {
        model.stateDict().forEach((k, v) -> out.put("model " + k, values(v)));
        opt.state().forEach((k, v) -> out.put("optimizer " + k, values(v)));
    }

    /** The model's and the optimizer's state written to a checkpoint file and read back. */
    private static Map<String, Tensor> checkpoint(Layer model, SlotOptimizer opt) {
        Map<String, Tensor> state = new LinkedHashMap<>();
        model.stateDict().forEach((k, v) -> state.put("model/" + k, v));
        opt.state().forEach((k, v) -> state.put("optimizer/" + k, v));
        try {
            Path file = Files.createTempFile("nabla-training-fuzz", ".safetensors");
            try {
                Checkpoint.save(file, state);
                return Checkpoint.load(file, model.parameters().get(0).device());
            } finally {
                Files.deleteIfExists(file);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void restore(Map<String, Tensor> state, Layer model, SlotOptimizer opt) {
        Map<String, Tensor> weights = new LinkedHashMap<>();
        Map<String, Tensor> slots = new LinkedHashMap<>();
        state.forEach((k, v) -> (k.startsWith("model/") ? weights : slots).put(k.substring(k.indexOf('/') + 1), v));
        model.loadStateDict(weights);
        opt.build(model.parameters());
        opt.loadState(slots);
    }

    private static double[] values(Tensor t) {
        return t.to(DType.FLOAT64).toDoubleArray();
    }

    /** The first entry, in order, whose bits differ, or null. */
    private static String differ(Map<String, double[]> eager, Map<String, double[]> got, String mode) {
        if (!eager.keySet().equals(got.keySet())) {
            return mode + ": entries " + got.keySet() + ", eager " + eager.keySet();
        }
        for (String k : eager.keySet()) {
            double[] a = eager.get(k);
            double[] b = got.get(k);
            if (!Arrays.equals(a, b)) {
                int at = Arrays.mismatch(a, b);
                return mode + ": " + k + " element " + at + " is " + (at < b.length ? b[at] : "missing")
                        + ", eager " + (at < a.length ? a[at] : "missing");
            }
        }
        return null;
    }

    /** One random run: what to build, drawn from {@code (seed, index)} alone. */
    private record Run(long seed, int index, boolean images, int batch, int channels, int side, List<String> layers,
            int classes, String loss, String algorithm, Map<String, Double> options) {

        static Run random(long seed, int index) {
            SplittableRandom r = new SplittableRandom(seed * 1_000_003L + index);
            boolean images = r.nextInt(3) == 0;
            int batch = 1 + r.nextInt(images ? 4 : 12);
            int channels = 1 + r.nextInt(images ? 3 : 12);
            int side = 4 + r.nextInt(5);
            List<String> layers = new ArrayList<>();
            int blocks = 1 + r.nextInt(2);
            for (int b = 0; b < blocks; b++) {
                int width = 1 + r.nextInt(images ? 4 : 16);
                layers.add(images ? "conv " + width + " " + (r.nextBoolean() ? 1 : 3) + " " + (1 + r.nextInt(2))
                        + " " + (r.nextBoolean() ? "same" : "valid") : "dense " + width);
                for (String extra : List.of("batchNorm", "relu", "dropout", "pool")) {
                    if (r.nextInt(3) == 0 && (images || !extra.equals("pool"))) {
                        layers.add(extra.equals("dropout") ? "dropout " + (r.nextInt(3) + 1) * 0.25
                                : extra.equals("pool") ? (r.nextBoolean() ? "maxPool" : "avgPool") : extra);
                    }
                }
            }
            int classes = 1 + r.nextInt(6);
            String loss = List.of("labels", "probabilities", "squaredError").get(r.nextInt(3));
            String algorithm = List.of("sgd", "adam", "adamW", "rmsprop", "adagrad").get(r.nextInt(5));
            Map<String, Double> options = new LinkedHashMap<>();
            options.put("learningRate", List.of(0.3, 0.05, 1e-3).get(r.nextInt(3)));
            for (String o : List.of("momentum", "nesterov", "amsgrad", "centered", "weightDecay", "decay")) {
                if (r.nextInt(3) == 0) {
                    options.put(o, List.of(0.9, 0.5, 0.01).get(r.nextInt(3)));
                }
            }
            if (r.nextBoolean()) {                      // one kind of clipping at most, as the builders take
                options.put(List.of("clipNorm", "clipValue", "globalClipNorm").get(r.nextInt(3)),
                        List.of(0.9, 0.5, 0.01).get(r.nextInt(3)));
            }
            return new Run(seed, index, images, batch, channels, side, List.copyOf(layers), classes, loss, algorithm,
                    options);
        }

        /** The model, its weights drawn from a generator seeded by the run, so that every mode starts alike. */
        Layer model(Device d) {
            return model(d, 0);
        }

        /** The model with weights drawn by another generator for each {@code salt}. */
        Layer model(Device d, int salt) {
            Rng rng = Rng.seeded((seed ^ index) + 7919L * salt);
            List<Layer> built = new ArrayList<>();
            long[] shape = images ? new long[] {batch, channels, side, side} : new long[] {batch, channels};
            for (String spec : layers) {
                String[] p = spec.split(" ");
                if (p[0].endsWith("Pool") && (shape[2] < 2 || shape[3] < 2)
                        || p[0].equals("conv") && p[4].equals("valid") && shape[2] < Integer.parseInt(p[2])) {
                    continue;                                   // too small to pool, or for the kernel
                }
                Layer l = switch (p[0]) {
                    case "conv" -> new Conv2d((int) shape[1], Integer.parseInt(p[1]), Integer.parseInt(p[2]),
                            Integer.parseInt(p[3]), p[4], rng, d);
                    case "dense" -> new Dense((int) shape[1], Integer.parseInt(p[1]), rng, d);
                    case "batchNorm" -> new BatchNorm((int) shape[1], 0.9, 1e-3, d);
                    case "relu" -> new Relu();
                    case "dropout" -> new Dropout(Double.parseDouble(p[1]), rng);
                    case "maxPool" -> new MaxPool2d(2);
                    case "avgPool" -> new AvgPool2d(2);
                    default -> throw new IllegalStateException(spec);
                };
                built.add(l);
                // its output shape, probed in evaluation mode: BatchNorm's statistics stay, dropout draws nothing
                l.eval();
                try (Tensor probe = Tensor.zeros(d, shape); Tensor y = l.forward(probe)) {
                    shape = y.shape().dims();
                }
                l.train();
            }
            if (images) {
                built.add(new Flatten());
                shape = new long[] {shape[0], shape[1] * shape[2] * shape[3]};
            }
            built.add(new Dense((int) shape[1], classes, rng, d));
            return new Sequential(built.toArray(Layer[]::new));
        }

        Tensor input(Device d) {
            Rng rng = Rng.seeded(seed ^ ~index);
            return images ? rng.normal(d, DType.FLOAT32, batch, channels, side, side)
                    : rng.normal(d, DType.FLOAT32, batch, channels);
        }

        /** INT32 labels, probability rows, or regression targets, as the loss takes them. */
        Tensor target(Device d) {
            Rng rng = Rng.seeded(seed + index);
            return switch (loss) {
                case "labels" -> {
                    int[] l = new int[batch];
                    for (int i = 0; i < batch; i++) {
                        l[i] = (int) ((seed + 7L * index + 13L * i) & Integer.MAX_VALUE) % classes;
                    }
                    yield Tensor.of(d, l, batch);
                }
                case "probabilities" -> rng.normal(d, DType.FLOAT32, batch, classes).softmax(1);
                default -> rng.normal(d, DType.FLOAT32, batch, classes);
            };
        }

        Tensor loss(Tensor out, Tensor target) {
            return switch (loss) {
                case "labels" -> Functional.softmaxCrossEntropy(out, target);
                case "probabilities" -> Functional.softmaxCrossEntropyWithProbabilities(out, target);
                default -> Functional.meanSquaredError(out, target);
            };
        }

        SlotOptimizer optimizer() {
            double lr = options.get("learningRate");
            LearningRateSchedule schedule = options.containsKey("decay")
                    ? LearningRateSchedule.exponentialDecay(lr, 2, options.get("decay"), false)
                    : LearningRateSchedule.constant(lr);
            return switch (algorithm) {
                case "sgd" -> common(SGD.builder().momentum(options.getOrDefault("momentum", 0.0))
                        .nesterov(options.containsKey("nesterov") && options.containsKey("momentum")), schedule)
                        .build();
                case "adam" -> common(Adam.builder().amsgrad(options.containsKey("amsgrad")), schedule).build();
                case "adamW" -> common(AdamW.builder(), schedule).build();
                case "rmsprop" -> common(RMSprop.builder().momentum(options.getOrDefault("momentum", 0.0))
                        .centered(options.containsKey("centered")), schedule).build();
                default -> common(Adagrad.builder(), schedule).build();
            };
        }

        private <B extends SlotOptimizer.Builder<B>> B common(B b, LearningRateSchedule schedule) {
            b.learningRate(schedule);
            option("weightDecay", b::weightDecay);
            option("clipNorm", b::clipNorm);
            option("clipValue", b::clipValue);
            option("globalClipNorm", b::globalClipNorm);
            return b;
        }

        private void option(String name, java.util.function.DoubleFunction<?> set) {
            if (options.containsKey(name)) {
                set.apply(options.get(name));
            }
        }

        @Override
        public String toString() {
            return "run " + index + " of seed " + seed + ": " + (images ? "images" : "features") + " (" + batch + ", "
                    + channels + (images ? ", " + side + ", " + side : "") + "), layers " + layers + ", " + classes
                    + " outputs, loss " + loss + ", " + algorithm + " " + options;
        }
    }
}
