package dev.nabla.ops;

import dev.nabla.Tensor;
import dev.nabla.Variable;
import dev.nabla.autograd.BroadcastingVjp;
import dev.nabla.autograd.Recorder;
import dev.nabla.autograd.Vjp;
import dev.nabla.backend.Backend;
import dev.nabla.backend.Buffer;
import dev.nabla.backend.Storage;
import dev.nabla.internal.TensorAccess;

/**
 * The one entry point every op runs through (JAX's {@code bind}): given a checked {@link Primitive} and its inputs,
 * it allocates the output, runs the primitive on the inputs' backend (or defers it: {@link Deferral}), records the
 * application on the active tapes (which is also where the numerics check looks) and, while a function is being
 * traced on this thread, adds it to the graph under construction. Public for the other packages of core, not API.
 */
public final class Dispatch {
    private Dispatch() {
    }

    /** What a tracer is told about each op; installed by {@code dev.nabla.graph} while it traces. */
    public interface Listener {
        /** {@code p} ran on {@code in} (on {@code backend}) and gave {@code out}. */
        void applied(Primitive p, Backend backend, Tensor[] in, Tensor out);

        /**
         * A side effect in program order (a Variable's {@code assign}, an optimizer's update): a replay runs
         * {@code replay} with the replayed values of {@code in} ({@code null} entries stay null).
         */
        void effect(String name, Tensor[] in, java.util.function.Consumer<Tensor[]> replay);

        /** A position in the graph under construction, for {@link #customGradient}. */
        int mark();

        /**
         * The nodes added since {@code mark} are the forward of a {@code customGradient} from {@code in} to
         * {@code out}; a replay under a tape runs them unrecorded and then {@code record} with the replayed tensors.
         */
        void customGradient(int mark, Tensor[] in, Tensor out, java.util.function.BiConsumer<Tensor[], Tensor> record);
    }

    /**
     * Reports a side effect to this thread's tracer, if any, and runs {@code now} with tracing suspended (its own ops
     * are not traced: the effect node stands for them and replays them).
     */
    public static void effect(String name, Tensor[] in, java.util.function.Consumer<Tensor[]> replay, Runnable now) {
        Listener l = LISTENER.get();
        if (l == null) {
            now.run();
            return;
        }
        l.effect(name, in, replay);
        LISTENER.remove();
        try {
            now.run();
        } finally {
            LISTENER.set(l);
        }
    }

    /**
     * Refuses a read of values to Java while a function is being traced: the body runs only when tracing, so the
     * value it would read is the first call's, not the current one (tf.function's rule).
     */
    public static void refuseHostReadWhileTracing(String call, Tensor t) {
        if (LISTENER.get() != null) {
            throw new IllegalStateException(call + ": cannot read a tensor's values to Java inside a traced function "
                    + "(Nabla.function): the body runs only when tracing, so later calls would not read anything; "
                    + "return the tensor " + t.shape() + " " + t.dtype() + " from the function and read it there");
        }
    }

    private static final ThreadLocal<Listener> LISTENER = new ThreadLocal<>();

    /** Installs (or, with {@code null}, removes) this thread's listener; returns the previous one. */
    public static Listener listen(Listener l) {
        Listener previous = LISTENER.get();
        if (l == null) {
            LISTENER.remove();
        } else {
            LISTENER.set(l);
        }
        return previous;
    }

    /** The listener of this thread, or null. */
    public static Listener listener() {
        return LISTENER.get();
    }

    /** Runs {@code p} on {@code in}, whose first element gives the backend. */
    public static Tensor apply(Primitive p, Tensor... in) {
        return apply(TensorAccess.backend(in[0]), p, in);
    }

    /** Runs {@code p} on {@code in} on {@code backend} (for primitives without inputs: fill, iota, random). */
    public static Tensor apply(Backend backend, Primitive p, Tensor... in) {
        Tensor out = Deferral.defer(backend, p, in);
        if (out == null) {
            out = execute(backend, p, in);
        }
        record(p, in, out);
        Listener l = LISTENER.get();
        if (l != null) {
            l.applied(p, backend, in, out);
        }
        return out;
    }

    /** Allocates and computes, without recording: what a graph replay does for one node. */
    public static Tensor execute(Backend backend, Primitive p, Tensor[] in) {
        String name = p.name();
        if (p.isView()) {
            Tensor x = in[0];
            // NOTE: a Variable's buffer changes in place, so a view of a Variable is a copy
            Storage s = x instanceof Variable ? Creation.copyStorage(x, name) : TensorAccess.storage(x, name);
            return TensorAccess.wrap(s, p.shape());
        }
        Buffer[] buffers = new Buffer[in.length];
        for (int i = 0; i < in.length; i++) {
            buffers[i] = TensorAccess.buffer(in[i], name);
        }
        Tensor out = Creation.empty(name, backend, p.dtype(), p.shape());
        try {
            OpEvents.compute(p, backend, buffers, TensorAccess.buffer(out, name));
        } catch (RuntimeException | Error e) {
            out.close();
            throw e;
        }
        return out;
    }

    /** Records an application on the tapes as its {@link Primitive#recording()} says. */
    public static void record(Primitive p, Tensor[] in, Tensor out) {
        if (p.recording() == Primitive.Recording.NONE) {
            return;
        }
        Vjp rule = p.takesBroadcastGradient() ? (BroadcastingVjp) (g, needed) -> p.gradient(in, out, g, needed)
                : (g, needed) -> p.gradient(in, out, g, needed);
        if (p.recording() == Primitive.Recording.LINEAR) {
            Recorder.recordLinear(p.name(), in, out, rule);
        } else {
            Recorder.record(p.name(), in, out, rule);
        }
    }
}
