package dev.nabla.graph;

import dev.nabla.DType;
import dev.nabla.Shape;
import dev.nabla.backend.Backend;
import dev.nabla.backend.Buffer;
import dev.nabla.backend.FusedProgram;
import dev.nabla.ops.Primitive;

/** A fused element-wise chain as one primitive of a plan: {@link Backend#fused} runs it in one pass. */
record Fused(FusedProgram program, Shape shape, DType dtype) implements Primitive {
    @Override public String name() { return "fused"; }
    @Override public Recording recording() { return Recording.NONE; }
    @Override public String attributes() { return program.describe(); }
    @Override public void compute(Backend b, Buffer[] in, Buffer out) { b.fused(program, in, out); }
}
