package dev.nabla.graph;

import dev.nabla.DType;
import dev.nabla.Shape;
import dev.nabla.backend.Backend;
import dev.nabla.backend.Buffer;
import dev.nabla.backend.WindowGeometry;
import dev.nabla.ops.Convolution;
import dev.nabla.ops.LinearAlgebra;
import dev.nabla.ops.Primitive;
import java.util.List;

/**
 * A plan rewrite for a convolution's input gradient: {@code col2im(g, Kᵀ · grad)}, where the column matrix (W7's
 * second layer: 144 × 12,544, 7.2 MB) is written by the product and read back once by col2im. When col2im is its
 * only reader, both become one step ({@link Backend#matmulCol2im}): the CPU computes the columns a group of images at
 * a time into an array of the task's own and sums them into the images while they are in cache, so the column matrix
 * never goes to memory. The bits are the same (the product's, then col2im's sums in their order). Eager execution runs
 * the two ops as the tape recorded them.
 *
 * <p>Taken when the product is unbatched, has no epilogue, reads no operand from an image ({@link ImageColumns}) and
 * writes its result densely; the col2im reads that result (through reshapes) as its column matrix; nothing else reads
 * it and it is no result of the plan; no side effect lies between the two; and both run on one backend in one dtype.
 * Runs after {@link PermutedOperands}, whose runs the product keeps.
 */
final class ProductCol2im {
    private ProductCol2im() {
    }

    static void apply(List<Plan.Step> steps, List<Value> values, int[] root, int[] results) {
        int[] reads = Plan.rootReads(steps, root, results, values.size());
        for (int i = 0; i < steps.size(); i++) {
            Plan.Step c = steps.get(i);
            if (c.isEffect() || !(c.primitive instanceof Convolution.Col2Im col2im)) {
                continue;
            }
            int r = root[c.in[0]];
            int p = ProductEpilogue.producer(steps, i, r);
            if (p < 0 || reads[r] != 1) {
                continue;
            }
            Plan.Step s = steps.get(p);
            PermutedOperands.RunsMatMul rm = PermutedOperands.RunsMatMul.of(s.primitive);
            LinearAlgebra.MatMul mm = rm.product();
            WindowGeometry g = col2im.geometry();
            if (rm.epilogue() != null || rm.outRuns() != null || rm.aWindows() != null || rm.bWindows() != null
                    || s.backend != c.backend || mm.dtype() != col2im.dtype() || mm.m() != g.rows()
                    || mm.n() != g.columns()) {
                continue;
            }
            Plan.Step fused = new Plan.Step();
            fused.primitive = new MatMulCol2im(rm, g, col2im.shape());
            fused.backend = c.backend;
            fused.in = new int[] {s.in[0], s.in[1]};
            fused.out = c.out;
            steps.set(i, fused);
            steps.remove(p);
            reads = Plan.rootReads(steps, root, results, values.size());
            i--;
        }
    }

    /** {@code col2im(geometry, product)} as one step: {@link Backend#matmulCol2im}. */
    record MatMulCol2im(PermutedOperands.RunsMatMul product, WindowGeometry geometry, Shape shape)
            implements Primitive {
        @Override public String name() { return "matmulCol2im"; }
        @Override public DType dtype() { return product.dtype(); }
        @Override public Recording recording() { return Recording.NONE; }
        @Override public String attributes() {
            String col2im = new Convolution.Col2Im(geometry, shape, dtype()).attributes();
            return product.attributes() + " then=col2im(" + col2im + ")";
        }
        @Override public void compute(Backend backend, Buffer[] in, Buffer out) {
            LinearAlgebra.MatMul mm = product.product();
            backend.matmulCol2im(in[0], product.aRuns(), mm.transposeA(), in[1], product.bRuns(), mm.transposeB(),
                    mm.m(), mm.k(), mm.n(), geometry, out);
        }
    }
}
