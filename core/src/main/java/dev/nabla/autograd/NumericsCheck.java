package dev.nabla.autograd;

import dev.nabla.NumericsException;
import dev.nabla.Shape;
import dev.nabla.Tensor;
import dev.nabla.backend.Backend;
import dev.nabla.backend.BinaryOp;
import dev.nabla.backend.Buffer;
import dev.nabla.backend.ReduceOp;
import dev.nabla.internal.TensorAccess;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Supplier;

/**
 * The engine behind {@code Nabla.checkNumerics}: when on, every floating op output is checked for NaN and infinities
 * as it is recorded ({@link Recorder#record}, which every op calls after computing its output, whether or not a tape
 * is active), and the first non-finite one throws {@link NumericsException}. Public for the other Nabla packages, not
 * API.
 *
 * <p>Inputs that already hold NaN or an infinity: the op is still flagged when its output is non-finite (the
 * message says which input already was). With checking on from the start, no checked op lets a non-finite value
 * through, so such an input comes from outside the checked ops (host data, {@code Tensor.full(NaN, ...)}, a
 * checkpoint, or a value computed while checking was off) and the first op that reads it is where it enters.
 */
public final class NumericsCheck {
    /**
     * On or off. {@code volatile}, not a plain static: a plain field may legally be hoisted out of a loop by the JIT
     * once the op path is inlined, and then a toggle from another thread (a debugger, a watchdog) might never be
     * seen by a running training loop. A volatile read is an ordinary load on x86 (and a load-acquire on AArch64),
     * a nanosecond beside an op that allocates a tensor and calls a backend; it is read once per op, in
     * {@link Recorder#record}. {@code NotebookStepBench} measures it, with checking off and on.
     */
    private static volatile boolean enabled = initialSetting(System.getenv("NABLA_CHECK_NUMERICS"),
            System.getProperty("nabla.checkNumerics"));

    /** Nabla's library packages: frames in them are not the caller's code. */
    private static final Set<String> LIBRARY = Set.of("dev.nabla", "dev.nabla.ops", "dev.nabla.autograd",
            "dev.nabla.backend", "dev.nabla.nn", "dev.nabla.optim", "dev.nabla.cpu", "dev.nabla.cuda",
            "dev.nabla.check", "dev.nabla.io", "dev.nabla.summary", "dev.nabla.graph", "dev.nabla.data");

    private static final StackWalker WALKER = StackWalker.getInstance();

    /** What the current thread is differentiating, while a tape runs a gradient rule with checking on. */
    private static final ThreadLocal<Context> CONTEXT = new ThreadLocal<>();

    /** The forward op a gradient rule belongs to, and what part of its backward is running. */
    private record Context(String forwardOp, Tensor[] forwardInputs, StackTraceElement forwardFrame, String role) {
    }

    private NumericsCheck() {
    }

    /**
     * The setting at startup: on when the property {@code nabla.checkNumerics} is {@code true} or {@code 1}, or,
     * without the property, when the environment variable {@code NABLA_CHECK_NUMERICS} is; the property wins over
     * the environment, so {@code -Dnabla.checkNumerics=false} turns off what the environment turned on.
     */
    static boolean initialSetting(String environment, String property) {
        String v = property != null && !property.isBlank() ? property : environment;
        if (v == null) {
            return false;
        }
        return switch (v.trim().toLowerCase(Locale.ROOT)) {
            case "1", "true", "on", "yes" -> true;
            default -> false;
        };
    }

    /** True while checking is on. */
    public static boolean enabled() {
        return enabled;
    }

    /** Turns checking on or off for every thread. */
    public static void setEnabled(boolean on) {
        enabled = on;
    }

    /**
     * Throws {@link NumericsException} when floating {@code output} holds a NaN or an infinity; call only when
     * {@link #enabled()}.
     */
    public static void check(String op, Tensor[] inputs, Tensor output) {
        if (!output.dtype().isFloating() || output.isClosed() || output.size() == 0 || allFinite(output)) {
            return;
        }
        throw failure(op, inputs, output);
    }

