package dev.nabla.graph;

import dev.nabla.Tensor;
import dev.nabla.autograd.NumericsCheck;
import dev.nabla.autograd.Recorder;
import dev.nabla.ops.Dispatch;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One trace of a function: its values and its nodes in program order. {@link #run} replays it op by op through
 * {@link Dispatch}, so tapes record a replay exactly as they record the eager body, the numerics check sees every op,
 * and an enclosing trace inlines it.
 */
final class Graph {
    final String name;
    final int arity;
    final List<Value> values;
    final List<Node> nodes;
    /** The value ids of the results, in order (one for a traced function, several for a traced backward). */
    final int[] outputs;
    /** The first result: the only one of a traced function's graph. */
    final int output;
    /** For each top-level node, the node values whose last reader it is (freed after it when nothing records). */
    private final int[][] freeAfter;

    Graph(String name, int arity, List<Value> values, List<Node> nodes, int[] outputs) {
        this.name = name;
        this.arity = arity;
        this.values = values;
        this.nodes = nodes;
        this.outputs = outputs.clone();
        this.output = outputs.length == 0 ? -1 : outputs[0];
        this.freeAfter = lifetimes();
    }

    private int[][] lifetimes() {
        int[] last = new int[values.size()];
        Arrays.fill(last, -1);
        for (int i = 0; i < nodes.size(); i++) {
            Node n = nodes.get(i);
            for (int v : n.reads()) {
                if (v >= 0) {
                    last[v] = i;
                }
            }
            int out = output(n);
            if (out >= 0 && last[out] < i) {
                last[out] = i;                    // a value nobody reads dies where it is made
            }
        }
        List<List<Integer>> free = new ArrayList<>();
        for (int i = 0; i < nodes.size(); i++) {
            free.add(new ArrayList<>());
        }
        for (int v = 0; v < values.size(); v++) {
            if (!isOutput(v) && values.get(v).kind() == Value.Kind.NODE && last[v] >= 0) {
                free.get(last[v]).add(v);
            }
        }
        int[][] r = new int[nodes.size()][];
        for (int i = 0; i < r.length; i++) {
            r[i] = free.get(i).stream().mapToInt(Integer::intValue).toArray();
        }
        return r;
    }

    boolean isOutput(int v) {
        for (int o : outputs) {
            if (o == v) {
                return true;
            }
        }
        return false;
    }

    static int output(Node n) {
        return switch (n) {
            case Node.Apply a -> a.output();
            case Node.Custom c -> c.output();
            case Node.Effect e -> -1;
        };
    }

    /** {@code -Dnabla.graph.optimize=false} replays every call op by op, for comparisons. */
    static final boolean OPTIMIZE = !"false".equals(System.getProperty("nabla.graph.optimize"));
    private Plan plan;
    private boolean planned;

    /** The optimized plan, built at the first replay that can use it; null when the graph has none. */
    synchronized Plan plan() {
        if (!planned) {
            planned = true;
            try {
                plan = Plan.of(this);
            } catch (RuntimeException e) {
                System.getLogger("dev.nabla").log(System.Logger.Level.WARNING, name
                        + ": could not optimize the traced graph, replaying it op by op: " + e, e);
            }
        }
        return plan;
    }

    private GraphGradient gradient;

    /** The traced backward of this graph (made at the first replay recorded by a tape). */
    synchronized GraphGradient gradient() {
        if (gradient == null) {
            gradient = new GraphGradient(this);
        }
        return gradient;
    }

    /** How many backward graphs of this graph were traced. */
    synchronized int gradientTraceCount() {
        return gradient == null ? 0 : gradient.traceCount();
    }

    /** The plan if it was built, else null. */
    synchronized Plan builtPlan() {
        return plan;
    }

    /**
     * Replays the graph on {@code args}: through the optimized {@link Plan} when nothing records (no tape, no
     * enclosing trace, no numerics check), else op by op.
     */
    Tensor run(Tensor[] args) {
        return runAll(args)[0];
    }

    /** {@link #run} giving every result. */
    Tensor[] runAll(Tensor[] args) {
        if (OPTIMIZE && !Recorder.isRecording() && Dispatch.listener() == null && !NumericsCheck.enabled()) {
            Tensor[] r = runPlanned(args);
            if (r != null) {
                return r;
            }
        }
        return replay(args, null);
    }

    /** The results through the plan, or null when there is none or another thread is running it. */
    Tensor[] runPlanned(Tensor[] args) {
        Plan p = plan();
        return p == null ? null : p.run(args);
    }

    /**
     * Replays the graph op by op through {@link Dispatch}. {@code variables}, when not null, replaces the captured
     * Variables' values: entry {@code k} for the {@code k}-th VARIABLE value in value order (a traced backward passes
     * them as its inputs).
     */
    Tensor[] replay(Tensor[] args, Tensor[] variables) {
        Tensor[] env = new Tensor[values.size()];
        int k = 0;
        for (int v = 0; v < env.length; v++) {
            Value value = values.get(v);
            switch (value.kind()) {
                case INPUT -> env[v] = args[value.index()];
                case VARIABLE -> env[v] = variables == null ? value.captured() : variables[k++];
                case CONSTANT -> env[v] = value.captured();
                case NODE -> { }
            }
        }
        // tapes and an enclosing trace hold on to the intermediates; otherwise each goes back to the pool at once
        boolean free = !Recorder.isRecording() && Dispatch.listener() == null;
        Tensor[] result = null;
        try {
            for (int i = 0; i < nodes.size(); i++) {
                run(nodes.get(i), env);
                if (free) {
                    for (int v : freeAfter[i]) {
                        if (env[v] != null && !isResult(env[v], env)) {
                            env[v].close();
                        }
                        env[v] = null;
                    }
                }
            }
            Tensor[] r = new Tensor[outputs.length];
            for (int i = 0; i < r.length; i++) {
                r[i] = env[outputs[i]];
            }
            result = r;
            return r;
        } finally {
            if (free && result == null) {
                for (int v = 0; v < env.length; v++) {
                    if (values.get(v).kind() == Value.Kind.NODE && env[v] != null) {
                        env[v].close();
                    }
                }
            }
        }
    }

    /** True when {@code t} is (the same tensor as) a result, which must outlive the replay. */
    private boolean isResult(Tensor t, Tensor[] env) {
        for (int o : outputs) {
            if (env[o] == t) {
                return true;
            }
        }
        return false;
    }

    private static Tensor[] gather(int[] ids, Tensor[] env) {
        Tensor[] t = new Tensor[ids.length];
        for (int i = 0; i < ids.length; i++) {
            t[i] = ids[i] < 0 ? null : env[ids[i]];
        }
        return t;
    }

    /**
     * The body of a customGradient ends with an unrecorded alias of its result (eager mode records the user's rule on
     * it instead); when the body's own ops are recorded, the alias is recorded as the identity, or the tape would see
     * no path from the inputs to the result.
     */
    private static void linkAlias(Node.Custom c, Tensor[] env) {
        for (Node n : c.body()) {
            if (n instanceof Node.Apply a && a.output() == c.output() && a.primitive().isView()
                    && a.primitive().recording() == dev.nabla.ops.Primitive.Recording.NONE) {
                Recorder.recordLinear("customGradient", new Tensor[] {env[a.inputs()[0]]}, env[c.output()],
                        (g, needed) -> new Tensor[] {g});
            }
        }
    }

    private static void run(Node node, Tensor[] env) {
        switch (node) {
            case Node.Apply a -> env[a.output()] = Dispatch.apply(a.backend(), a.primitive(), gather(a.inputs(), env));
            case Node.Effect e -> {
                Tensor[] in = gather(e.inputs(), env);
                Dispatch.effect(e.name(), in, e.replay(), () -> e.replay().accept(in));
            }
            case Node.Custom c -> {
                if (!c.ruleReplayable() && Recorder.isRecording()) {
                    for (Node n : c.body()) {
                        run(n, env);
                    }
                    linkAlias(c, env);
                    return;
                }
                Dispatch.Listener outer = Dispatch.listener();
                int mark = outer == null ? 0 : outer.mark();
                Recorder.withoutRecording(() -> {
                    for (Node n : c.body()) {
                        run(n, env);
                    }
                    return null;
                });
                Tensor[] in = gather(c.inputs(), env);
                Tensor out = env[c.output()];
                c.record().accept(in, out);
                if (outer != null) {
                    outer.customGradient(mark, in, out, c.record());
                }
            }
        }
    }
}
