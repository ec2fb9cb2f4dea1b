package dev.nabla.ops;

import dev.nabla.DType;
import dev.nabla.Shape;
import dev.nabla.backend.Backend;
import dev.nabla.backend.Buffer;
import dev.nabla.backend.FusedProgram;

/**
 * A fused element-wise chain as one primitive (of a traced plan, or a deferred eager chain): {@link Backend#fused}
 * runs it in one pass. Public for the graph package, not API.
 */
public record Fused(FusedProgram program, Shape shape, DType dtype) implements Primitive {
    @Override public String name() { return "fused"; }
    @Override public Recording recording() { return Recording.NONE; }
    @Override public String attributes() { return program.describe(); }
    @Override public void compute(Backend b, Buffer[] in, Buffer out) { b.fused(program, in, out); }
}
