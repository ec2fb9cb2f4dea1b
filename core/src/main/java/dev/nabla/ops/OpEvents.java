package dev.nabla.ops;

import dev.nabla.backend.Backend;
import dev.nabla.backend.Buffer;
import dev.nabla.internal.Jfr;
import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Enabled;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/**
 * A Java Flight Recorder event for each primitive a backend computes, eagerly or in a replayed plan:
 * {@code dev.nabla.Op} with the op's name, attributes, output shape and dtype, the device, and how long the backend
 * call took (on an asynchronous device, the time to queue the work). It answers "which ops does my step spend its
 * time in", where JFR's execution samples cannot: a parallel kernel's samples sit on pool threads, away from the op
 * that started it.
 *
 * <pre>{@code
 * java -XX:StartFlightRecording:filename=step.jfr,+dev.nabla.Op#enabled=true ... Train
 * jfr print --events dev.nabla.Op step.jfr        # or JDK Mission Control's event browser, grouped by op
 * }</pre>
 *
 * <p>Off unless a recording enables it by name (a step runs thousands of ops, so a default recording should not
 * fill with them); otherwise each call costs the event's enabled check, and the JIT removes the event object.
 */
public final class OpEvents {
    private OpEvents() {
    }

    @Name("dev.nabla.Op")
    @Label("Nabla Op")
    @Category({"Nabla", "Ops"})
    @Description("A backend computed one primitive")
    @StackTrace(false)
    @Enabled(false)
    static final class Op extends Event {
        @Label("Op")
        String op;
        @Label("Attributes")
        String attributes;
        @Label("Shape")
        String shape;
        @Label("Data Type")
        String dtype;
        @Label("Device")
        String device;
    }

    /** {@code p.compute(backend, in, out)}, timed as a {@code dev.nabla.Op} event when a recording wants it. */
    public static void compute(Primitive p, Backend backend, Buffer[] in, Buffer out) {
        if (!Jfr.PRESENT) {
            p.compute(backend, in, out);
            return;
        }
        Recorded.compute(p, backend, in, out);
    }

    /** The event's side, loaded only where jdk.jfr exists ({@link Jfr}). */
    private static final class Recorded {
        static void compute(Primitive p, Backend backend, Buffer[] in, Buffer out) {
            Op e = new Op();
            if (!e.isEnabled()) {
                // begin() reads the clock even for a disabled event: two clock reads per op made W1 a third slower
                p.compute(backend, in, out);
                return;
            }
            e.begin();
            p.compute(backend, in, out);
            if (e.shouldCommit()) {
                e.op = p.name();
                e.attributes = p.attributes();
                e.shape = p.shape().toString();
                e.dtype = p.dtype().name();
                e.device = backend.device().toString();
                e.commit();
            }
        }
    }
}
