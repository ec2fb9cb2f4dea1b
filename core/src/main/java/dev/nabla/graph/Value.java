package dev.nabla.graph;

import dev.nabla.DType;
import dev.nabla.Shape;
import dev.nabla.Tensor;
import dev.nabla.Variable;

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

    static Value constant(Tensor t) {
        return new Value(Kind.CONSTANT, -1, t, t.shape(), t.dtype());
    }

    static Value node(Tensor t) {
        return new Value(Kind.NODE, -1, null, t.shape(), t.dtype());
    }

    /** Shape and dtype as listings give them: {@code (2, 3) float32}. */
    String type() {
        return shape + " " + dtype;
    }
}
