package dev.nabla.graph;

import dev.nabla.DType;
import dev.nabla.Shape;
import dev.nabla.Tensor;
import dev.nabla.Variable;
import dev.nabla.internal.TensorAccess;

/**
 * A value of a traced graph: a function input, a captured Variable (read by reference at each call), a captured
 * constant (the tensor itself, kept alive by the graph), or the output of a node.
 */
record Value(Kind kind, int index, Tensor captured, Shape shape, DType dtype) {
    enum Kind { INPUT, VARIABLE, CONSTANT, NODE }

    static Value input(int i, Tensor t) {
        return new Value(Kind.INPUT, i, null, t.shape(), t.dtype());
    }

    static Value variable(Variable v) {
        return new Value(Kind.VARIABLE, -1, v, v.shape(), v.dtype());
    }

    /**
     * A captured constant. The graph holds its own reference to the storage, outside every memory scope: the tensor
     * it came from may be closed (by its owner, or by the scope it was made in, as a layer's window indices are)
     * while the graph still replays it.
     */
    static Value constant(Tensor t) {
        Tensor held = TensorAccess.detach(TensorAccess.wrap(TensorAccess.storage(t, "function"), t.shape()));
        return new Value(Kind.CONSTANT, -1, held, t.shape(), t.dtype());
    }

    static Value node(Tensor t) {
        return new Value(Kind.NODE, -1, null, t.shape(), t.dtype());
    }

    /** Shape and dtype as listings give them: {@code (2, 3) float32}. */
    String type() {
        return shape + " " + dtype;
    }
}