    /**
     * True when every element is finite: the sum of {@code 0 · x} is NaN exactly when some {@code x} is NaN or
     * infinite, and it is computed on the device, so only one number crosses to the host (no large device-to-host
     * copy on a GPU).
     */
    private static boolean allFinite(Tensor t) {
        Backend b = TensorAccess.backend(t);
        Buffer x = TensorAccess.buffer(t, "checkNumerics");
        long n = x.size();
        Buffer zero = b.allocate(x.dtype(), 1);
        Buffer products = null;
        Buffer sum = null;
        try {
            b.fill(zero, 0);
            products = b.allocate(x.dtype(), n);
            b.binary(BinaryOp.MUL, x, new long[] {1}, zero, new long[] {0}, products, new long[] {n});
            sum = b.allocate(x.dtype(), 1);
            b.reduce(ReduceOp.SUM, products, 1, n, 1, sum);
            return !Double.isNaN(b.readDoubles(sum)[0]);
        } finally {
            zero.release();
            if (products != null) {
                products.release();
            }
            if (sum != null) {
                sum.release();
            }
        }
    }

    private static NumericsException failure(String op, Tensor[] inputs, Tensor output) {
        double[] values = output.toDoubleArray();
        long first = -1;
        long bad = 0;
        for (int i = 0; i < values.length; i++) {
            if (!Double.isFinite(values[i])) {
                bad++;
                if (first < 0) {
                    first = i;
                }
            }
        }
        double value = values[(int) first];
        List<Shape> shapes = new ArrayList<>();
        for (Tensor in : inputs) {
            shapes.add(in.shape());
        }
        StackTraceElement frame = userFrame();
        Context ctx = CONTEXT.get();
        StringBuilder m = new StringBuilder("checkNumerics: ").append(op).append(" produced ")
                .append(describe(value)).append(" (inputs ").append(shapeList(inputs)).append(')');
        if (ctx != null) {
            m.append(' ').append(ctx.role()).append(' ').append(ctx.forwardOp()).append(" (inputs ")
                    .append(shapeList(ctx.forwardInputs()));
            if (ctx.forwardFrame() != null) {
                m.append(", forward at ").append(ctx.forwardFrame());
            }
            m.append(')');
        }
        m.append(" at ").append(frame == null ? "<no caller frame outside Nabla>" : frame.toString());
        m.append("; ").append(bad).append(" of ").append(values.length).append(" elements of the output ")
                .append(output.shape()).append(" are not finite, the first at index ").append(first);
        for (int i = 0; i < inputs.length; i++) {
            String already = nonFinite(inputs[i]);
            if (already != null) {
                m.append("; input ").append(i).append(" already held ").append(already).append(
                        " (made outside the checked ops: host data, a fill, a load, or while checking was off)");
            }
        }
        return new NumericsException(m.toString(), op, shapes, frame, ctx == null ? null : ctx.forwardOp(),
                ctx == null ? null : ctx.forwardFrame(), first, value);
    }

    /** The first non-finite value of a floating tensor, described, or null. */
    private static String nonFinite(Tensor t) {
        if (t == null || t.isClosed() || !t.dtype().isFloating()) {
            return null;
        }
        for (double v : t.toDoubleArray()) {
            if (!Double.isFinite(v)) {
                return describe(v);
            }
        }
        return null;
    }

    private static String describe(double v) {
        return Double.isNaN(v) ? "NaN" : v > 0 ? "Inf" : "-Inf";
    }

    private static String shapeList(Tensor[] inputs) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < inputs.length; i++) {
            s.append(i == 0 ? "" : ", ").append(inputs[i].shape());
        }
        return s.toString();
    }

    /**
     * The first frame on this thread's stack outside Nabla's library packages and the JDK (reflection, lambda
     * plumbing): the caller's line. Test code in {@code dev.nabla.conformance} counts as a caller.
     */
    public static StackTraceElement userFrame() {
        return WALKER.walk(frames -> frames.filter(f -> !isLibraryOrJdk(f.getClassName())).findFirst()
                .map(StackWalker.StackFrame::toStackTraceElement).orElse(null));
    }

    static boolean isLibraryOrJdk(String className) {
        if (className.startsWith("java.") || className.startsWith("jdk.") || className.startsWith("sun.")
                || className.startsWith("com.sun.")) {
            return true;
        }
        int dot = className.lastIndexOf('.');
        return dot > 0 && LIBRARY.contains(className.substring(0, dot));
    }

    /**
     * Runs {@code body} (a gradient rule of {@code forwardOp}, or the summing of gradients around it) so that a
     * failing check inside names that forward op; {@code role} is how ("in the gradient of").
     */
    static <T> T during(String role, String forwardOp, Tensor[] forwardInputs, StackTraceElement forwardFrame,
            Supplier<T> body) {
        Context previous = CONTEXT.get();
        CONTEXT.set(new Context(forwardOp, forwardInputs, forwardFrame, role));
        try {
            return body.get();
        } finally {
            if (previous == null) {
                CONTEXT.remove();
            } else {
                CONTEXT.set(previous);
            }
        }
    }
}
