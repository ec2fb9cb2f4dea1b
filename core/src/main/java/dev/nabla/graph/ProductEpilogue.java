package dev.nabla.graph;

import dev.nabla.DType;
import dev.nabla.Shape;
import dev.nabla.backend.BinaryOp;
import dev.nabla.backend.FusedProgram;
import dev.nabla.backend.MatrixEpilogue;
import dev.nabla.backend.MatrixRuns;
import dev.nabla.backend.UnaryOp;
import dev.nabla.ops.Broadcasting;
import dev.nabla.ops.Elementwise;
import dev.nabla.ops.Fused;
import dev.nabla.ops.LinearAlgebra;
import java.util.List;

/**
 * The last plan rewrite: an add {@code c + bias}, or a fused {@code relu(c + bias)}, whose {@code c} is a matrix product's
 * result that nothing else reads is done by the product ({@link MatrixEpilogue}), which adds the bias and applies relu
 * to each block of its result while the block is in cache: a convolution's bias and relu, or a dense layer's, no
 * longer read and write the whole activation once more. The bits are the same (the product, then the add, then relu,
 * each rounded as alone).
 *
 * <p>Taken when the product is unbatched and on the fused step's backend and dtype; its result is no result of the
 * plan and the fused step is its only reader, reading it densely in its own shape (the product's layout, dense or
 * the {@code (n / run, m, run)} permutation a convolution writes); the bias is read with one value per row of the
 * product (per column for a dense result), dense in that index; and no side effect lies between the product and the
 * fused step, which the product then replaces, where the fused step was (the bias may be made after the product).
 */
final class ProductEpilogue {
    private ProductEpilogue() {
    }

    static void apply(List<Plan.Step> steps, List<Value> values, int[] root, int[] results) {
        int[] reads = Plan.rootReads(steps, root, results, values.size());
        for (int i = 0; i < steps.size(); i++) {
            Plan.Step f = steps.get(i);
            Add add = f.isEffect() ? null : Add.of(f);
            if (add == null) {
                continue;
            }
            for (int side = 0; side < 2; side++) {
                int product = f.in[add.operands[side]];
                int bias = f.in[add.operands[1 - side]];
                int r = root[product];
                int p = producer(steps, i, r);
                if (p < 0) {
                    continue;
                }
                Plan.Step s = steps.get(p);
                PermutedOperands.RunsMatMul rm = PermutedOperands.RunsMatMul.of(s.primitive);
                LinearAlgebra.MatMul mm = rm.product();
                if (rm.epilogue() != null || s.backend != f.backend || mm.dtype() != add.dtype
                        || values.get(bias).dtype() != add.dtype || root[bias] == r || reads[r] != 1
                        || !add.dense[side] || add.size() == 0 || add.size() != mm.m() * mm.n()) {
                    continue;
                }
                Boolean perRow = biasIndex(add.shape, add.strides[1 - side], rm.outRuns(), mm.m(), mm.n());
                if (perRow == null) {
                    continue;
                }
                Plan.Step g = new Plan.Step();
                g.primitive = rm.finishing(new MatrixEpilogue(perRow, side == 1, add.relu));
                g.backend = s.backend;
                g.in = new int[] {s.in[0], s.in[1], bias};
                g.out = f.out;
                steps.set(i, g);
                steps.remove(p);
                reads = Plan.rootReads(steps, root, results, values.size());
                i--;
                break;
            }
        }
    }

