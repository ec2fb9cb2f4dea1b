package dev.nabla.backend;

import dev.nabla.DType;
import java.util.Arrays;

/**
 * A chain (or tree) of element-wise ops that a traced graph runs as one pass over memory: {@code steps} in order,
 * each reading external inputs (over broadcast strides into {@code shape}) or earlier steps, the last step being the
 * output. Every step keeps the meaning of its op: a FLOAT32 step rounds its result to float exactly as the unfused op
 * would, and no two steps are contracted into one (no FMA), so fused and unfused results are the same bits.
 *
 * <pre>{@code
 * // relu(a * b + c) over (n,) float32, inputs a, b, c: -1, -2, -3
 * FusedProgram p = new FusedProgram(DType.FLOAT32, new long[] {n}, new long[][] {{1}, {1}, {1}},
 *         new FusedProgram.Step[] {
 *             new FusedProgram.Step(null, BinaryOp.MUL, -1, -2),     // step 0 = a * b
 *             new FusedProgram.Step(null, BinaryOp.ADD, 0, -3),      // step 1 = step 0 + c
 *             new FusedProgram.Step(UnaryOp.RELU, null, 1, 0)});     // step 2 = relu(step 1): the output
 * backend.fused(p, new Buffer[] {a, b, c}, out);
 * }</pre>
 *
 * @param dtype        FLOAT32 or FLOAT64, of every input, step and the output
 * @param shape        the output's shape, which every step has
 * @param inputStrides per external input, its element strides into {@code shape} (0 broadcasts)
 * @param steps        the ops in order; the last is the output
 */
public record FusedProgram(DType dtype, long[] shape, long[][] inputStrides, Step[] steps) {
    /**
     * One op: exactly one of {@code unary} and {@code binary} is set; an operand {@code k >= 0} is step {@code k}'s
     * result, {@code k < 0} external input {@code -1 - k}; {@code b} is unused by a unary step.
     *
     * <pre>{@code
     * new FusedProgram.Step(null, BinaryOp.ADD, 0, -3);   // step 0's result plus external input 2
     * }</pre>
     */
    public record Step(UnaryOp unary, BinaryOp binary, int a, int b) {
    }

    /** The number of elements of the output. */
    public long size() {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    /** True when external input {@code k} is read densely, one element per output element. */
    public boolean isDense(int k) {
        long[] s = inputStrides[k];
        long expected = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            if (shape[i] != 1 && s[i] != expected) {
                return false;
            }
            expected *= shape[i];
        }
        return true;
    }

    /** True when external input {@code k} is one value broadcast to every element. */
    public boolean isScalar(int k) {
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] != 1 && inputStrides[k][i] != 0) {
                return false;
            }
        }
        return true;
    }

    /** The expression, e.g. {@code relu(mul(add(mul(in0, in1), in2), in3))}. */
    public String describe() {
        return describe(steps.length - 1);
    }

    private String describe(int k) {
        if (k < 0) {
            return "in" + (-1 - k);
        }
        Step s = steps[k];
        return s.unary != null ? name(s.unary) + "(" + describe(s.a) + ")"
                : name(s.binary) + "(" + describe(s.a) + ", " + describe(s.b) + ")";
    }

    private static String name(Enum<?> op) {
        return op.name().toLowerCase(java.util.Locale.ROOT);
    }

    @Override
    public String toString() {
        return describe() + " " + dtype + " " + Arrays.toString(shape);
    }
}
