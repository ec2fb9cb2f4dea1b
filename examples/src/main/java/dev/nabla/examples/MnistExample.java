package dev.nabla.examples;

import dev.nabla.DType;
import dev.nabla.Device;
import dev.nabla.GradientTape;
import dev.nabla.Nabla;
import dev.nabla.Rng;
import dev.nabla.Scope;
import dev.nabla.Tensor;
import dev.nabla.Variable;
import dev.nabla.data.Batch;
import dev.nabla.data.DataLoader;
import dev.nabla.data.Mnist;
import dev.nabla.graph.TracedFunction;
import dev.nabla.nn.Conv2d;
import dev.nabla.nn.Dense;
import dev.nabla.nn.Flatten;
import dev.nabla.nn.Functional;
import dev.nabla.nn.MaxPool2d;
import dev.nabla.nn.Layer;
import dev.nabla.nn.Relu;
import dev.nabla.nn.Sequential;
import dev.nabla.optim.Adam;
import dev.nabla.optim.LearningRateSchedule;
import dev.nabla.summary.SummaryWriter;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Trains a small CNN on the bundled MNIST digits with Adam on the default device, with a progress bar per epoch,
 * then prints the test accuracy and the confusion matrix and writes the loss/accuracy chart to
 * {@code runs/<timestamp>/}. The training step is a {@code Nabla.function}: traced at the first batch and replayed as
 * an optimized plan after that; its graph goes to the run's TensorBoard log. Run it with {@code ./nabla mnist}
 * (options: {@code --epochs N}, {@code --eager} to run the step op by op, {@code --resume runs/<dir>}).
 */
public final class MnistExample {
    private static final int BATCH = 64;

    private MnistExample() {
    }

    /** The conv 3×3×16 → relu → maxpool → conv 3×3×32 → relu → maxpool → dense 10 network. */
    static Layer model(Rng rng, Device d) {
        return new Sequential(new Conv2d(1, 16, 3, 1, "same", rng, d), new Relu(), new MaxPool2d(2),
                new Conv2d(16, 32, 3, 1, "same", rng, d), new Relu(), new MaxPool2d(2), new Flatten(),
                new Dense(32 * 7 * 7, 10, rng, d));
    }

