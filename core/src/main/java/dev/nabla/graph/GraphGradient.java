package dev.nabla.graph;

import dev.nabla.Tensor;
import dev.nabla.autograd.NumericsCheck;
import dev.nabla.autograd.Recorder;
import dev.nabla.autograd.SplitVjp;
import dev.nabla.autograd.Tape;
import dev.nabla.internal.TensorAccess;
import dev.nabla.ops.Dispatch;
import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * The backward of one traced graph as a traced graph of its own (TF's function gradient). A replayed call recorded by
 * a tape runs the forward through its {@link Plan} and puts ONE node on the tape; its inputs are the call's distinct
 * input tensors and the Variables the graph captures by reference (a tape watching a Variable gets its gradient, and
 * the node saves their versions). Its gradient rule calls a backward function, traced once per (signature, inputs that
 * need a gradient) and replayed as a plan after that:
 * <pre>
 *   backward(node inputs..., upstream gradient) -> the gradient terms of each needed input
 * </pre>
 * Its body replays the forward op by op under an internal tape watching the needed inputs, then walks that tape with
 * the upstream gradient ({@link Tape#contributions}). That trace is then cut where the forward's replay ends
 * ({@link BackwardSplit}): from the next call on, the forward runs as a plan that also returns the forward values the
 * gradient part reads (as TF's function gradients save the forward's intermediates), the tape node holds them, and the
 * gradient runs the gradient part alone on them, so the forward runs once per step. The saved values are closed when
 * the last tape that recorded the node is released. Recomputed as before: the first gradient (it traces), a backward
 * that reads a value the call did not save (its inputs needing a gradient differ from the ones the tape watched at
 * the call), and a gradient taken while another tape records or a trace listens (they must see the forward's ops:
 * nested tapes, so a call that several tapes record saves nothing).
 *
 * <p>Bits: each input's gradient comes back as its separate terms, one per use inside the graph, in the order the
 * eager walk meets them, and the outer tape adds them one by one onto what it holds ({@link SplitVjp}), so the sums
 * are the eager ones even when the input is also used outside the call. An outer tape recording while the backward
 * runs (nested tapes) records the backward call the same way when it has one result, and its ops one by one
 * otherwise (the tape has no multi-output nodes); either gives the eager higher-order gradients.
 *
 * <p>Not used (the call replays op by op, as before) for graphs with side effects, random draws, a customGradient
 * whose rule may hold trace tensors, several results or a non-float result, or without a plan; nor while another
 * trace is active or the numerics check is on ({@link #appliesNow}).
 */
final class GraphGradient {
    private final Graph forward;
    private final boolean eligible;
    /** The Variables the forward captures by reference, in value order (as {@link Graph#replay} takes them). */
    private final List<Tensor> variables = new ArrayList<>();
    private final Map<Key, Backward> backwards = new HashMap<>();
    /** The backward graph the latest gradient ran, for {@link #listing}. */
    private volatile Graph shown;
    private volatile BackwardSplit shownSplit;
    private volatile WeakReference<Tensor[]> lastSaved;

    GraphGradient(Graph forward) {
        this.forward = forward;
        for (Value v : forward.values) {
            if (v.kind() == Value.Kind.VARIABLE) {
                variables.add(v.captured());
            }
        }
        this.eligible = forward.outputs.length == 1 && forward.values.get(forward.output).dtype().isFloating()
                && replayable(forward.nodes);
    }

    /** {@code -Dnabla.graph.saveForwardValues=false} makes every backward recompute the forward, for comparisons. */
    static final boolean SAVE = !"false".equals(System.getProperty("nabla.graph.saveForwardValues"));

    /** True when a call now may take this path: a tape records, and nothing needs the ops one by one. */
    static boolean appliesNow() {
        return Graph.OPTIMIZE && Recorder.isRecording() && Dispatch.listener() == null && !NumericsCheck.enabled();
    }

    /** No effect, no random draw, no customGradient whose rule may hold the trace's tensors. */
    private static boolean replayable(List<Node> nodes) {
        for (Node n : nodes) {
            boolean ok = switch (n) {
                case Node.Apply a -> a.primitive().isPure();
                case Node.Effect e -> false;
                case Node.Custom c -> c.ruleReplayable() && replayable(c.body());
            };
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    /**
     * Runs the forward through its plan and records it as one tape node; null when this path does not apply (the
     * caller replays op by op). When a backward for the inputs the recording tape watches was traced already and
     * could be split ({@link BackwardSplit}), the forward also computes the values that backward reads, and the node
     * holds them for it.
     */
    Tensor callRecorded(Tensor[] args) {
        if (!eligible) {
            return null;
        }
        // the node's inputs: each distinct tensor once (an input passed twice, a captured Variable passed as well)
        Map<Tensor, Integer> at = new IdentityHashMap<>();
        List<Tensor> inputs = new ArrayList<>();
        int[] argAt = new int[args.length];
        for (int i = 0; i < args.length; i++) {
            argAt[i] = at.computeIfAbsent(args[i], t -> add(inputs, t));
        }
        int[] varAt = new int[variables.size()];
        for (int k = 0; k < varAt.length; k++) {
            varAt[k] = at.computeIfAbsent(variables.get(k), t -> add(inputs, t));
        }
        Tensor[] nodeInputs = inputs.toArray(new Tensor[0]);
        boolean[] watched = new boolean[nodeInputs.length];
        // NOTE: with several tapes (nested), the inner gradient runs while the outer records, which recomputes
        BackwardSplit split = SAVE && Recorder.watchers(nodeInputs, watched) == 1
                ? splitFor(new Key(watched, argAt, varAt)) : null;
        long before = TensorAccess.lastSerial();
        Tensor[] r = split == null ? null : split.forwardWithSaved.runPlanned(args);
        if (r == null) {
            split = null;
            r = forward.runPlanned(args);
            if (r == null) {
                return null;
            }
        }
        Tensor out = r[0];
        Saved saved = split == null ? null : new Saved(split, r, before);
        SplitVjp vjp = (g, needed) -> backward(nodeInputs, argAt, varAt, saved, g, needed);
        List<Tape> tapes = Recorder.recordOn("call " + forward.name, nodeInputs, out, vjp);
        if (saved != null) {
            saved.closeWhenReleased(tapes);
            lastSaved = new WeakReference<>(saved.values);
        }
        return out;
    }

    /** The split of the backward for {@code key} when it was traced and could be split, else null. */
    private synchronized BackwardSplit splitFor(Key key) {
        Backward b = backwards.get(key);
        return b == null ? null : b.split;
    }

    private static int add(List<Tensor> list, Tensor t) {
        list.add(t);
        return list.size() - 1;
    }

    /** Which backward function: the inputs that need a gradient, and where the call's tensors sit among them. */
    private record Key(boolean[] needed, int[] argAt, int[] varAt) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && Arrays.equals(needed, k.needed) && Arrays.equals(argAt, k.argAt)
                    && Arrays.equals(varAt, k.varAt);
        }

        @Override
        public int hashCode() {
            return 31 * (31 * Arrays.hashCode(needed) + Arrays.hashCode(argAt)) + Arrays.hashCode(varAt);
        }
    }

    private Tensor[][] backward(Tensor[] nodeInputs, int[] argAt, int[] varAt, Saved saved, Tensor g,
            boolean[] needed) {
        Key key = new Key(needed.clone(), argAt, varAt);
        Backward b;
        synchronized (this) {
            b = backwards.computeIfAbsent(key, k -> new Backward(k, nodeInputs.length));
        }
        Tensor[] args = Arrays.copyOf(nodeInputs, nodeInputs.length + 1);
        args[nodeInputs.length] = g;
        // g passed as a node input too would be another signature of the backward, with no split of its own
        boolean distinct = true;
        for (Tensor t : nodeInputs) {
            distinct &= t != g;
        }
        BackwardSplit split = distinct ? b.split : null;
        Tensor[] terms;
        // an outer tape recording the walk (or an enclosing trace) must see the forward's ops: recomputed then
        if (saved != null && split != null && saved.covers(split) && !Recorder.isRecording()
                && Dispatch.listener() == null) {
            Tensor[] in = new Tensor[nodeInputs.length + split.saved.length + 1];
            System.arraycopy(nodeInputs, 0, in, 0, nodeInputs.length);
            for (int i = 0; i < split.saved.length; i++) {
                in[nodeInputs.length + i] = saved.valueOf(split.saved[i]);
            }
            in[in.length - 1] = g;
            terms = split.gradient.runAll(in);
            shownSplit = split;
            shown = split.gradient;
        } else {
            terms = b.function.callAll(args);
            Graph traced = b.function.graphFor(args);
            if (distinct && traced != null) {
                b.splitOnce(traced);
            }
            shown = traced;
        }
        int[] layout = b.layout;
        Tensor[][] r = new Tensor[nodeInputs.length][];
        int next = 0;
        for (int j = 0; j < r.length; j++) {
            r[j] = Arrays.copyOfRange(terms, next, next + layout[j]);
            next += layout[j];
        }
        return r;
    }

    /**
     * The values one recorded call saved for its backward, closed when the last tape holding the call's node is
     * released (a memory scope around the call leaves them to the tape: they were made while it recorded).
     */
    private static final class Saved {
        final BackwardSplit split;
        /** Per {@code split.saved} entry, its value in this call (the call's result itself where it is one). */
        final Tensor[] values;
        private final Tensor result;
        private final long before;
        private int pins;

        Saved(BackwardSplit split, Tensor[] results, long before) {
            this.split = split;
            this.result = results[0];
            this.before = before;
            this.values = new Tensor[split.saved.length];
            for (int i = 0; i < values.length; i++) {
                values[i] = results[split.savedAt[i]];
            }
        }

        /** True when every value {@code other} reads was saved here. */
        boolean covers(BackwardSplit other) {
            for (int v : other.saved) {
                if (indexOf(v) < 0) {
                    return false;
                }
            }
            return true;
        }

        Tensor valueOf(int forwardValue) {
            return values[indexOf(forwardValue)];
        }

        private int indexOf(int forwardValue) {
            for (int i = 0; i < split.saved.length; i++) {
                if (split.saved[i] == forwardValue) {
                    return i;
                }
            }
            return -1;
        }

        synchronized void closeWhenReleased(List<Tape> tapes) {
            pins = tapes.size();
            if (pins == 0 || values.length == 0) {
                close();
                return;
            }
            for (Tape t : tapes) {
                t.onRelease(this::unpin);
            }
        }

        private synchronized void unpin() {
            if (--pins == 0) {
                close();
            }
        }

        /** Closes what this call made (not its result, which the caller holds). */
        private void close() {
            for (Tensor t : values) {
                if (t != result && TensorAccess.serial(t) > before) {
                    t.close();
                }
            }
        }
    }

    /** One backward function and how its results split into each node input's gradient terms. */
    private final class Backward {
        final GraphFunction function;
        /** Per node input, how many of the backward's results are its terms (fixed by the trace). */
        volatile int[] layout;
        /** The traced backward cut at the end of its forward replay; null before or when it has none. */
        volatile BackwardSplit split;
        private boolean splitTried;
        private final Key key;

        Backward(Key key, int inputs) {
            this.key = key;
            this.function = GraphFunction.ofResults("gradient of " + forward.name, inputs + 1,
                    in -> terms(key, in));
        }

        /** Splits the traced backward once (a retrace for another signature gives the same split). */
        synchronized void splitOnce(Graph traced) {
            if (!splitTried) {
                splitTried = true;
                split = BackwardSplit.of(forward, traced, key.needed().length, key.argAt(), key.varAt());
            }
        }

        /** The traced body: the forward again, op by op under a tape of its own, and that tape's walk. */
        private List<Tensor> terms(Key key, Tensor[] in) {
            int n = in.length - 1;
            Tensor g = in[n];
            Tensor[] args = new Tensor[key.argAt().length];
            for (int i = 0; i < args.length; i++) {
                args[i] = in[key.argAt()[i]];
            }
            Tensor[] vars = new Tensor[key.varAt().length];
            for (int k = 0; k < vars.length; k++) {
                vars[k] = in[key.varAt()[k]];
            }
            List<Tensor> sources = new ArrayList<>();
            List<Integer> sourceOf = new ArrayList<>();
            for (int j = 0; j < n; j++) {
                if (key.needed()[j]) {
                    sources.add(in[j]);
                    sourceOf.add(j);
                }
            }
            Tape tape = new Tape(false, false);
            Tensor[][] found;
            try {
                for (Tensor s : sources) {
                    tape.watch(s);
                }
                Tensor y = forward.replay(args, vars)[0];
                tape.stop();
                found = tape.contributions(y, sources.toArray(new Tensor[0]), g);
            } finally {
                tape.release();
            }
            int[] counts = new int[n];
            List<Tensor> results = new ArrayList<>();
            for (int s = 0; s < found.length; s++) {
                counts[sourceOf.get(s)] = found[s].length;
                results.addAll(List.of(found[s]));
            }
            int[] before = layout;
            if (before != null && !Arrays.equals(before, counts)) {
                throw new IllegalStateException("gradient of " + forward.name + ": a retrace split the gradient "
                        + "terms as " + Arrays.toString(counts) + ", not " + Arrays.toString(before));
            }
            layout = counts;
            return results;
        }
    }

    /** How many backward graphs were traced. */
    synchronized int traceCount() {
        int n = 0;
        for (Backward b : backwards.values()) {
            n += b.function.traceCount();
        }
        return n;
    }

    /**
     * The listing of the latest backward used, or null before any: the gradient part alone when the call had saved
     * the values it reads.
     */
    String listing() {
        Graph g = shown;
        BackwardSplit shownSplit = this.shownSplit;
        if (g == null) {
            return null;
        }
        String s = GraphText.listing(g);
        int[] saved = shownSplit != null && g == shownSplit.gradient ? shownSplit.savedInputs : new int[0];
        if (saved.length == 0) {
            return s;
        }
        int header = s.indexOf('\n') + 1;
        return s.substring(0, header) + "  " + GraphText.results(saved) + ": saved by the forward call\n"
                + s.substring(header);
    }

    /** The values the latest call that saved any holds for its backward (tests check when they are closed). */
    Tensor[] lastSaved() {
        WeakReference<Tensor[]> r = lastSaved;
        return r == null ? null : r.get();
    }
}