    /**
     * A step that adds two of its inputs (by index), then applies relu if {@code relu}: a plain add, or a fused
     * {@code add} or {@code relu(add)} of two external inputs. Per operand, the strides through which it is read over
     * the output's shape and whether that is densely, one element per output element.
     */
    private record Add(int[] operands, long[][] strides, boolean[] dense, long[] shape, DType dtype, boolean relu) {
        static Add of(Plan.Step f) {
            if (f.primitive instanceof Elementwise.Binary b && b.op() == BinaryOp.ADD) {
                long[][] strides = {Broadcasting.strides(b.aShape(), b.shape()),
                    Broadcasting.strides(b.bShape(), b.shape())};
                return new Add(new int[] {0, 1}, strides, new boolean[] {b.aShape().equals(b.shape()),
                    b.bShape().equals(b.shape())}, b.shape().dims(), b.dtype(), false);
            }
            if (!(f.primitive instanceof Fused fused)) {
                return null;
            }
            FusedProgram program = fused.program();
            FusedProgram.Step[] ops = program.steps();
            boolean relu = ops.length == 2 && ops[1].unary() == UnaryOp.RELU && ops[1].a() == 0;
            if (!(ops.length == 1 || relu) || ops[0].binary() != BinaryOp.ADD || ops[0].a() >= 0 || ops[0].b() >= 0
                    || ops[0].a() == ops[0].b()) {
                return null;
            }
            int a = -1 - ops[0].a();
            int b = -1 - ops[0].b();
            return new Add(new int[] {a, b}, new long[][] {program.inputStrides()[a], program.inputStrides()[b]},
                    new boolean[] {program.isDense(a), program.isDense(b)}, program.shape(), fused.dtype(), relu);
        }

        long size() {
            return Shape.of(shape).size();
        }
    }

    /**
     * The product step before {@code at} that writes value root {@code r}, with no side effect between; else -1.
     */
    static int producer(List<Plan.Step> steps, int at, int r) {
        for (int p = at - 1; p >= 0; p--) {
            Plan.Step s = steps.get(p);
            if (s.isEffect()) {
                return -1;
            }
            if (s.out == r) {
                return PermutedOperands.isProduct(s.primitive) ? p : -1;
            }
        }
        return -1;
    }

    /**
     * True when the bias, read with {@code strides} over the output {@code shape}, gives element {@code (r, c)} of the
     * {@code m × n} product (laid out dense, or in {@code runs}) its value at index {@code r}; false when at index
     * {@code c}; null when neither (or the layout is not one the epilogue walks).
     */
    static Boolean biasIndex(long[] shape, long[] strides, MatrixRuns runs, long m, long n) {
        if (runs == null) {
            int[] at = split(shape, m, n);
            if (at == null) {
                return null;
            }
            if (dense(shape, strides, 0, at[0], 1) && zero(shape, strides, at[0], at[1])) {
                return true;
            }
            return zero(shape, strides, 0, at[0]) && dense(shape, strides, at[0], at[1], 1) ? false : null;
        }
        // the permutation a convolution writes: (n / run, m, run), rows run apart, runs m·run apart
        if (runs.rowStride() != runs.run() || runs.runStride() != m * runs.run() || n % runs.run() != 0) {
            return null;
        }
        int[] at = split(shape, n / runs.run(), m, runs.run());
        if (at == null) {
            return null;
        }
        if (zero(shape, strides, 0, at[0]) && dense(shape, strides, at[0], at[1], 1)
                && zero(shape, strides, at[1], at[2])) {
            return true;
        }
        return dense(shape, strides, at[1], at[2], 1) && zero(shape, strides, at[0], at[1])
                && dense(shape, strides, 0, at[0], runs.run()) ? false : null;
    }

    /**
     * Where the dimensions of {@code shape} split into consecutive groups of the given sizes (the end of each group);
     * null when a dimension would straddle two.
     */
    private static int[] split(long[] shape, long... sizes) {
        int[] ends = new int[sizes.length];
        int d = 0;
        for (int g = 0; g < sizes.length; g++) {
            long product = 1;
            // size-1 dimensions go with the group before them: their strides do not matter
            while (d < shape.length && (product < sizes[g] || shape[d] == 1) && product <= sizes[g]) {
                product *= shape[d++];
            }
            if (product != sizes[g]) {
                return null;
            }
            ends[g] = d;
        }
        return d == shape.length ? ends : null;
    }

    /** Dimensions {@code [from, to)} step through the bias densely, {@code scale} a step of the last. */
    private static boolean dense(long[] shape, long[] strides, int from, int to, long scale) {
        long expected = scale;
        for (int d = to - 1; d >= from; d--) {
            if (shape[d] != 1 && strides[d] != expected) {
                return false;
            }
            expected *= shape[d];
        }
        return true;
    }

    /** Dimensions {@code [from, to)} do not move through the bias. */
    private static boolean zero(long[] shape, long[] strides, int from, int to) {
        for (int d = from; d < to; d++) {
            if (shape[d] != 1 && strides[d] != 0) {
                return false;
            }
        }
        return true;
    }
}
