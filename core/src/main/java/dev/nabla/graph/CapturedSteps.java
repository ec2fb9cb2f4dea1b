package dev.nabla.graph;

import dev.nabla.Tensor;
import dev.nabla.backend.Backend;
import dev.nabla.backend.Buffer;
import dev.nabla.backend.Replay;
import dev.nabla.internal.TensorAccess;
import dev.nabla.ops.Creation;
import java.lang.ref.Cleaner;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The runs of a {@link Plan}'s steps that its backend recorded once ({@link Backend#capture}, a CUDA graph) and
 * launches with one call at each replay.
 *
 * <p>A run ("segment") is a maximal sequence of pure primitives on one backend: side effects (a Variable's assign,
 * an optimizer update, which compute learning rates and iteration counts on the host at each call) and random draws
 * (whose counters advance at each call) run as before between segments. A recording bakes in every buffer address,
 * so a segment reads only buffers that stay put: the plan's own slots, captured constants, Variables (whose storage
 * never changes; a closed one drops the recording, and the plan's replay then fails as without it), and, for the
 * values that are new at each call (the function's arguments, and the result when another step makes it), buffers of
 * the segment's own that the call copies into (device to device) before the launch. The result, when the segment
 * makes it, is written into a buffer of the segment and copied out into the call's fresh result tensor. The steps
 * and their arguments are the ones the plan runs, so a recorded replay gives the same bits.
 *
 * <p>{@code -Dnabla.graph.capture=false} turns recording off.
 */
final class CapturedSteps {
    private static final Cleaner CLEANER = Cleaner.create();

    /** True unless {@code -Dnabla.graph.capture=false}. */
    static boolean enabled() {
        return !"false".equalsIgnoreCase(System.getProperty("nabla.graph.capture"));
    }

    /** A recorded run of steps. */
    private static final class Segment {
        final Backend backend;
        final List<Plan.Step> steps = new ArrayList<>();
        /** Per-call values the segment reads (root value id to the segment's own buffer), copied in per launch. */
        final Map<Integer, Tensor> copyIn = new LinkedHashMap<>();
        /** The segment's buffer for the result, when a step of it makes the result; else null. */
        Tensor copyOut;
        final List<Tensor> variables = new ArrayList<>();
        Replay replay;

        Segment(Backend backend) {
            this.backend = backend;
        }
    }

    private final Map<Plan.Step, Segment> segmentOf = new IdentityHashMap<>();
    private final int resultRoot;
    private final List<Replay> replays; // shared with the Cleaner's action, which must not hold this object

    private CapturedSteps(int resultRoot, List<Replay> replays) {
        this.resultRoot = resultRoot;
        this.replays = replays;
    }

    /**
     * Records the capturable runs of {@code steps} on their backends; null when none could be recorded (a backend
     * that does not record, such as the CPU, or bodies that cannot be recorded). The recordings are closed when
     * {@code owner} becomes unreachable.
     */
    static CapturedSteps capture(Object owner, List<Plan.Step> steps, List<Value> values, int[] root, int resultRoot,
            Buffer[] fixed) {
        List<Segment> segments = segments(steps);
        List<Replay> replays = new ArrayList<>();
        CapturedSteps c = new CapturedSteps(resultRoot, replays);
        Map<Backend, Boolean> records = new IdentityHashMap<>();
        for (Segment s : segments) {
            if (!records.computeIfAbsent(s.backend, CapturedSteps::records)) {
                continue;                                  // the CPU: no buffers of its own for nothing
            }
            Buffer[] buffers = fixed.clone();
            prepare(s, values, root, resultRoot, buffers);
            s.replay = s.backend.capture(() -> {
                for (Plan.Step step : s.steps) {
                    step.primitive.compute(step.backend, step.operands(buffers, new Buffer[step.operandCount()]),
                            buffers[step.out]);
                }
            });
            if (s.replay != null) {
                replays.add(s.replay);
                for (Plan.Step step : s.steps) {
                    c.segmentOf.put(step, s);
                }
            }
        }
        if (replays.isEmpty()) {
            return null;
        }
        CLEANER.register(owner, () -> replays.forEach(Replay::close));
        return c;
    }

    /** Whether {@code backend} records at all: an empty body is recorded, or null at once (the default). */
    private static boolean records(Backend backend) {
        Replay probe = backend.capture(() -> { });
        if (probe == null) {
            return false;
        }
        probe.close();
        return true;
    }

    /** Maximal runs of pure primitives on one backend. */
    private static List<Segment> segments(List<Plan.Step> steps) {
        List<Segment> segments = new ArrayList<>();
        Segment current = null;
        for (Plan.Step s : steps) {
            if (s.isEffect() || !s.primitive.isPure()) {
                current = null;
                continue;
            }
            if (current == null || current.backend != s.backend) {
                current = new Segment(s.backend);
                segments.add(current);
            }
            current.steps.add(s);
        }
        return segments;
    }

    /** The segment's own buffers for per-call values, in {@code buffers} (a copy of the plan's fixed buffers). */
    private static void prepare(Segment s, List<Value> values, int[] root, int resultRoot, Buffer[] buffers) {
        Map<Integer, Tensor> own = new LinkedHashMap<>();
        boolean[] made = new boolean[values.size()];
        for (Plan.Step step : s.steps) {
            for (int v : step.in) {
                if (v < 0) {
                    continue;
                }
                int r = root[v];
                Value value = values.get(r);
                if (value.kind() == Value.Kind.VARIABLE && !s.variables.contains(value.captured())) {
                    s.variables.add(value.captured());
                }
                boolean perCall = value.kind() == Value.Kind.INPUT || (r == resultRoot && !made[r]);
                if (perCall && !own.containsKey(r)) {
                    own.put(r, buffer(s.backend, value));
                    s.copyIn.put(r, own.get(r));
                }
            }
            for (int v : step.outputs()) {
                made[v] = true;
            }
            if (step.out == resultRoot) {
                Value value = values.get(resultRoot);
                s.copyOut = own.computeIfAbsent(resultRoot, r -> buffer(s.backend, value));
            }
        }
        for (int v = 0; v < buffers.length; v++) {
            Tensor t = own.get(root[v]);
            if (t != null) {
                buffers[v] = TensorAccess.buffer(t, "function");
            }
        }
    }

    /** A buffer of the segment's own for {@code value}, outside any memory scope open on this thread. */
    private static Tensor buffer(Backend backend, Value value) {
        return TensorAccess.detach(Creation.empty("function", backend, value.dtype(), value.shape()));
    }

    /**
     * True when {@code step} belongs to a recorded segment, which runs instead of it: at the segment's first step,
     * its per-call values are copied in from {@code buf} (the call's buffers), the recording is launched and the
     * result copied out. False for steps the plan runs itself, and for the steps of a segment dropped because a
     * Variable it reads was closed (the plan's replay then reports it).
     */
    boolean covers(Plan.Step step, Buffer[] buf) {
        Segment s = segmentOf.get(step);
        if (s == null) {
            return false;
        }
        if (s.steps.get(0) != step) {
            return true;
        }
        for (Tensor v : s.variables) {
            if (v.isClosed()) {
                drop(s);
                return false;
            }
        }
        for (Map.Entry<Integer, Tensor> e : s.copyIn.entrySet()) {
            copy(s.backend, buf[e.getKey()], TensorAccess.buffer(e.getValue(), "function"));
        }
        s.replay.launch();
        if (s.copyOut != null) {
            copy(s.backend, TensorAccess.buffer(s.copyOut, "function"), buf[resultRoot]);
        }
        return true;
    }

    private void drop(Segment s) {
        for (Plan.Step step : s.steps) {
            segmentOf.remove(step);
        }
        replays.remove(s.replay);
        s.replay.close();
    }

    private static void copy(Backend backend, Buffer src, Buffer dst) {
        long[] dense = {1};
        backend.copy(src, 0, dense, dst, 0, dense, new long[] {src.size()});
    }

    /** How many steps run inside recordings (for tests and listings). */
    int capturedSteps() {
        return segmentOf.size();
    }
}
