package dev.nabla;

import dev.nabla.autograd.Recorder;
import dev.nabla.autograd.Tape;
import dev.nabla.ops.Checks;
import dev.nabla.ops.Creation;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;

/**
 * Records ops on this thread for reverse-mode differentiation, as TensorFlow's {@code tf.GradientTape}.
 *
 * <pre>{@code
 * Variable x = Variable.of(3.0f);
 * Tensor dy;
 * try (GradientTape tape = new GradientTape()) {
 *     Tensor y = x.square();               // y = x^2
 *     dy = tape.gradient(y, x);            // dy/dx = 2x = 6.0
 * }
 * }</pre>
 *
 * <p>A non-persistent tape allows one {@code gradient} or {@code jacobian} call and then releases what it saved;
 * a persistent one allows many and keeps its records until {@link #release()} or garbage collection. Gradients
 * computed while an outer tape records are recorded on it, so nested tapes give higher-order derivatives.
 */
public final class GradientTape implements AutoCloseable {
    private final Tape tape;

    /** A non-persistent tape that watches trainable variables automatically; it records from now on. */
    public GradientTape() {
        this(false, true);
    }

    /** A tape; it records from now on. */
    public GradientTape(boolean persistent, boolean watchAccessedVariables) {
        this.tape = new Tape(persistent, watchAccessedVariables);
    }

    /** A persistent tape that watches trainable variables automatically. */
    public static GradientTape persistent() {
        return new GradientTape(true, true);
    }

    /** Watches tensors so that gradients with respect to them can be taken (non-float tensors are ignored). */
    public void watch(Tensor... tensors) {
        for (Tensor t : Checks.notNullElements("watch", "tensors", tensors)) {
            tape.watch(t);
        }
    }

    /** The tensors this tape watches (TF's {@code watched_variables}, including watched plain tensors). */
    public List<Tensor> watched() {
        return tape.watchedTensors();
    }

    /** The gradient of {@code sum(target)} with respect to {@code source}, or {@code null} when unconnected. */
    public Tensor gradient(Tensor target, Tensor source) {
        Checks.notNull("gradient", "target", target);
        Checks.notNull("gradient", "source", source);
        return tape.gradient(target, new Tensor[] {source}, null)[0];
    }

    /** Gradients with respect to each source, {@code null} for unconnected ones. */
    public List<Tensor> gradient(Tensor target, List<? extends Tensor> sources) {
        Checks.notNull("gradient", "target", target);
        Checks.notNullElements("gradient", "sources", sources);
        return Arrays.asList(tape.gradient(target, sources.toArray(new Tensor[0]), null));
    }

    /** The gradient of {@code sum(target · outputGradient)} with respect to {@code source}. */
    public Tensor gradient(Tensor target, Tensor source, Tensor outputGradient) {
        Checks.notNull("gradient", "target", target);
        Checks.notNull("gradient", "source", source);
        return tape.gradient(target, new Tensor[] {source}, outputGradient)[0];
    }

    /**
     * The full Jacobian, shape {@code target.shape ++ source.shape}; {@code null} when unconnected.
     * One backward pass per target element.
     */
    public Tensor jacobian(Tensor target, Tensor source) {
        tape.checkUsable("jacobian");
        Checks.notNull("jacobian", "target", target);
        Checks.notNull("jacobian", "source", source);
        try {
            return withoutSelf(() -> jacobianRows(target, source, target.shape().dims(), target));
        } finally {
            if (!tape.persistent()) {
                tape.release();
            }
        }
    }

    /**
     * For {@code target} of shape {@code (b, y...)} and {@code source} of {@code (b, x...)} whose rows are
     * independent, the per-row Jacobians, shape {@code (b, y..., x...)}.
     */
    public Tensor batchJacobian(Tensor target, Tensor source) {
        tape.checkUsable("batchJacobian");
        Checks.notNull("batchJacobian", "target", target);
        Checks.notNull("batchJacobian", "source", source);
        if (target.rank() < 1 || source.rank() < 1 || target.shape().dim(0) != source.shape().dim(0)) {
            throw new IllegalArgumentException("batchJacobian: target " + target.shape() + " and source "
                    + source.shape() + " need the same leading batch dimension");
        }
        try {
            return withoutSelf(() -> {
                long b = target.shape().dim(0);
                long rowSize = b == 0 ? 0 : target.size() / b;
                long[] ys = Arrays.copyOfRange(target.shape().dims(), 1, target.rank());
                // d(sum over rows of target[:, j]) / d source[r] = d target[r, j] / d source[r] since rows are independent
                List<Tensor> columns = new ArrayList<>();
                boolean connected = false;
                for (long j = 0; j < rowSize; j++) {
                    Tensor seed = unitColumn(target, b, rowSize, j);
                    Tensor g = tape.backward(target, new Tensor[] {source}, seed)[0];
                    connected |= g != null;
                    columns.add(g != null ? g : Tensor.zerosLike(source));
                }
                if (!connected && rowSize > 0) {
                    return null;
                }
                long[] out = concat(new long[] {b}, concat(ys, Arrays.copyOfRange(source.shape().dims(), 1,
                        source.rank())));
                if (columns.isEmpty()) {
                    return Tensor.zeros(source.device(), out).to(source.dtype());
                }
                return Nabla.stack(columns, 1).reshape(out);
            });
        } finally {
            if (!tape.persistent()) {
                tape.release();
            }
        }
    }

    private Tensor jacobianRows(Tensor target, Tensor source, long[] targetDims, Tensor t) {
        long n = t.size();
        List<Tensor> rows = new ArrayList<>();
        boolean connected = false;
        for (long i = 0; i < n; i++) {
            double[] seed = new double[(int) n];
            seed[(int) i] = 1;
            Tensor g = tape.backward(target, new Tensor[] {source},
                    Creation.withShape(target.device(), seed, target.shape()).to(target.dtype()))[0];
            connected |= g != null;
            rows.add(g != null ? g : Tensor.zerosLike(source));
        }
        long[] out = concat(targetDims, source.shape().dims());
        if (n > 0 && !connected) {
            return null;
        }
        if (rows.isEmpty()) {
            return Tensor.full(source.device(), 0, source.dtype(), out);
        }
        return Nabla.stack(rows, 0).reshape(out);
    }

    private static Tensor unitColumn(Tensor target, long b, long rowSize, long j) {
        double[] seed = new double[(int) target.size()];
        for (long r = 0; r < b; r++) {
            seed[(int) (r * rowSize + j)] = 1;
        }
        return Creation.withShape(target.device(), seed, target.shape()).to(target.dtype());
    }

    private static long[] concat(long[] a, long[] b) {
        long[] r = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    private <T> T withoutSelf(Supplier<T> body) {
        return tape.paused(body);
    }

    /** Runs {@code body} with this tape paused (TF's {@code tape.stop_recording()}). */
    public <T> T stopRecording(Supplier<T> body) {
        return tape.paused(Checks.notNull("stopRecording", "body", body));
    }

    /** Runs {@code body} with every tape on this thread paused. */
    public static <T> T withoutRecording(Supplier<T> body) {
        return Recorder.withoutRecording(Checks.notNull("withoutRecording", "body", body));
    }

    /** Frees what the tape saved; later gradient calls throw. */
    public void release() {
        tape.release();
    }

    /** Stops recording (the end of TF's {@code with} block); gradients may still be taken afterwards. */
    @Override
    public void close() {
        tape.stop();
    }
}
