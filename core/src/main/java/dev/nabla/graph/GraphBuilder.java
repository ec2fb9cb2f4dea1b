package dev.nabla.graph;

import dev.nabla.Tensor;
import dev.nabla.Variable;
import dev.nabla.backend.Backend;
import dev.nabla.ops.Dispatch;
import dev.nabla.ops.Primitive;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * Listens to the ops of one trace (installed with {@link Dispatch#listen}) and records them as a {@link Graph}. The
 * body runs eagerly while it traces, so every tensor is real and the first call's result is the eager one. A tensor
 * that no recorded op made is a capture: a Variable by reference, anything else by value. Inside another trace (a
 * traced function called by a traced body) every event is passed on to the outer builder too, so the outer graph
 * inlines the inner one.
 */
final class GraphBuilder implements Dispatch.Listener {
    private final Dispatch.Listener outer;
    private final List<Value> values = new ArrayList<>();
    private final List<Node> nodes = new ArrayList<>();
    private final Map<Tensor, Integer> ids = new IdentityHashMap<>();
    private final Map<Integer, Integer> outerMarks = new HashMap<>();

    GraphBuilder(Dispatch.Listener outer) {
        this.outer = outer;
    }

    /** Declares input {@code i}; an input passed twice is one value. */
    void input(int i, Tensor t) {
        if (!ids.containsKey(t)) {
            ids.put(t, add(Value.input(i, t)));
        }
    }

    private int add(Value v) {
        values.add(v);
        return values.size() - 1;
    }

    /** The value id of {@code t}, capturing it when no recorded op made it; -1 for null. */
    int valueOf(Tensor t) {
        if (t == null) {
            return -1;
        }
        Integer id = ids.get(t);
        if (id == null) {
            id = add(t instanceof Variable v ? Value.variable(v) : Value.constant(t));
            ids.put(t, id);
        }
        return id;
    }

    private int[] valuesOf(Tensor[] in) {
        int[] r = new int[in.length];
        for (int i = 0; i < in.length; i++) {
            r[i] = valueOf(in[i]);
        }
        return r;
    }

    @Override
    public void applied(Primitive p, Backend backend, Tensor[] in, Tensor out) {
        int[] inputs = valuesOf(in);
        int id = add(Value.node(out));
        ids.put(out, id);
        nodes.add(new Node.Apply(p, backend, inputs, id));
        if (outer != null) {
            outer.applied(p, backend, in, out);
        }
    }

    @Override
    public void effect(String name, Tensor[] in, Consumer<Tensor[]> replay) {
        nodes.add(new Node.Effect(name, valuesOf(in), replay));
        if (outer != null) {
            outer.effect(name, in, replay);
        }
    }

    @Override
    public int mark() {
        int m = nodes.size();
        if (outer != null) {
            outerMarks.put(m, outer.mark());
        }
        return m;
    }

    @Override
    public void customGradient(int mark, Tensor[] in, Tensor out, BiConsumer<Tensor[], Tensor> record) {
        List<Node> tail = nodes.subList(mark, nodes.size());
        List<Node> body = List.copyOf(tail);
        tail.clear();
        int[] inputs = valuesOf(in);
        java.util.Set<Integer> made = new java.util.HashSet<>();
        java.util.Set<Integer> reads = new java.util.LinkedHashSet<>();
        collect(body, made, reads);
        reads.removeAll(made);
        for (int v : inputs) {
            reads.add(v);
        }
        boolean replayable = true;
        for (int v : reads) {
            boolean formal = false;
            for (int i : inputs) {
                formal |= i == v;
            }
            Value.Kind kind = values.get(v).kind();
            replayable &= formal || kind == Value.Kind.CONSTANT || kind == Value.Kind.VARIABLE;
        }
        nodes.add(new Node.Custom(inputs, reads.stream().mapToInt(Integer::intValue).toArray(), valueOf(out), body,
                record, replayable));
        if (outer != null) {
            outer.customGradient(outerMarks.remove(mark), in, out, record);
        }
    }

    private static void collect(List<Node> body, java.util.Set<Integer> made, java.util.Set<Integer> reads) {
        for (Node n : body) {
            for (int v : n.reads()) {
                if (v >= 0) {
                    reads.add(v);
                }
            }
            int out = Graph.output(n);
            if (out >= 0) {
                made.add(out);
            }
        }
    }

    /** The finished graph, returning {@code result}. */
    Graph build(String name, int arity, Tensor result) {
        return build(name, arity, List.of(result));
    }

    /** The finished graph, returning {@code results} in order (a traced backward's several gradients). */
    Graph build(String name, int arity, List<Tensor> results) {
        int[] outputs = new int[results.size()];
        for (int i = 0; i < outputs.length; i++) {
            outputs[i] = valueOf(results.get(i));
        }
        return new Graph(name, arity, List.copyOf(values), List.copyOf(nodes), outputs);
    }
}
