package dev.nabla.ops;

import dev.nabla.DType;
import dev.nabla.Shape;
import dev.nabla.backend.Backend;
import dev.nabla.backend.Buffer;
import dev.nabla.backend.FusedProgram;
import dev.nabla.backend.ReduceOp;
import java.util.Arrays;
import java.util.Locale;

/**
 * A fused element-wise chain whose result only a reduction over its last axes reads, as one primitive (of a traced
 * plan, or a sum of a deferred eager chain): {@link Backend#fusedReduce} reduces the program's result, viewed as
 * {@code (outer, n)}, without writing it (or, {@link #keepsValues}, writing it into the buffer after the inputs: a
 * deferred chain too costly to compute twice, materialized in the pass that sums it). Public for the graph package,
 * not API.
 */
public record FusedReduce(FusedProgram program, ReduceOp kind, long outer, long n, Shape shape, DType dtype,
        boolean keepsValues) implements Primitive {
    /** True when {@code r} sums {@code in}, which has elements, over its last axes: what {@link #sum} fuses. */
    public static boolean sumsLastAxes(Reductions.Reduce r, Shape in) {
        int[] axes = r.axes();
        return r.kind() == ReduceOp.SUM && axes.length > 0 && axes[axes.length - 1] == in.rank() - 1
                && axes[axes.length - 1] - axes[0] == axes.length - 1 && in.size() > 0;
    }

    /** {@code r} (see {@link #sumsLastAxes}) of {@code program}'s values, in one pass. */
    public static FusedReduce sum(FusedProgram program, Reductions.Reduce r) {
        return sum(program, r, false);
    }

    /**
     * {@link #sum}, also writing the program's values into the buffer passed after its inputs
     * ({@link Backend#fusedReduceKeepingValues}).
     */
    public static FusedReduce sumKeepingValues(FusedProgram program, Reductions.Reduce r) {
        return sum(program, r, true);
    }

    private static FusedReduce sum(FusedProgram program, Reductions.Reduce r, boolean keepsValues) {
        long n = 1;
        for (int axis : r.axes()) {
            n *= program.shape()[axis];
        }
        return new FusedReduce(program, ReduceOp.SUM, program.size() / n, n, r.shape(), r.dtype(), keepsValues);
    }

    @Override public String name() { return "fused_" + kind.name().toLowerCase(Locale.ROOT); }
    @Override public Recording recording() { return Recording.NONE; }
    @Override public String attributes() {
        return program.describe() + " over the last " + n + (keepsValues ? ", values kept" : "");
    }
    @Override public void compute(Backend b, Buffer[] in, Buffer out) {
        // NOTE: an empty result needs no kernel, as in the unfused reduction
        if (outer > 0 && keepsValues) {
            b.fusedReduceKeepingValues(program, Arrays.copyOf(in, in.length - 1), kind, outer, n, 1, out,
                    in[in.length - 1]);
        } else if (outer > 0) {
            b.fusedReduce(program, in, kind, outer, n, 1, out);
        }
    }
}