    /**
     * Runs the job: {@code --epochs N} sets the number of epochs (default 5); {@code --eager} runs the training step
     * op by op instead of as a traced function (to compare); {@code --resume runs/<dir>} continues from that run's
     * {@code model.safetensors} (weights, optimizer state and epoch count).
     */
    public static void main(String[] args) throws IOException {
        int epochs = 5;
        boolean traced = true;
        Path resume = null;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--epochs") && i + 1 < args.length) {
                epochs = Integer.parseInt(args[++i]);
            } else if (args[i].equals("--eager")) {
                traced = false;
            } else if (args[i].equals("--resume") && i + 1 < args.length) {
                resume = Path.of(args[++i]).resolve(CHECKPOINT);
            } else {
                System.err.println("usage: ./nabla mnist [--epochs N] [--eager] [--resume runs/<dir>]");
                System.exit(2);
            }
        }
        Path run = Path.of("runs", LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        Files.createDirectories(run);
        Result r;
        try (SummaryWriter log = SummaryWriter.create(run)) {
            r = train(epochs, Device.defaultDevice(), System.out, true, resume, run.resolve(CHECKPOINT), log,
                    new Stepping(traced, 0));
        }
        TrainingChart.write(r.losses(), r.accuracies(), run.resolve("training.png"));
        System.out.println("wrote " + run.resolve("training.png") + " and " + run.resolve(CHECKPOINT));
    }

    private static final String CHECKPOINT = "model.safetensors";

    /** What a training run measured. */
    record Result(double testAccuracy, int[][] confusion, List<Double> losses, List<Double> accuracies,
            double trainingSeconds) {
    }

    /**
     * How the training step runs: as a traced function (replayed as a plan) or eagerly, and how many steps an epoch
     * takes at most ({@code 0}: every batch; tests take a few).
     */
    record Stepping(boolean traced, int stepsPerEpoch) {
        static final Stepping DEFAULT = new Stepping(true, 0);
    }

    /** Trains for {@code epochs} on {@code device} without checkpoints, reporting to {@code out}. */
    static Result train(int epochs, Device device, PrintStream out, boolean progressBar) {
        try {
            return train(epochs, device, out, progressBar, null, null, null, Stepping.DEFAULT);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /**
     * Trains for {@code epochs} on {@code device}, first restoring {@code resume} when given, saving the model, the
     * optimizer state and the epoch count to {@code save} when given, and logging to TensorBoard through {@code log}
     * when given (loss and batch accuracy per step; loss, test accuracy and weight histograms per epoch; the traced
     * step's graph), stepping as {@code stepping} says.
     */
    static Result train(int epochs, Device device, PrintStream out, boolean progressBar, Path resume, Path save,
            SummaryWriter log, Stepping stepping) throws IOException {
        Mnist mnist = Mnist.load();
        Rng rng = Rng.seeded(7);
        Layer model = model(rng, device);
        DataLoader train = new DataLoader(mnist.train(), BATCH, true, false, 11, device);
        // a high rate early, decayed to 5% by the end: reaches 97% in fewer epochs than a constant rate
        Adam adam = Adam.builder().learningRate(LearningRateSchedule.cosineDecay(4e-3,
                Math.max(1L, (long) epochs * train.batchesPerEpoch()), 0.05)).build();
        int firstEpoch = resume == null ? 0 : TrainingState.restore(resume, model, adam, device);
        if (resume != null) {
            out.println("Resumed from " + resume + " after " + firstEpoch + " epochs");
        }
        List<Double> losses = new ArrayList<>();
        List<Double> accuracies = new ArrayList<>();
        int steps = stepping.stepsPerEpoch() > 0 ? Math.min(stepping.stepsPerEpoch(), train.batchesPerEpoch())
                : train.batchesPerEpoch();
        TracedFunction tracedStep = Nabla.function((Tensor images, Tensor labels) ->
                step(model, adam, images, labels));
        boolean graphLogged = false;
        out.println("Training on " + device + ": " + mnist.train().size() + " digits, " + mnist.test().size()
                + " held out, batch " + BATCH + ", " + epochs + " epochs, the step "
                + (stepping.traced() ? "traced" : "eager"));
        long start = System.nanoTime();
        for (int epoch = firstEpoch; epoch < firstEpoch + epochs; epoch++) {
            train.setEpoch(epoch);
            model.train();
            double sum = 0;
            int seen = 0;
            long epochStart = System.nanoTime();
            try (ProgressBar bar = progressBar ? new ProgressBarBuilder().setTaskName("Epoch " + (epoch + 1))
                    .setInitialMax(steps).setStyle(ProgressBarStyle.ASCII).continuousUpdate().build() : null) {
                Iterator<Batch> batches = train.iterator();
                for (int s = 0; s < steps; s++) {
                    Batch b = batches.next();
                    // one memory scope per step: every buffer the step takes from the pool goes back when it ends,
                    // the batch's included
                    try (b; Scope scope = Nabla.scope()) {
                        float[] lossAndAccuracy = (stepping.traced() ? tracedStep.call(b.inputs(), b.labels())
                                : step(model, adam, b.inputs(), b.labels())).toFloatArray();
                        float loss = lossAndAccuracy[0];
                        losses.add((double) loss);
                        if (log != null) {
                            if (stepping.traced() && !graphLogged) {
                                log.graph("train_step", tracedStep);
                                graphLogged = true;
                            }
                            log.scalar("step/loss", loss, adam.iterations());
                            log.scalar("step/batch_accuracy", lossAndAccuracy[1], adam.iterations());
                        }
                        sum += loss * b.size();
                        seen += b.size();
                        if (bar != null) {
                            double secs = (System.nanoTime() - epochStart) / 1e9;
                            bar.step();
                            bar.setExtraMessage(String.format(" loss %.4f, %.0f img/s", sum / seen, seen / secs));
                        }
                    }
                }
            }
            double acc = evaluate(model, mnist, device).accuracy;
            accuracies.add(acc);
            if (log != null) {
                log.scalar("epoch/loss", sum / seen, epoch + 1);
                log.scalar("epoch/test_accuracy", acc, epoch + 1);
                int e = epoch + 1;
                model.namedVariables().forEach((name, v) -> log.histogram("weights/" + name, v, e));
                log.flush();
            }
            out.printf("epoch %d: mean loss %.4f, test accuracy %.2f%%%n", epoch + 1, sum / seen, 100 * acc);
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        if (save != null) {
            TrainingState.save(save, model, adam, firstEpoch + epochs);
        }
        Evaluation e = evaluate(model, mnist, device);
        out.printf("test accuracy %.2f%% (%d of %d) after %.1f s of training%n", 100 * e.accuracy,
                e.correct, mnist.test().size(), seconds);
        out.println(ConfusionMatrix.format(e.confusion));
        return new Result(e.accuracy, e.confusion, losses, accuracies, seconds);
    }

    /**
     * One training step on a batch: the forward pass and the loss under a tape, the batch's accuracy from the logits
     * (before the update), Adam's update; returns {@code (loss, accuracy)}. The same code runs eagerly or traced.
     */
    private static Tensor step(Layer model, Adam adam, Tensor images, Tensor labels) {
        List<Variable> params = model.parameters();
        Tensor logits;
        Tensor loss;
        GradientTape tape = new GradientTape();
        try (tape) {
            logits = model.forward(images);
            loss = Functional.softmaxCrossEntropy(logits, labels);
        }
        Tensor accuracy = logits.argmax(1).eq(labels).to(DType.FLOAT32).mean();
        adam.applyGradients(tape.gradient(loss, params), params);
        return Nabla.stack(List.of(loss, accuracy), 0);
    }

    private record Evaluation(double accuracy, int correct, int[][] confusion) {
    }

    private static Evaluation evaluate(Layer model, Mnist mnist, Device device) {
        model.eval();
        int[][] confusion = new int[10][10];
        int correct = 0;
        for (Batch b : new DataLoader(mnist.test(), 500, false, false, 0, device)) {
            try (b; Scope batch = Nabla.scope()) {
                int[] predicted = dev.nabla.GradientTape.withoutRecording(() -> model.forward(b.inputs()))
                        .argmax(1).toIntArray();
                int[] truth = b.labels().toIntArray();
                for (int i = 0; i < truth.length; i++) {
                    confusion[truth[i]][predicted[i]]++;
                    correct += truth[i] == predicted[i] ? 1 : 0;
                }
            }
        }
        model.train();
        return new Evaluation(correct / (double) mnist.test().size(), correct, confusion);
    }
}
