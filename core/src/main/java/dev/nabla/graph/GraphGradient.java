package dev.nabla.graph;

import dev.nabla.Tensor;
import dev.nabla.autograd.NumericsCheck;
import dev.nabla.autograd.Recorder;
import dev.nabla.autograd.SplitVjp;
import dev.nabla.autograd.Tape;
import dev.nabla.ops.Dispatch;
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
 * the upstream gradient ({@link Tape#contributions}). COST: the backward recomputes the forward (the plan's DCE and
 * CSE keep only what the gradients read) rather than the forward saving its intermediates, as TF does.
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
    private Backward latest;

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
     * caller replays op by op).
     */
    Tensor callRecorded(Tensor[] args) {
        if (!eligible) {
            return null;
        }
        Tensor[] r = forward.runPlanned(args);
        if (r == null) {
            return null;
        }
        Tensor out = r[0];
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
        SplitVjp vjp = (g, needed) -> backward(nodeInputs, argAt, varAt, g, needed);
        Recorder.record("call " + forward.name, nodeInputs, out, vjp);
        return out;
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

    private Tensor[][] backward(Tensor[] nodeInputs, int[] argAt, int[] varAt, Tensor g, boolean[] needed) {
        Key key = new Key(needed.clone(), argAt, varAt);
        Backward b;
        synchronized (this) {
            b = backwards.computeIfAbsent(key, k -> new Backward(k, nodeInputs.length));
            latest = b;
        }
        Tensor[] args = Arrays.copyOf(nodeInputs, nodeInputs.length + 1);
        args[nodeInputs.length] = g;
        Tensor[] terms = b.function.callAll(args);
        int[] layout = b.layout;
        Tensor[][] r = new Tensor[nodeInputs.length][];
        int next = 0;
        for (int j = 0; j < r.length; j++) {
            r[j] = Arrays.copyOfRange(terms, next, next + layout[j]);
            next += layout[j];
        }
        return r;
    }

    /** One backward function and how its results split into each node input's gradient terms. */
    private final class Backward {
        final GraphFunction function;
        /** Per node input, how many of the backward's results are its terms (fixed by the trace). */
        volatile int[] layout;

        Backward(Key key, int inputs) {
            this.function = GraphFunction.ofResults("gradient of " + forward.name, inputs + 1,
                    in -> terms(key, in));
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

    /** The listing of the latest backward used, or null before any. */
    String listing() {
        Backward b;
        synchronized (this) {
            b = latest;
        }
        return b == null || b.function.traceCount() == 0 ? null : b.function.listing();
    }
}
