package dev.nabla;

import dev.nabla.autograd.NumericsCheck;
import dev.nabla.ops.Elementwise;
import dev.nabla.ops.Shapes;
import dev.nabla.graph.GraphFunction;
import dev.nabla.graph.TracedFunction;
import dev.nabla.ops.Checks;
import java.util.List;
import java.util.function.BiFunction;
import java.util.function.Supplier;
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
        return dev.nabla.ops.CustomGradients.apply(inputs, forward, gradient::apply);
    }

    /**
     * A traced function of no inputs, TensorFlow's {@code tf.function} on a closure: the first call runs
     * {@code body} once and records its ops into a graph; later calls replay the graph. Variables it reads are
     * captured by reference, and {@code assign*} and optimizer updates inside run on every call. See
     * {@link TracedFunction} for the rules.
     *
     * <pre>{@code
     * Variable x = Variable.of(3.0f);
     * TracedFunction fx = Nabla.function(() -> x.square().add(x).sub(1));
     * fx.call();                                // traces: runs the lambda once
     * x.assign(Tensor.scalar(2f));
     * fx.call();                                // replays: 5.0, from x's current value
     * }</pre>
     */
    public static TracedFunction function(Supplier<Tensor> body) {
        Checks.notNull("function", "body", body);
        return GraphFunction.of("function", 0, in -> body.get());
    }

    /** A traced function of one tensor; it retraces for each new shape, dtype or device of its input. */
    public static TracedFunction function(Function<Tensor, Tensor> body) {
        Checks.notNull("function", "body", body);
        return GraphFunction.of("function", 1, in -> body.apply(in[0]));
    }

    /** A traced function of two tensors; it retraces for each new signature of its inputs. */
    public static TracedFunction function(BiFunction<Tensor, Tensor, Tensor> body) {
        Checks.notNull("function", "body", body);
        return GraphFunction.of("function", 2, in -> body.apply(in[0], in[1]));
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
     * Opens a memory {@link Scope} on this thread: its {@code close()} closes every tensor created on this thread
     * since, except the ones passed to {@link Scope#keep} and Variables. Scopes nest.
     *
     * <pre>{@code
     * try (Scope s = Nabla.scope()) {
     *     Tensor y = s.keep(x.mul(x).add(1).sum());   // x*x and x*x+1 are freed at the end of the block
     * }
     * }</pre>
     */
    public static Scope scope() {
        return new Scope();
    }

    /**
     * Runs {@code body} in a {@link Scope}; its result survives (a Tensor, or each Tensor of a List result) and
     * belongs to the enclosing scope, if any. Everything else the body made on this thread is closed, also when it
     * throws.
     *
     * <pre>{@code
     * Tensor loss = Nabla.scoped(() -> model.forward(x).sub(y).square().mean());
     * }</pre>
     */
    public static <T> T scoped(java.util.function.Supplier<T> body) {
        Checks.notNull("scoped", "body", body);
        try (Scope s = new Scope()) {
            T result = body.get();
            if (result instanceof Tensor t) {
                s.keep(t);
            } else if (result instanceof List<?> list) {
                for (Object o : list) {
                    if (o instanceof Tensor t) {
                        s.keep(t);
                    }
                }
            }
            return result;
        }
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
