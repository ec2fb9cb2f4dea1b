package dev.nabla.conformance.graph;

import dev.nabla.DType;
import dev.nabla.backend.BinaryOp;
import dev.nabla.backend.FusedProgram;
import dev.nabla.backend.UnaryOp;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Random fused programs as the plan could make them and beyond: chains and trees of the fusible ops over output
 * shapes of rank 0 to 4 (size-0 and size-1 dimensions included, and sizes past one grid stride of the emulator),
 * each input dense, one broadcast value, broadcast along random dimensions, or read transposed (general strides).
 */
public final class RandomFusedPrograms {
    /** The ops Plan fuses (every float unary but logical_not, every binary but the comparisons). */
    public static final UnaryOp[] UNARY = Arrays.stream(UnaryOp.values()).filter(u -> u != UnaryOp.LOGICAL_NOT)
            .toArray(UnaryOp[]::new);
    public static final BinaryOp[] BINARY = Arrays.stream(BinaryOp.values()).filter(b -> !b.isComparison())
            .toArray(BinaryOp[]::new);
    /** The IEEE-exact ones: their definitions are single correctly rounded operations, the same on every backend. */
    public static final UnaryOp[] EXACT_UNARY = {UnaryOp.NEG, UnaryOp.ABS, UnaryOp.SIGN, UnaryOp.SQRT, UnaryOp.RSQRT,
        UnaryOp.SQUARE, UnaryOp.RECIPROCAL, UnaryOp.RELU};
    public static final BinaryOp[] EXACT_BINARY = {BinaryOp.ADD, BinaryOp.SUB, BinaryOp.MUL, BinaryOp.DIV,
        BinaryOp.MAXIMUM, BinaryOp.MINIMUM, BinaryOp.RELU_GRADIENT};

    private RandomFusedPrograms() {
    }

    /** A program and, per input, the number of elements of its buffer. */
    public record Case(FusedProgram program, long[] inputSizes) {
    }

    /** A random program of the fusible ops; with {@code exactOnly} only the IEEE-exact ones. */
    public static Case next(Random r, DType dtype, boolean exactOnly) {
        return next(r, dtype, exactOnly ? EXACT_UNARY : UNARY, exactOnly ? EXACT_BINARY : BINARY);
    }

    /** A random program of the given ops. */
    public static Case next(Random r, DType dtype, UnaryOp[] unaryOps, BinaryOp[] binaryOps) {
        int rank = r.nextInt(5);
        long[] shape = new long[rank];
        boolean big = r.nextInt(12) == 0;
        int long_ = rank == 0 ? -1 : r.nextInt(rank); // at most one dimension past 10, so sizes stay small
        for (int d = 0; d < rank; d++) {
            int pick = r.nextInt(10);
            shape[d] = pick < 3 ? 1 : pick < 9 || d != long_ ? 2 + r.nextInt(8) : r.nextInt(4) == 0 ? 0
                    : 17 + r.nextInt(20);
        }
        if (big && rank >= 2) { // past the emulator's grid (64 blocks of 256): the grid-stride loop iterates
            java.util.Arrays.fill(shape, 1);
            shape[0] = 150;
            shape[rank - 1] = 140;
        }
        int inputs = 1 + r.nextInt(4);
        long[][] strides = new long[inputs][];
        long[] sizes = new long[inputs];
        for (int k = 0; k < inputs; k++) {
            long[] own = new long[rank];
            int kind = r.nextInt(4); // dense, one value, broadcast along random dimensions, transposed
            for (int d = 0; d < rank; d++) {
                own[d] = kind == 1 || (kind == 2 && r.nextBoolean()) ? 1 : shape[d];
            }
            int[] order = new int[rank]; // the layout's dimension order, outermost first
            for (int d = 0; d < rank; d++) {
                order[d] = d;
            }
            if (kind == 3 && rank >= 2) {
                order[rank - 2] = rank - 1;
                order[rank - 1] = rank - 2;
            }
            strides[k] = new long[rank];
            long step = 1;
            for (int j = rank - 1; j >= 0; j--) {
                int d = order[j];
                strides[k][d] = own[d] == 1 ? 0 : step;
                step *= own[d];
            }
            sizes[k] = step;
        }
        List<FusedProgram.Step> steps = new ArrayList<>();
        boolean[] used = new boolean[inputs];
        int length = 1 + r.nextInt(7);
        for (int s = 0; s < length; s++) {
            int a = operand(r, s, inputs, used);
            if (r.nextInt(5) < 2) {
                steps.add(new FusedProgram.Step(unaryOps[r.nextInt(unaryOps.length)], null, a, 0));
            } else {
                steps.add(new FusedProgram.Step(null, binaryOps[r.nextInt(binaryOps.length)], a,
                        operand(r, s, inputs, used)));
            }
        }
        for (int k = 0; k < inputs; k++) { // every input is read, as in the plan's programs
            if (!used[k]) {
                steps.add(new FusedProgram.Step(null, binaryOps[r.nextInt(binaryOps.length)], steps.size() - 1,
                        -1 - k));
            }
        }
        FusedProgram p = new FusedProgram(dtype, shape, strides, steps.toArray(new FusedProgram.Step[0]));
        return new Case(p, sizes);
    }

    private static int operand(Random r, int step, int inputs, boolean[] used) {
        if (step > 0 && r.nextBoolean()) {
            return r.nextInt(step);
        }
        int k = r.nextInt(inputs);
        used[k] = true;
        return -1 - k;
    }

    /** Values with the specials every op must get right: signed zeros, NaN, infinities, subnormals, extremes. */
    public static double[] values(Random r, long n, DType dtype) {
        double tiny = dtype == DType.FLOAT32 ? Float.MIN_VALUE * 3.0 : Double.MIN_VALUE * 5;
        double huge = dtype == DType.FLOAT32 ? 3e38 : 1e307;
        double[] specials = {0.0, -0.0, Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, 1, -1, tiny,
            -tiny, huge, -huge, 0.5};
        double[] v = new double[(int) n];
        for (int i = 0; i < v.length; i++) {
            v[i] = r.nextInt(6) == 0 ? specials[r.nextInt(specials.length)] : r.nextGaussian() * 3;
        }
        return v;
    }
}
