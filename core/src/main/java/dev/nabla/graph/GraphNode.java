package dev.nabla.graph;

import dev.nabla.DType;
import dev.nabla.Shape;
import dev.nabla.Variable;
import java.util.ArrayList;
import java.util.List;

/**
 * One node of a traced graph as tools show it (TensorBoard's {@code NodeDef}): a unique name (scoped with
 * {@code /} inside a {@code customGradient}), the op, the names of the nodes it reads, its output's shape and dtype
 * ({@code null} for a side effect, which has no output).
 *
 * <pre>{@code
 * for (GraphNode n : ((GraphFunction) f).nodes()) {
 *     System.out.println(n.name() + " = " + n.op() + n.inputs());   // e.g. mul_2 = mul[Input_0, Input_0]
 * }
 * }</pre>
 *
 * @param name   unique in the graph, e.g. {@code mul_4} or {@code customGradient_9/exp_7}
 * @param op     the op, e.g. {@code mul}, {@code Input}, {@code Variable}, {@code Const}, {@code assign 'v'}
 * @param inputs the names of the nodes read, in order
 * @param shape  the output's shape, or null
 * @param dtype  the output's dtype, or null
 */
public record GraphNode(String name, String op, List<String> inputs, Shape shape, DType dtype) {
    static List<GraphNode> of(Graph g) {
        String[] names = new String[g.values.size()];
        List<GraphNode> out = new ArrayList<>();
        for (int v = 0; v < names.length; v++) {
            Value value = g.values.get(v);
            String op = switch (value.kind()) {
                case INPUT -> "Input";
                case VARIABLE -> "Variable";
                case CONSTANT -> "Const";
                case NODE -> null;
            };
            if (op != null) {
                names[v] = switch (value.kind()) {
                    case INPUT -> "input_" + value.index();
                    case VARIABLE -> safe(((Variable) value.captured()).name()) + "_" + v;
                    default -> "constant_" + v;
                };
                out.add(new GraphNode(names[v], op, List.of(), value.shape(), value.dtype()));
            }
        }
        int[] effects = {0};
        add(g, g.nodes, "", names, out, effects);
        return out;
    }

    private static void add(Graph g, List<Node> nodes, String scope, String[] names, List<GraphNode> out,
            int[] effects) {
        for (Node n : nodes) {
            switch (n) {
                case Node.Apply a -> {
                    names[a.output()] = scope + safe(a.primitive().name()) + "_" + a.output();
                    Value value = g.values.get(a.output());
                    out.add(new GraphNode(names[a.output()], a.primitive().name(), inputs(a.inputs(), names),
                            value.shape(), value.dtype()));
                }
                case Node.Effect e -> out.add(new GraphNode(scope + safe(e.name()) + "_e" + effects[0]++, e.name(),
                        inputs(e.inputs(), names), null, null));
                case Node.Custom c -> {
                    String inner = scope + "customGradient_" + c.output() + "/";
                    add(g, c.body(), inner, names, out, effects);
                }
            }
        }
    }

    private static List<String> inputs(int[] ids, String[] names) {
        List<String> r = new ArrayList<>();
        for (int v : ids) {
            if (v >= 0) {
                r.add(names[v]);
            }
        }
        return r;
    }

    /** TensorBoard node names: letters, digits, {@code _ . -}. */
    private static String safe(String s) {
        return s.replaceAll("[^A-Za-z0-9_.\\-]", "_");
    }
}
