package dev.nabla;

import dev.nabla.autograd.NumericsCheck;
import dev.nabla.autograd.Recorder;
import dev.nabla.ops.Checks;
import dev.nabla.ops.Elementwise;
import dev.nabla.ops.Shapes;
import java.util.List;
import java.util.function.Function;

/**
 * Functions of several tensors.
 *
 * <pre>{@code
 * Tensor a = Tensor.of(new float[] {1, 2}), b = Tensor.of(new float[] {3, 4});
 * Tensor ab = Nabla.concat(List.of(a, b), 0);              // [1. 2. 3. 4.]
 * Tensor big = Nabla.where(ab.gt(2), ab, Tensor.scalar(0f)); // [0. 0. 3. 4.]
 * }</pre>
 */
public final class Nabla {
    private Nabla() {
    }

    /** Joins tensors along an existing axis. */
    public static Tensor concat(List<Tensor> ts, int axis) {
        return Shapes.concat(ts, axis);
    }

    /** Joins equal-shaped tensors along a new axis. */
    public static Tensor stack(List<Tensor> ts, int axis) {
        return Shapes.stack(ts, axis);
    }

    /** {@code cond ? a : b} element-wise with broadcasting; {@code cond} is BOOL. */
    public static Tensor where(Tensor cond, Tensor a, Tensor b) {
        return Elementwise.select(cond, a, b);
    }

    /**
     * TF's {@code tf.custom_gradient}: {@code forward} runs unrecorded; on backward, {@code gradient} receives the
     * inputs, the output and the output's gradient and returns one gradient per input ({@code null} for none).
     *
     * <pre>{@code
     * // log(1 + e^x) with the stable gradient sigmoid(x)
     * Tensor y = Nabla.customGradient(List.of(x),
     *     in -> in.get(0).exp().add(1).log(),
     *     (in, out, g) -> List.of(g.mul(in.get(0).sigmoid())));
     * }</pre>
     */
    public static Tensor customGradient(List<Tensor> inputs, Function<List<Tensor>, Tensor> forward,
            CustomGradient gradient) {
        String op = "customGradient";
        Checks.open(op, "inputs", inputs);
        Checks.notNull(op, "forward", forward);
        Checks.notNull(op, "gradient", gradient);
        Tensor raw = Checks.returned(op, "forward", Recorder.withoutRecording(() -> forward.apply(inputs)));
        // a fresh tensor object, so that a forward returning one of its inputs does not make a cycle on the tape
        // (not stopGradient, whose numerics check would name itself instead of customGradient)
        Tensor out = Shapes.alias(raw, op);
        Tensor[] in = inputs.toArray(new Tensor[0]);
        Recorder.record("customGradient", in, out, (g, needed) -> {
            List<Tensor> grads = Checks.returned(op, "gradient", gradient.apply(inputs, out, g));
            if (grads.size() != in.length) {
                throw new IllegalArgumentException(op + ": the gradient function returned " + grads.size()
                        + " gradients for " + in.length + " inputs");
            }
            for (int i = 0; i < in.length; i++) {
                Tensor gi = grads.get(i);
                // a gradient has the shape and dtype of its input; anything else would flow on as a wrong answer
                if (gi != null && (!gi.shape().equals(in[i].shape()) || gi.dtype() != in[i].dtype())) {
                    throw new IllegalArgumentException(op + ": gradient " + i + " is " + gi.shape() + " "
                            + gi.dtype() + ", but input " + i + " is " + in[i].shape() + " " + in[i].dtype());
                }
                // the ops inside the user's function are checked as they run; this catches a NaN it made otherwise
                // (Tensor.full(NaN, ...), host data)
                if (gi != null && NumericsCheck.enabled()) {
                    NumericsCheck.check("customGradient's gradient function (gradient " + i + ")",
                            new Tensor[] {in[i], out, g}, gi);
                }
            }
            return grads.toArray(new Tensor[0]);
        });
        return out;
    }

    /**
     * Turns the numerics check on or off, for every thread (PyTorch's anomaly mode, for NaN and infinities). While on,
     * the first op whose floating output holds a NaN or an infinity throws {@link NumericsException} naming the op,
     * its input shapes and the line of your code that ran it (the first stack frame outside Nabla); an op run by a
     * gradient also names the forward op whose gradient failed ("in the gradient of log") and, when checking was on
     * during the forward pass, the line that ran that forward op. Optimizer updates are checked too.
     *
     * <pre>{@code
     * Nabla.checkNumerics(true);               // or NABLA_CHECK_NUMERICS=1, or -Dnabla.checkNumerics=true
     * Tensor x = Tensor.of(new float[] {4, 0});
     * try (GradientTape tape = new GradientTape()) {
     *     tape.watch(x);
     *     Tensor y = x.sqrt().sum();           // fine: [2, 0]
     *     tape.gradient(y, x);                 // throws: div produced Inf (inputs (2,), (2,)) in the gradient of
     * } catch (NumericsException e) {          //   sqrt (inputs (2,), forward at Main.java:5) at Main.java:6; ...
     *     System.err.println(e.getMessage() + " " + e.op() + " " + e.gradientOf() + " " + e.userFrame());
     * } finally {
     *     Nabla.checkNumerics(false);
     * }
     * }</pre>
     *
     * <p>Off by default, and then free: each op reads one boolean. On, each op's output is reduced on its device and
     * one number is read back (a device-to-host synchronisation per op on a GPU), and each recorded op notes its
     * caller's line; expect training to run several times slower. Values made outside ops are not checked (host
     * data, {@code Tensor.full(Double.NaN, ...)}, loaded checkpoints): the first op that reads such a value and
     * outputs it is flagged, and the message says that its input already held it. Ops that produce infinities on
     * purpose (a {@code max} over a {@code -inf} mask) are flagged too: turn the check off around them.
     */
    public static void checkNumerics(boolean on) {
        NumericsCheck.setEnabled(on);
    }

    /**
     * True while {@link #checkNumerics(boolean)} is on; at startup, when the environment variable
     * {@code NABLA_CHECK_NUMERICS} or the system property {@code nabla.checkNumerics} is {@code 1} or {@code true}
     * (the property wins).
     */
    public static boolean isCheckingNumerics() {
        return NumericsCheck.enabled();
    }

    /**
     * The gradient function of {@link #customGradient}.
     *
     * <pre>{@code
     * Nabla.CustomGradient clipped = (inputs, output, g) -> List.of(g.minimum(1).maximum(-1));
     * }</pre>
     */
    @FunctionalInterface
    public interface CustomGradient {
        /** One gradient per input, each of that input's shape, or {@code null} for none. */
        List<Tensor> apply(List<Tensor> inputs, Tensor output, Tensor outputGradient);
    }
}
