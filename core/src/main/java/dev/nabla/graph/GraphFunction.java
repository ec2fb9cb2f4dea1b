package dev.nabla.graph;

import dev.nabla.DType;
import dev.nabla.Device;
import dev.nabla.Shape;
import dev.nabla.Tensor;
import dev.nabla.ops.Checks;
import dev.nabla.ops.Dispatch;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The {@link TracedFunction} {@code Nabla.function} returns: one {@link Graph} per input signature. Use
 * {@code Nabla.function}; the factory here is for it.
 *
 * <pre>{@code
 * TracedFunction f = Nabla.function(x -> x.mul(x).sum());   // a GraphFunction
 * Tensor y = f.call(Tensor.of(new float[] {1, 2, 3}));        // traces once, then replays
 * }</pre>
 */
public final class GraphFunction implements TracedFunction {
    private static final System.Logger LOG = System.getLogger("dev.nabla");
    private final String name;
    private final int arity;
    private final Function<Tensor[], List<Tensor>> body;
    private final Map<Signature, Graph> graphs = new HashMap<>();
    private int traceCount;
    private Graph latest;

    private GraphFunction(String name, int arity, Function<Tensor[], List<Tensor>> body) {
        this.name = name;
        this.arity = arity;
        this.body = body;
    }

    /** A traced function of {@code arity} inputs; {@code name} heads its listing. */
    public static GraphFunction of(String name, int arity, Function<Tensor[], Tensor> body) {
        Checks.notNull("function", "body", body);
        return new GraphFunction(name, arity,
                in -> List.of(Checks.returned(name, "the traced body", body.apply(in))));
    }

    /** A traced function with several results (a traced backward's gradients), called with {@link #callAll}. */
    static GraphFunction ofResults(String name, int arity, Function<Tensor[], List<Tensor>> body) {
        return new GraphFunction(name, arity, body);
    }

    /** What selects a graph: each input's shape, dtype and device, and which inputs are the same tensor. */
    private record Signature(List<Shape> shapes, List<DType> dtypes, List<Device> devices, List<Integer> sameAs) {
        static Signature of(Tensor[] in) {
            List<Shape> shapes = new ArrayList<>();
            List<DType> dtypes = new ArrayList<>();
            List<Device> devices = new ArrayList<>();
            List<Integer> sameAs = new ArrayList<>();
            for (int i = 0; i < in.length; i++) {
                shapes.add(in[i].shape());
                dtypes.add(in[i].dtype());
                devices.add(in[i].device());
                int first = i;
                for (int j = 0; j < i; j++) {
                    if (in[j] == in[i]) {
                        first = j;
                        break;
                    }
                }
                sameAs.add(first);
            }
            return new Signature(shapes, dtypes, devices, sameAs);
        }

        @Override
        public String toString() {
            StringBuilder s = new StringBuilder("(");
            for (int i = 0; i < shapes.size(); i++) {
                s.append(i == 0 ? "" : ", ").append(shapes.get(i)).append(' ').append(dtypes.get(i)).append(" on ")
                        .append(devices.get(i));
            }
            return s.append(')').toString();
        }
    }

    @Override
    public Tensor call(Tensor... inputs) {
        return callAll(inputs)[0];
    }

    /**
     * Every result of a call. A replay of a one-result graph while a tape records takes the traced backward's path
     * when the graph allows it ({@link GraphGradient}); otherwise {@link Graph#runAll} chooses.
     */
    Tensor[] callAll(Tensor... inputs) {
        String op = "call";
        Checks.notNullElements(op, "inputs", inputs);
        if (inputs.length != arity) {
            throw new IllegalArgumentException(name + ": takes " + arity + " input(s), got " + inputs.length);
        }
        for (Tensor t : inputs) {
            Checks.open(op, "inputs", t);
        }
        Signature signature = Signature.of(inputs);
        Graph g;
        synchronized (this) {
            g = graphs.get(signature);
        }
        if (g == null) {
            return trace(signature, inputs);
        }
        Tensor[] args = inputs.clone();
        if (GraphGradient.appliesNow()) {
            Tensor r = g.gradient().callRecorded(args);
            if (r != null) {
                return new Tensor[] {r};
            }
        }
        return g.runAll(args);
    }

