package dev.nabla.graph;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * A traced backward cut where its replay of the forward ends (TF's function gradient, which saves the forward's
 * intermediates instead of recomputing them). The backward graph {@link GraphGradient} traces is
 * <pre>
 *   backward(node inputs..., g) = [the forward's nodes, replayed op by op] [the gradient rules' ops, walking the tape]
 * </pre>
 * and its first part, node for node, is the forward graph (checked here; no split when it is not). The values of the
 * first part that the second part reads are the saved values: the forward, when a tape records its call, computes them
 * as extra results ({@link #forwardWithSaved}), and the second part alone ({@link #gradient}) takes them as inputs:
 * <pre>
 *   forwardWithSaved(inputs...)                   -> (result, saved values that are not the result...)
 *   gradient(node inputs..., saved values..., g)  -> the gradient terms, exactly the backward's results
 * </pre>
 * The ops are the same ones, in the same order, on the same bits, so saving gives what recomputing gives.
 */
final class BackwardSplit {
    /** The forward's value ids the gradient part reads, in the order of its inputs after the node inputs. */
    final int[] saved;
    /** The forward with the saved values as extra results (its result first). */
    final Graph forwardWithSaved;
    /** Per saved value, its index among {@link #forwardWithSaved}'s results (0: the forward's result itself). */
    final int[] savedAt;
    /** The gradient part: {@code (node inputs..., saved values..., g) -> gradient terms}. */
    final Graph gradient;
    /** The value ids of {@link #gradient}'s saved inputs, in input order (for its listing). */
    final int[] savedInputs;

    private BackwardSplit(int[] saved, Graph forwardWithSaved, int[] savedAt, Graph gradient, int[] savedInputs) {
        this.saved = saved;
        this.savedInputs = savedInputs;
        this.forwardWithSaved = forwardWithSaved;
        this.savedAt = savedAt;
        this.gradient = gradient;
    }

    /**
     * The split of {@code backward}, traced as {@code backward(node inputs..., g)} with the call's tensors passed as
     * {@code argAt}/{@code varAt} say ({@link GraphGradient}), or null when it has none: its first nodes are not the
     * forward's, its gradient part has a side effect or hands a forward value out as a gradient term, or the forward
     * with saved values has no plan.
     */
    static BackwardSplit of(Graph forward, Graph backward, int nodeInputs, int[] argAt, int[] varAt) {
        int[] inputValue = new int[nodeInputs + 1];
        Arrays.fill(inputValue, -1);
        for (int v = 0; v < backward.values.size(); v++) {
            Value value = backward.values.get(v);
            if (value.kind() == Value.Kind.INPUT) {
                inputValue[value.index()] = v;
            }
        }
        int[] toBackward = new int[forward.values.size()];
        Arrays.fill(toBackward, -1);
        int k = 0;
        for (int v = 0; v < toBackward.length; v++) {
            Value value = forward.values.get(v);
            switch (value.kind()) {
                case INPUT -> toBackward[v] = inputValue[argAt[value.index()]];
                case VARIABLE -> toBackward[v] = inputValue[varAt[k++]];
                default -> { }
            }
        }
        int first = forward.nodes.size();
        if (inputValue[nodeInputs] < 0 || backward.nodes.size() < first
                || !pair(forward, backward, forward.nodes, backward.nodes.subList(0, first), toBackward)) {
            return null;
        }
        int[] fromBackward = new int[backward.values.size()];
        Arrays.fill(fromBackward, -1);
        for (int v = 0; v < toBackward.length; v++) {
            if (forward.values.get(v).kind() == Value.Kind.NODE && toBackward[v] >= 0) {
                fromBackward[toBackward[v]] = v;
            }
        }
        List<Node> rest = backward.nodes.subList(first, backward.nodes.size());
        Set<Integer> read = new LinkedHashSet<>();          // backward value ids, in the order first read
        for (Node n : rest) {
            if (n instanceof Node.Effect) {
                return null;
            }
            for (int v : n.reads()) {
                if (v >= 0 && fromBackward[v] >= 0) {
                    read.add(v);
                }
            }
        }
        for (int o : backward.outputs) {
            if (fromBackward[o] >= 0) {
                return null;                                 // a term that is a forward value: whose to close?
            }
        }
        int[] saved = read.stream().mapToInt(v -> fromBackward[v]).toArray();
        List<Value> values = new ArrayList<>(backward.values);
        int s = 0;
        for (int v : read) {
            Value value = values.get(v);
            values.set(v, new Value(Value.Kind.INPUT, nodeInputs + s++, null, value.shape(), value.dtype()));
        }
        Value g = values.get(inputValue[nodeInputs]);
        values.set(inputValue[nodeInputs], new Value(Value.Kind.INPUT, nodeInputs + s, null, g.shape(), g.dtype()));
        Graph gradient = new Graph(backward.name, nodeInputs + s + 1, List.copyOf(values), List.copyOf(rest),
                backward.outputs);
        List<Integer> results = new ArrayList<>(List.of(forward.output));
        int[] savedAt = new int[saved.length];
        for (int i = 0; i < saved.length; i++) {
            int at = results.indexOf(saved[i]);
            if (at < 0) {
                results.add(saved[i]);
                at = results.size() - 1;
            }
            savedAt[i] = at;
        }
        Graph forwardWithSaved = new Graph(forward.name, forward.arity, forward.values, forward.nodes,
                results.stream().mapToInt(Integer::intValue).toArray());
        if (saved.length > 0 && forwardWithSaved.plan() == null) {
            return null;
        }
        return new BackwardSplit(saved, saved.length == 0 ? forward : forwardWithSaved, savedAt, gradient,
                read.stream().mapToInt(Integer::intValue).toArray());
    }

    /**
     * Pairs the forward's nodes with the backward's first ones: the same primitive (or customGradient) on the paired
     * values, recording each forward value's backward id in {@code toBackward} (constants are paired at first read).
     */
    private static boolean pair(Graph forward, Graph backward, List<Node> fs, List<Node> bs, int[] toBackward) {
        if (fs.size() != bs.size()) {
            return false;
        }
        for (int i = 0; i < fs.size(); i++) {
            if (!pairNode(forward, backward, fs.get(i), bs.get(i), toBackward)) {
                return false;
            }
        }
        return true;
    }

    private static boolean pairNode(Graph forward, Graph backward, Node fn, Node bn, int[] toBackward) {
        return switch (fn) {
            case Node.Apply f when bn instanceof Node.Apply b -> f.primitive().getClass() == b.primitive().getClass()
                    && f.primitive().name().equals(b.primitive().name())
                    && f.primitive().shape().equals(b.primitive().shape())
                    && f.primitive().dtype() == b.primitive().dtype()
                    && pairInputs(forward, backward, f.inputs(), b.inputs(), toBackward)
                    && pairOutput(f.output(), b.output(), toBackward);
            case Node.Custom f when bn instanceof Node.Custom b ->
                    pairInputs(forward, backward, f.inputs(), b.inputs(), toBackward)
                    && pair(forward, backward, f.body(), b.body(), toBackward)
                    && pairOutput(f.output(), b.output(), toBackward);
            default -> false;
        };
    }

    private static boolean pairInputs(Graph forward, Graph backward, int[] f, int[] b, int[] toBackward) {
        if (f.length != b.length) {
            return false;
        }
        for (int j = 0; j < f.length; j++) {
            if (f[j] < 0 || b[j] < 0) {
                if (f[j] != b[j]) {
                    return false;
                }
                continue;
            }
            if (toBackward[f[j]] < 0 && forward.values.get(f[j]).kind() == Value.Kind.CONSTANT
                    && backward.values.get(b[j]).kind() == Value.Kind.CONSTANT) {
                toBackward[f[j]] = b[j];
            }
            if (toBackward[f[j]] != b[j]) {
                return false;
            }
        }
        return true;
    }

    private static boolean pairOutput(int f, int b, int[] toBackward) {
        if (toBackward[f] >= 0) {
            return toBackward[f] == b;                       // a customGradient's output: its body's last value
        }
        toBackward[f] = b;
        return true;
    }
}
