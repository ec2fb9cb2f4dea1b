package dev.nabla.graph;

import dev.nabla.Variable;
import java.util.List;

/** A graph as text: the listing (one op a line) and Graphviz. */
final class GraphText {
    private GraphText() {
    }

    static String listing(Graph g) {
        StringBuilder s = new StringBuilder(g.name).append('(');
        // in input order (a traced backward's gradient part takes saved values made where the forward was)
        List<Integer> inputs = new java.util.ArrayList<>();
        for (int v = 0; v < g.values.size(); v++) {
            if (g.values.get(v).kind() == Value.Kind.INPUT) {
                inputs.add(v);
            }
        }
        inputs.sort(java.util.Comparator.comparingInt(v -> g.values.get(v).index()));
        for (int i = 0; i < inputs.size(); i++) {
            int v = inputs.get(i);
            s.append(i == 0 ? "" : ", ").append('%').append(v).append(": ").append(g.values.get(v).type());
        }
        s.append(") -> ").append(resultTypes(g)).append('\n');
        for (int v = 0; v < g.values.size(); v++) {
            Value value = g.values.get(v);
            switch (value.kind()) {
                case VARIABLE -> s.append("  %").append(v).append(" = variable '")
                        .append(((Variable) value.captured()).name()).append("' : ").append(value.type()).append('\n');
                case CONSTANT -> s.append("  %").append(v).append(" = constant : ").append(value.type()).append('\n');
                default -> { }
            }
        }
        nodes(g, g.nodes, "  ", s);
        s.append("  return ").append(results(g.outputs)).append('\n');
        Plan plan = g.builtPlan();
        if (plan != null) {
            s.append("replayed without a tape as (dead code eliminated, common subexpressions merged, constants "
                    + "folded, element-wise chains fused):\n").append(plan.listing());
        }
        return s.toString();
    }

    /** {@code (2, 3) float32}, or for several results {@code ((2, 3) float32, () float32)}. */
    private static String resultTypes(Graph g) {
        if (g.outputs.length == 1) {
            return g.values.get(g.output).type();
        }
        StringBuilder s = new StringBuilder("(");
        for (int i = 0; i < g.outputs.length; i++) {
            s.append(i == 0 ? "" : ", ").append(g.values.get(g.outputs[i]).type());
        }
        return s.append(')').toString();
    }

    /** {@code %4}, or {@code %4, %7} for several results. */
    static String results(int[] outputs) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < outputs.length; i++) {
            s.append(i == 0 ? "" : ", ").append('%').append(outputs[i]);
        }
        return s.toString();
    }

    private static void nodes(Graph g, List<Node> nodes, String indent, StringBuilder s) {
        for (Node n : nodes) {
            s.append(indent);
            switch (n) {
                case Node.Apply a -> {
                    s.append('%').append(a.output()).append(" = ").append(a.primitive().name()).append(args(a.inputs()));
                    String attributes = a.primitive().attributes();
                    if (!attributes.isEmpty()) {
                        s.append(" {").append(attributes).append('}');
                    }
                    s.append(" : ").append(g.values.get(a.output()).type()).append('\n');
                }
                case Node.Effect e -> s.append(e.name()).append(args(e.inputs())).append('\n');
                case Node.Custom c -> {
                    s.append('%').append(c.output()).append(" = customGradient").append(args(c.inputs()))
                            .append(" : ").append(g.values.get(c.output()).type()).append(" {\n");
                    nodes(g, c.body(), indent + "  ", s);
                    s.append(indent).append("}\n");
                }
            }
        }
    }

    private static String args(int[] ids) {
        StringBuilder s = new StringBuilder("(");
        for (int i = 0; i < ids.length; i++) {
            s.append(i == 0 ? "" : ", ").append(ids[i] < 0 ? "none" : "%" + ids[i]);
        }
        return s.append(')').toString();
    }

    static String dot(Graph g) {
        StringBuilder s = new StringBuilder("digraph \"").append(g.name).append("\" {\n  rankdir=TB;\n");
        for (int v = 0; v < g.values.size(); v++) {
            Value value = g.values.get(v);
            String label = switch (value.kind()) {
                case INPUT -> "input " + value.index();
                case VARIABLE -> "variable '" + ((Variable) value.captured()).name() + "'";
                case CONSTANT -> "constant";
                case NODE -> null;
            };
            if (label != null) {
                s.append("  v").append(v).append(" [shape=box, label=\"").append(label).append("\\n")
                        .append(value.type()).append("\"];\n");
            }
        }
        int[] effects = {0};
        dotNodes(g, g.nodes, s, effects);
        s.append("  result [shape=doublecircle, label=\"return\"];\n");
        for (int o : g.outputs) {
            s.append("  v").append(o).append(" -> result;\n");
        }
        return s.append("}\n").toString();
    }

    private static void dotNodes(Graph g, List<Node> nodes, StringBuilder s, int[] effects) {
        for (Node n : nodes) {
            switch (n) {
                case Node.Apply a -> {
                    s.append("  v").append(a.output()).append(" [label=\"").append(a.primitive().name()).append("\\n")
                            .append(g.values.get(a.output()).type()).append("\"];\n");
                    edges(a.inputs(), "v" + a.output(), s);
                }
                case Node.Effect e -> {
                    String id = "e" + effects[0]++;
                    s.append("  ").append(id).append(" [shape=octagon, label=\"").append(e.name().replace("\"", "'"))
                            .append("\"];\n");
                    edges(e.inputs(), id, s);
                }
                case Node.Custom c -> {
                    s.append("  subgraph cluster_v").append(c.output()).append(" {\n  label=\"customGradient\";\n");
                    dotNodes(g, c.body(), s, effects);
                    s.append("  }\n");
                }
            }
        }
    }

    private static void edges(int[] inputs, String to, StringBuilder s) {
        for (int v : inputs) {
            if (v >= 0) {
                s.append("  v").append(v).append(" -> ").append(to).append(";\n");
            }
        }
    }
}