    /** The graph traced for {@code inputs}' signature, or null when there is none yet. */
    synchronized Graph graphFor(Tensor[] inputs) {
        return graphs.get(Signature.of(inputs));
    }

    private Tensor[] trace(Signature signature, Tensor[] inputs) {
        Dispatch.Listener outer = Dispatch.listener();
        GraphBuilder builder = new GraphBuilder(outer);
        for (int i = 0; i < inputs.length; i++) {
            builder.input(i, inputs[i]);
        }
        List<Tensor> results;
        Dispatch.listen(builder);
        try {
            results = body.apply(inputs.clone());
        } finally {
            Dispatch.listen(outer);
        }
        Graph g = builder.build(name, arity, results);
        int count;
        synchronized (this) {
            graphs.put(signature, g);
            latest = g;
            count = ++traceCount;
        }
        if (count > 1) {
            LOG.log(System.Logger.Level.INFO, name + ": retracing for the new input signature " + signature
                    + " (trace " + count + "); each new signature runs the Java body again");
        }
        return results.toArray(new Tensor[0]);
    }

    @Override
    public synchronized int traceCount() {
        return traceCount;
    }

    private synchronized Graph latest() {
        if (latest == null) {
            throw new IllegalStateException(name + ": not traced yet; call it first");
        }
        return latest;
    }

    /**
     * How many times a backward graph was traced for calls recorded by a {@code GradientTape}: a replayed call under
     * a tape is one tape node whose gradient is a traced function of its own, traced once per input signature (and
     * per set of inputs that need a gradient) and replayed after that. 0 while no gradient went through one (the
     * first call of a signature, which traces the body, is recorded op by op, as are the calls ARCHITECTURE.md
     * lists: effects, random draws, the numerics check, an enclosing trace).
     *
     * <pre>{@code
     * GraphFunction f = (GraphFunction) Nabla.function((Tensor x) -> x.exp().sum());
     * f.call(x);                                         // traces the forward
     * for (int i = 0; i < 3; i++) {
     *     try (GradientTape tape = new GradientTape()) {
     *         tape.watch(x);
     *         tape.gradient(f.call(x), x);
     *     }
     * }
     * assert f.backwardTraceCount() == 1;
     * }</pre>
     *
     * @return the number of backward traces, over every input signature
     */
    public int backwardTraceCount() {
        List<Graph> all;
        synchronized (this) {
            all = List.copyOf(graphs.values());
        }
        int n = 0;
        for (Graph g : all) {
            n += g.gradientTraceCount();
        }
        return n;
    }

    /**
     * The listing of the most recent trace's latest backward graph (as {@link #listing()} shows a forward one: its
     * inputs are the call's inputs, the Variables it reads and the upstream gradient; its results the gradient terms).
     * The first gradient's backward replays the forward's ops before the gradient ops; once the forward saves the
     * values the gradient ops read, the listing is the gradient ops alone, with those values as inputs.
     *
     * @return the listing
     * @throws IllegalStateException when no backward was traced for the most recent trace
     */
    public String backwardListing() {
        String s = latest().gradient().listing();
        if (s == null) {
            throw new IllegalStateException(name + ": no backward traced yet for the latest signature; compute a "
                    + "gradient through a replayed call under a GradientTape first");
        }
        return s;
    }

    @Override
    public String listing() {
        return GraphText.listing(latest());
    }

    @Override
    public String toDot() {
        return GraphText.dot(latest());
    }

    /**
     * The most recent trace's nodes, for tools (TensorBoard's GraphDef): each op with its inputs, in program order.
     */
    public List<GraphNode> nodes() {
        return GraphNode.of(latest());
    }
}
