package dev.nabla.graph;

import dev.nabla.DType;
import dev.nabla.Shape;
import dev.nabla.backend.Backend;
import dev.nabla.backend.Buffer;
import dev.nabla.ops.Primitive;

/**
 * A view of a Variable in a plan: a copy, as in eager mode, since an assign later in the step would change a view
 * that shared the Variable's buffer.
 */
record Snapshot(String name, Shape shape, DType dtype) implements Primitive {
    @Override public Recording recording() { return Recording.NONE; }
    @Override public void compute(Backend b, Buffer[] in, Buffer out) {
        long[] strides = shape.strides();
        b.copy(in[0], 0, strides, out, 0, strides, shape.dims());
    }
}
