package dev.nabla.summary;

import dev.nabla.DType;
import dev.nabla.Shape;
import dev.nabla.graph.GraphNode;
import dev.nabla.summary.proto.AttrValue;
import dev.nabla.summary.proto.DataType;
import dev.nabla.summary.proto.GraphDef;
import dev.nabla.summary.proto.NodeDef;
import dev.nabla.summary.proto.TensorShapeProto;
import dev.nabla.summary.proto.VersionDef;
import java.util.List;

/** A traced graph as TensorFlow's {@code GraphDef}, which TensorBoard's Graphs tab draws. */
final class GraphDefs {
    private GraphDefs() {
    }

    static GraphDef of(String scope, List<GraphNode> nodes) {
        String prefix = scope.isEmpty() ? "" : scope.replaceAll("[^A-Za-z0-9_.\\-/]", "_") + "/";
        GraphDef.Builder g = GraphDef.newBuilder().setVersions(VersionDef.newBuilder().setProducer(1));
        for (GraphNode n : nodes) {
            NodeDef.Builder node = NodeDef.newBuilder().setName(prefix + n.name()).setOp(n.op());
            for (String input : n.inputs()) {
                node.addInput(prefix + input);
            }
            if (n.dtype() != null) {
                node.putAttr("dtype", AttrValue.newBuilder().setType(dataType(n.dtype())).build());
                node.putAttr("_output_shapes", AttrValue.newBuilder()
                        .setList(AttrValue.ListValue.newBuilder().addShape(shape(n.shape()))).build());
            }
            g.addNode(node);
        }
        return g.build();
    }

    static DataType dataType(DType t) {
        return switch (t) {
            case FLOAT32 -> DataType.DT_FLOAT;
            case FLOAT64 -> DataType.DT_DOUBLE;
            case INT32 -> DataType.DT_INT32;
            case BOOL -> DataType.DT_BOOL;
        };
    }

    static TensorShapeProto shape(Shape s) {
        TensorShapeProto.Builder b = TensorShapeProto.newBuilder();
        for (long d : s.dims()) {
            b.addDim(TensorShapeProto.Dim.newBuilder().setSize(d));
        }
        return b.build();
    }
}
