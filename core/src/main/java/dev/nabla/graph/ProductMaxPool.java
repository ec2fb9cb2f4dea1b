package dev.nabla.graph;

import dev.nabla.DType;
import dev.nabla.Shape;
import dev.nabla.backend.Backend;
import dev.nabla.backend.Buffer;
import dev.nabla.backend.MatrixRuns;
import dev.nabla.backend.WindowGeometry;
import dev.nabla.ops.Convolution;
import dev.nabla.ops.LinearAlgebra;
import dev.nabla.ops.Primitive;
import java.util.List;

/**
 * A plan rewrite for a convolution followed by max pooling: {@code maxPoolIndices(y)} and {@code maxPool(y, indices)}
 * of a convolution's result {@code y} (with its bias and relu, {@link ProductEpilogue}), where y (W7's first layer:
 * 3.2 MB) is written by the product and read back twice. When those two are its only readers, the three become one
 * step with two results, the pooled values and the indices ({@link Backend#matmulMaxPool}): the CPU computes y a
 * group of images at a time into an array of the task's own and pools it while it is in cache, so y never goes to
 * memory. The bits are the same (the product's and epilogue's, then the same comparisons and the chosen elements).
 * Eager execution runs the ops as the tape recorded them; the backward needs only the indices and the pooled values
 * ({@link PoolGradientMask}).
 *
 * <p>Taken when the product reads its B from an image ({@link ImageColumns}), writes its (m, n) result as
 * {@code (images, m, outH, outW)} planes (its runs from {@link PermutedOperands}) with no bias or a bias per output
 * channel; both pooling steps read y (through reshapes) with the same windows, one plane of one channel per
 * (image, channel), the gather the indices step's result; nothing else reads y and it is no result of the plan, nor
 * are the indices; and all three run on one backend in one dtype. The step takes the product's place.
 */
final class ProductMaxPool {
    private ProductMaxPool() {
    }

    /** Rewrites every match in {@code steps} (after {@link ProductEpilogue}). */
    static void apply(List<Plan.Step> steps, List<Value> values, int[] root, int[] results) {
        int[] reads = Plan.rootReads(steps, root, results, values.size());
        for (int p = 0; p < steps.size(); p++) {
            Plan.Step s = steps.get(p);
            if (s.isEffect() || !(s.primitive instanceof PermutedOperands.RunsMatMul rm) || reads[s.out] != 2
                    || root[s.out] != s.out) {
                continue;
            }
            int y = s.out;
            int chooser = reader(steps, p, y, root, Convolution.MaxPoolIndices.class);
            if (chooser < 0) {
                continue;
            }
            Plan.Step indices = steps.get(chooser);
            WindowGeometry pool = ((Convolution.MaxPoolIndices) indices.primitive).geometry();
            int gatherer = reader(steps, p, y, root, Convolution.MaxPool.class);
            if (gatherer < 0 || !fits(rm, pool, s, indices, steps.get(gatherer), root, results)) {
                continue;
            }
            Plan.Step gather = steps.get(gatherer);
            Plan.Step fused = new Plan.Step();
            fused.primitive = new MatMulMaxPool(rm, pool, gather.primitive.shape());
            fused.backend = s.backend;
            fused.in = s.in;
            fused.out = gather.out;
            fused.side = indices.out;
            steps.set(p, fused);
            steps.remove(indices);
            steps.remove(gather);
            reads = Plan.rootReads(steps, root, results, values.size());
        }
    }

    /** The first step after {@code from} of primitive {@code type} that reads {@code y} as input 0; -1 if none. */
    private static int reader(List<Plan.Step> steps, int from, int y, int[] root, Class<? extends Primitive> type) {
        for (int i = from + 1; i < steps.size(); i++) {
            Plan.Step s = steps.get(i);
            if (!s.isEffect() && type.isInstance(s.primitive) && root[s.in[0]] == y) {
                return i;
            }
        }
        return -1;
    }

    private static boolean fits(PermutedOperands.RunsMatMul rm, WindowGeometry pool, Plan.Step product,
            Plan.Step indices, Plan.Step gather, int[] root, int[] results) {
        LinearAlgebra.MatMul mm = rm.product();
        WindowGeometry g = rm.bWindows();
        if (g == null || rm.aWindows() != null || rm.bRuns() != null || mm.batch().rank() != 0
                || mm.transposeB() || rm.epilogue() != null && !rm.epilogue().perRow()) {
            return false;
        }
        long plane = (long) g.outH() * g.outW();
        Convolution.MaxPool mp = (Convolution.MaxPool) gather.primitive;
        return new MatrixRuns(plane, plane, mm.m() * plane).equals(rm.outRuns()) && mm.n() == g.columns()
                && pool.equals(mp.geometry()) && pool.images() == g.images() * mm.m() && pool.channels() == 1
                && pool.height() == g.outH() && pool.width() == g.outW()
                && root[gather.in[1]] == indices.out && root[indices.out] == indices.out
                && !PermutedOperands.isResult(indices.out, root, results)
                && product.backend == indices.backend && product.backend == gather.backend
                && mp.dtype() == mm.dtype();
    }

    /**
     * A convolution, its epilogue and max pooling as one step ({@link Backend#matmulMaxPool}): the pooled values are
     * its output, the indices the side output the plan gives it after its inputs.
     */
    record MatMulMaxPool(PermutedOperands.RunsMatMul product, WindowGeometry pool, Shape shape)
            implements Primitive {
        @Override public String name() { return "matmulMaxPool"; }
        @Override public DType dtype() { return product.dtype(); }
        @Override public Recording recording() { return Recording.NONE; }
        @Override public String attributes() {
            String maxPool = new Convolution.MaxPool(pool, shape, dtype()).attributes();
            return product.attributes() + " then=maxPool(" + maxPool + ")";
        }
        @Override public void compute(Backend backend, Buffer[] in, Buffer out) {
            LinearAlgebra.MatMul mm = product.product();
            boolean biased = product.epilogue() != null;
            backend.matmulMaxPool(in[0], product.aRuns(), mm.transposeA(), in[1], product.bWindows(), mm.m(),
                    mm.k(), product.epilogue(), biased ? in[2] : null, pool, out, in[biased ? 3 : 2]);
        }
    }
}
