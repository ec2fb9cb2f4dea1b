package dev.nabla.examples;

import dev.nabla.GradientTape;
import dev.nabla.Nabla;
import dev.nabla.Tensor;
import dev.nabla.Variable;
import dev.nabla.check.GradientChecker;
import dev.nabla.graph.TracedFunction;
import dev.nabla.optim.Optimizer;
import dev.nabla.optim.SGD;
import dev.nabla.summary.SummaryWriter;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;

/**
 * The TensorFlow GradientTape tutorial, step by step: the gradient of a scalar, of a matrix expression, a
 * non-scalar target, thirty epochs of gradient descent on {@code x^2 + x - 1}, and a finite-difference check.
 * Run it with {@code ./nabla notebook}.
 */
public final class NotebookExample {
    private NotebookExample() {
    }

    /** Prints the notebook's lines to standard output and writes the graph of the traced f_x under runs/notebook. */
    public static void main(String[] args) {
        run(System.out, Path.of("runs", "notebook"));
    }

    /** Prints the notebook's lines to {@code out}. */
    public static void run(PrintStream out) {
        run(out, null);
    }

    /** Prints the notebook's lines to {@code out} and, unless {@code logdir} is null, writes f_x's graph there. */
    public static void run(PrintStream out, Path logdir) {
        // y = x^2 + 2x at x = 4: dy/dx = 2x + 2 = 10
        Variable x = Variable.of(4.0f);
        try (GradientTape tape = new GradientTape()) {
            Tensor y = x.square().add(x.mul(2));
            out.println(tape.gradient(y, x));
        }

        // y = w^2 for a (1, 3) matrix: dy/dw = 2w
        Variable w = Variable.of(new float[][] {{5, 10, 15.23232f}});
        try (GradientTape tape = new GradientTape()) {
            Tensor y = w.square();
            out.println(tape.gradient(y, w));
        }

        // a non-scalar target is summed: d(sum(x * [1, 2, 4]))/dx = 7
        Variable s = Variable.of(2.0f);
        try (GradientTape tape = new GradientTape()) {
            Tensor y = s.mul(Tensor.of(new float[] {1, 2, 4}));
            out.println(tape.gradient(y, s));
        }

        // minimise x^2 + x - 1 from x = 3 with SGD(0.1)
        Variable v = Variable.of(3.0f);
        Optimizer sgd = new SGD(0.1);
        for (int epoch = 0; epoch < 30; epoch++) {
            float before = v.item();
            Tensor loss = sgd.minimize(() -> v.square().add(v).sub(1), List.of(v));
            out.println("Epoch : " + epoch + " [" + pyFloat(before) + ", " + pyFloat(loss.item()) + "]");
        }

        // the notebook's promise: the tape's gradient agrees with central finite differences
        Tensor at = Tensor.of(new double[] {v.item()});
        GradientChecker.Jacobians j = GradientChecker.jacobians(
                in -> in.get(0).square().add(in.get(0)).sub(1), List.of(at));
        out.printf("Gradient check of d(x**2 + x - 1)/dx at x = %s: theoretical %.10f, numerical %.10f, "
                + "max abs error %.1e%n", pyFloat(v.item()), j.theoretical().get(0)[0][0],
                j.numerical().get(0)[0][0], j.result().maxAbsError());

        // the same thirty epochs with f_x traced, as the seed's @tf.function: the graph replays each epoch, reads the
        // variable by reference, and the tape around the call gives the eager gradient, so the lines are the same
        Variable x2 = Variable.of(3.0f);
        TracedFunction fx = Nabla.function(() -> x2.square().add(x2).sub(1));
        Optimizer tracedSgd = new SGD(0.1);
        out.println("Traced (Nabla.function):");
        for (int epoch = 0; epoch < 30; epoch++) {
            float before = x2.item();
            Tensor loss = tracedSgd.minimize(fx, List.of(x2));
            out.println("Epoch : " + epoch + " [" + pyFloat(before) + ", " + pyFloat(loss.item()) + "]");
        }
        if (logdir != null) {
            try (SummaryWriter writer = SummaryWriter.create(logdir)) {
                writer.graph("f_x", fx);
                // on stderr, as a log line: stdout stays the notebook's own lines (./nabla shell's script prints them too)
                System.err.println("Graph of f_x (traced " + fx.traceCount() + " time) written to " + writer.file()
                        + "; see it with tensorboard --logdir " + logdir);
            }
        }
    }

    /** A float32 as Python prints it in a list (shortest round-trip digits). */
    static String pyFloat(float f) {
        return Tensor.scalar(f).toString().replaceFirst("^Tensor\\(", "").replaceFirst(", shape=.*$", "");
    }
}
