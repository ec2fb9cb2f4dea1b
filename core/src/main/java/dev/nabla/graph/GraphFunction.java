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
    private final Function<Tensor[], Tensor> body;
    private final Map<Signature, Graph> graphs = new HashMap<>();
    private int traceCount;
    private Graph latest;

    private GraphFunction(String name, int arity, Function<Tensor[], Tensor> body) {
        this.name = name;
        this.arity = arity;
        this.body = body;
    }

    /** A traced function of {@code arity} inputs; {@code name} heads its listing. */
    public static GraphFunction of(String name, int arity, Function<Tensor[], Tensor> body) {
        return new GraphFunction(name, arity, Checks.notNull("function", "body", body));
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
        return g == null ? trace(signature, inputs) : g.run(inputs.clone());
    }

    private Tensor trace(Signature signature, Tensor[] inputs) {
        Dispatch.Listener outer = Dispatch.listener();
        GraphBuilder builder = new GraphBuilder(outer);
        for (int i = 0; i < inputs.length; i++) {
            builder.input(i, inputs[i]);
        }
        Tensor result;
        Dispatch.listen(builder);
        try {
            result = Checks.returned(name, "the traced body", body.apply(inputs.clone()));
        } finally {
            Dispatch.listen(outer);
        }
        Graph g = builder.build(name, arity, result);
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
        return result;
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
