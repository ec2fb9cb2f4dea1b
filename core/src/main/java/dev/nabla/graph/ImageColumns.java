package dev.nabla.graph;

import dev.nabla.backend.WindowGeometry;
import dev.nabla.ops.Convolution;
import dev.nabla.ops.LinearAlgebra;
import java.util.ArrayList;
import java.util.List;

/**
 * A plan rewrite for convolutions: an {@code im2col} whose column matrix only matrix products read is not computed;
 * the products read the image instead, each packing the columns it needs as it goes ({@link
 * dev.nabla.backend.Backend#matmul(dev.nabla.backend.Buffer, dev.nabla.backend.MatrixRuns, WindowGeometry, boolean,
 * dev.nabla.backend.Buffer, dev.nabla.backend.MatrixRuns, WindowGeometry, boolean, dev.nabla.backend.Buffer,
 * dev.nabla.backend.MatrixRuns, long, long, long, dev.nabla.backend.MatrixEpilogue, dev.nabla.backend.Buffer)}). In a
 * training step those are the forward product {@code K · cols} and the kernel gradient's {@code g · colsᵀ}: the
 * column matrix is nine times the image under 3 × 3 windows (W7's second convolution: 7.2 MB from a 0.8 MB image),
 * written once by {@code im2col} and read back from memory by both, where the image stays in cache. The bits are those
 * of the column matrix. Eager execution cannot do this: the tape holds the columns for the gradient.
 *
 * <p>Taken when every reader of the columns is an unbatched product on the same backend reading them directly (no
 * view) as one operand, stored as the column matrix, with no windows on its other operand; the columns are no result
 * of the plan; and no side effect lies between the {@code im2col} and its last reader (one may change a Variable that
 * is the image).
 */
final class ImageColumns {
    private ImageColumns() {
    }

    /** Rewrites every match in {@code steps} (after {@link PermutedOperands#apply}, before the epilogues). */
    static void apply(List<Plan.Step> steps, int[] root, int[] results) {
        List<Plan.Step> dropped = new ArrayList<>();
        for (int c = 0; c < steps.size(); c++) {
            Plan.Step im2col = steps.get(c);
            if (im2col.isEffect() || !(im2col.primitive instanceof Convolution.Im2Col op)
                    || op.shape().size() == 0 || PermutedOperands.isResult(im2col.out, root, results)) {
                continue;
            }
            List<int[]> reads = PermutedOperands.readers(steps, c, root);
            if (reads == null || !reads.stream().allMatch(r -> readsColumns(steps.get(r[0]), r[1], im2col.out,
                    op.geometry()))) {
                continue;
            }
            for (int[] read : reads) {
                Plan.Step s = steps.get(read[0]);
                s.primitive = PermutedOperands.RunsMatMul.of(s.primitive).windowing(read[1], op.geometry());
                s.in = s.in.clone();
                s.in[read[1]] = im2col.in[0];
            }
            dropped.add(im2col);
        }
        steps.removeIf(s -> dropped.stream().anyMatch(d -> d == s));
    }

    /** Whether product {@code s} reads value {@code cols} itself in {@code slot} as the stored column matrix. */
    private static boolean readsColumns(Plan.Step s, int slot, int cols, WindowGeometry g) {
        if (s.in[slot] != cols) {
            return false;
        }
        PermutedOperands.RunsMatMul rm = PermutedOperands.RunsMatMul.of(s.primitive);
        LinearAlgebra.MatMul mm = rm.product();
        var stored = slot == 0 ? mm.aShape() : mm.bShape();
        boolean otherFree = slot == 0 ? rm.bWindows() == null : rm.aWindows() == null;
        boolean slotFree = slot == 0 ? rm.aRuns() == null && rm.aWindows() == null
                : rm.bRuns() == null && rm.bWindows() == null;
        return otherFree && slotFree && stored.rank() == 2 && stored.dim(0) == g.rows()
                && stored.dim(1) == g.columns();
    }
}
