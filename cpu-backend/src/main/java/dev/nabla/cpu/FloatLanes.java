package dev.nabla.cpu;

import dev.nabla.backend.BinaryOp;
import dev.nabla.backend.UnaryOp;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * FLOAT32 element-wise loops: one loop per layout, the op chosen per vector by a switch. Vectors are used only for
 * ops whose vector form is bit-identical to the scalar definition ({@link #isExact}); tails and the other ops run
 * the definition itself, so every element gets the same bits whatever the vector width, the thread split or the
 * JIT tier.
 *
 * <p>NOTE: every {@code lanewise} operator below is a literal constant in its own switch arm. C2 only intrinsifies a
 * Vector API call whose operator is a compile-time constant; an operator looked up from a map at run time makes
 * every vector a heap object, about 50x slower.
 */
final class FloatLanes {
    static final VectorSpecies<Float> F = VectorSpecies.of(float.class, VectorWidth.SHAPE);
    /** Bytes, one per float lane, for storing comparison masks as BOOL; null when no such shape exists (then masks are stored lane by lane). */
    private static final VectorSpecies<Byte> B = byteSpecies(F.length());

    private FloatLanes() {
    }

    static VectorSpecies<Byte> byteSpecies(int lanes) {
        int bits = lanes * 8;
        return bits == 64 || bits == 128 || bits == 256 || bits == 512
                ? VectorSpecies.of(byte.class, VectorShape.forBitSize(bits)) : null;
    }

    /** True when the op has a vector form here. */
    static boolean supports(UnaryOp op) {
        return op != UnaryOp.LOGICAL_NOT;
    }

    /**
     * True when the op's vector form gives exactly its scalar definition's bits: IEEE-exact operations (and, in
     * float, nothing rounded twice). Transcendentals are not: the Vector API's EXP, LOG, POW... (SVML on x86) differ
     * from {@link StrictMath} by an ulp, and from their own fallback used before C2 compiles a loop, so a value
     * would depend on the host, the vector width, its position in the array and the JIT's warm-up. They run the
     * scalar definition instead.
     */
    static boolean isExact(UnaryOp op) {
        return switch (op) {
            case NEG, ABS, SIGN, SQRT, SQUARE, RECIPROCAL, RELU -> true;
            // 1f / sqrt(x) rounds twice in float; the definition rounds once from double
            default -> false;
        };
    }

    /** True when the op's vector form gives exactly its scalar definition's bits (all but POW, see above). */
    static boolean isExact(BinaryOp op) {
        return op != BinaryOp.POW;
    }

    /** {@code y[i] = op(x[i])} for {@code i} in {@code [lo, hi)}. */
    static void unary(UnaryOp op, float[] x, float[] y, int lo, int hi) {
        if (op == UnaryOp.EXP || op == UnaryOp.SIGMOID) {
            throughDouble(op, x, y, lo, hi);
            return;
        }
        int i = lo;
        int bound = isExact(op) ? lo + F.loopBound(hi - lo) : lo;
        int step = F.length();
        // NOTE: one loop per op with the op's vector form written in it. A loop calling apply(op, v) was compiled
        // after apply had been compiled on its own (hot in the interpreter), whose code is past C2's InlineSmallCode,
        // so C2 did not inline it and every vector went through the Vector API's unintrinsified Java fallback (JFR:
        // fromArray0Template, lanewiseTemplate): eager relu, square, sqrt... and fused unary steps ran many times
        // slower than their binary twins.
        switch (op) {
            case NEG -> {
                for (; i < bound; i += step) {
                    FloatVector.fromArray(F, x, i).neg().intoArray(y, i);
                }
            }
            case ABS -> {
                for (; i < bound; i += step) {
                    FloatVector.fromArray(F, x, i).abs().intoArray(y, i);
                }
            }
            case SIGN -> {
                // Math.signum: ±1, and x itself for ±0 and NaN
                for (; i < bound; i += step) {
                    FloatVector v = FloatVector.fromArray(F, x, i);
                    v.blend(1f, v.compare(VectorOperators.GT, 0f)).blend(-1f, v.compare(VectorOperators.LT, 0f))
                            .intoArray(y, i);
                }
            }
            case SQRT -> {
                for (; i < bound; i += step) {
                    FloatVector.fromArray(F, x, i).sqrt().intoArray(y, i);
                }
            }
            case SQUARE -> {
                for (; i < bound; i += step) {
                    FloatVector v = FloatVector.fromArray(F, x, i);
                    v.mul(v).intoArray(y, i);
                }
            }
            case RECIPROCAL -> {
                FloatVector one = FloatVector.broadcast(F, 1f);
                for (; i < bound; i += step) {
                    one.div(FloatVector.fromArray(F, x, i)).intoArray(y, i);
                }
            }
            case RELU -> {
                // x where x > 0 or x is NaN, else +0: the scalar definition
                FloatVector zero = FloatVector.zero(F);
                for (; i < bound; i += step) {
                    FloatVector v = FloatVector.fromArray(F, x, i);
                    zero.blend(v, v.compare(VectorOperators.GT, 0f).or(v.test(VectorOperators.IS_NAN))).intoArray(y, i);
                }
            }
            default -> {
                // no exact vector form: bound == lo, the scalar definition below does every element
            }
        }
        for (; i < hi; i++) {
            y[i] = (float) op.apply(x[i]);
        }
    }

    /** Widened values per chunk of {@link #throughDouble}: 16 KiB of doubles, which stay in L1. */
    private static final int WIDE_CHUNK = 2048;
    /** A thread's chunk: a new array a call was 21 of the 170 KB that W5's eager step allocated (its softmax's exp). */
    private static final ThreadLocal<double[]> WIDE = ThreadLocal.withInitial(() -> new double[WIDE_CHUNK]);

    /**
     * EXP and SIGMOID, whose FLOAT32 definition is the double result rounded to float: widen a chunk, run
     * {@link StrictExpLanes} (StrictMath's exact bits at vector speed), round back. The two conversion loops are
     * plain loops that C2 vectorizes.
     */
    private static void throughDouble(UnaryOp op, float[] x, float[] y, int lo, int hi) {
        double[] wide = WIDE.get();
        for (int from = lo; from < hi; from += WIDE_CHUNK) {
            int n = Math.min(WIDE_CHUNK, hi - from);
            for (int j = 0; j < n; j++) {
                wide[j] = x[from + j];
            }
            if (op == UnaryOp.EXP) {
                StrictExpLanes.exp(wide, wide, 0, n);
            } else {
                StrictExpLanes.sigmoid(wide, wide, 0, n);
            }
            for (int j = 0; j < n; j++) {
                y[from + j] = (float) wide[j];
            }
        }
    }

    /**
     * {@code out[o + j] = op(a[ai + j·as], b[bi + j·bs])} for {@code j < len}, each step 0 (broadcast) or 1; for
     * comparisons {@code outBools} receives 0/1 and {@code out} is unused.
     */
    static void row(BinaryOp op, float[] a, int ai, boolean aBroadcast, float[] b, int bi, boolean bBroadcast,
            float[] out, byte[] outBools, int o, int len) {
        if (op.isComparison()) {
            compareRow(op, a, ai, aBroadcast, b, bi, bBroadcast, outBools, o, len);
            return;
        }
        // both splats always exist (element 0 is in range when len > 0) so that no phi mixes a vector with null
        FloatVector sa = FloatVector.broadcast(F, a[ai]);
        FloatVector sb = FloatVector.broadcast(F, b[bi]);
        int as = aBroadcast ? 0 : 1;
        int bs = bBroadcast ? 0 : 1;
        int j = 0;
        int bound = isExact(op) ? F.loopBound(len) : 0;
        int step = F.length();
        // NOTE: one loop per op with the op written in it, as in unary. With the op chosen per vector by a switch
        // inside one loop, C2 kept every vector on the heap once the loop had seen several ops (as a training step's
        // does): W7's relu gradient took 1.0 ms instead of 0.25, allocating about 2 GB/s of vector boxes
        // (VectorBoxingTest).
        switch (op) {
            case ADD -> {
                for (; j < bound; j += step) {
                    operand(sa, aBroadcast, a, ai + j).add(operand(sb, bBroadcast, b, bi + j)).intoArray(out, o + j);
                }
            }
            case SUB -> {
                for (; j < bound; j += step) {
                    operand(sa, aBroadcast, a, ai + j).sub(operand(sb, bBroadcast, b, bi + j)).intoArray(out, o + j);
                }
            }
            case MUL -> {
                for (; j < bound; j += step) {
                    operand(sa, aBroadcast, a, ai + j).mul(operand(sb, bBroadcast, b, bi + j)).intoArray(out, o + j);
                }
            }
            case DIV -> {
                for (; j < bound; j += step) {
                    operand(sa, aBroadcast, a, ai + j).div(operand(sb, bBroadcast, b, bi + j)).intoArray(out, o + j);
                }
            }
            case MAXIMUM -> {
                for (; j < bound; j += step) {
                    operand(sa, aBroadcast, a, ai + j).max(operand(sb, bBroadcast, b, bi + j)).intoArray(out, o + j);
                }
            }
            case MINIMUM -> {
                for (; j < bound; j += step) {
                    operand(sa, aBroadcast, a, ai + j).min(operand(sb, bBroadcast, b, bi + j)).intoArray(out, o + j);
                }
            }
            case RELU_GRADIENT -> {
                FloatVector zero = FloatVector.zero(F);
                for (; j < bound; j += step) {
                    FloatVector x = operand(sa, aBroadcast, a, ai + j);
                    zero.blend(operand(sb, bBroadcast, b, bi + j), x.compare(VectorOperators.GT, 0f))
                            .intoArray(out, o + j);
                }
            }
            default -> {
                // no exact vector form: bound == 0, the scalar definition below does every element
            }
        }
        for (; j < len; j++) {
            out[o + j] = (float) op.apply(a[ai + j * as], b[bi + j * bs]);
        }
    }

    /** A row's operand vector at {@code at}: the splat when it is broadcast. */
    private static FloatVector operand(FloatVector splat, boolean broadcast, float[] x, int at) {
        return broadcast ? splat : FloatVector.fromArray(F, x, at);
    }

    /** {@link #row} of a comparison, one loop per comparison for the reason given there. */
    private static void compareRow(BinaryOp op, float[] a, int ai, boolean aBroadcast, float[] b, int bi,
            boolean bBroadcast, byte[] outBools, int o, int len) {
        FloatVector sa = FloatVector.broadcast(F, a[ai]);
        FloatVector sb = FloatVector.broadcast(F, b[bi]);
        int j = 0;
        int bound = F.loopBound(len);
        int step = F.length();
        switch (op) {
            case EQ -> {
                for (; j < bound; j += step) {
                    storeMask(operand(sa, aBroadcast, a, ai + j).compare(VectorOperators.EQ,
                            operand(sb, bBroadcast, b, bi + j)), outBools, o + j);
                }
            }
            case NE -> {
                for (; j < bound; j += step) {
                    storeMask(operand(sa, aBroadcast, a, ai + j).compare(VectorOperators.NE,
                            operand(sb, bBroadcast, b, bi + j)), outBools, o + j);
                }
            }
            case LT -> {
                for (; j < bound; j += step) {
                    storeMask(operand(sa, aBroadcast, a, ai + j).compare(VectorOperators.LT,
                            operand(sb, bBroadcast, b, bi + j)), outBools, o + j);
                }
            }
            case LE -> {
                for (; j < bound; j += step) {
                    storeMask(operand(sa, aBroadcast, a, ai + j).compare(VectorOperators.LE,
                            operand(sb, bBroadcast, b, bi + j)), outBools, o + j);
                }
            }
            case GT -> {
                for (; j < bound; j += step) {
                    storeMask(operand(sa, aBroadcast, a, ai + j).compare(VectorOperators.GT,
                            operand(sb, bBroadcast, b, bi + j)), outBools, o + j);
                }
            }
            case GE -> {
                for (; j < bound; j += step) {
                    storeMask(operand(sa, aBroadcast, a, ai + j).compare(VectorOperators.GE,
                            operand(sb, bBroadcast, b, bi + j)), outBools, o + j);
                }
            }
            default -> throw new IllegalArgumentException(op + " is not a comparison");
        }
        int as = aBroadcast ? 0 : 1;
        int bs = bBroadcast ? 0 : 1;
        for (; j < len; j++) {
            outBools[o + j] = (byte) op.apply(a[ai + j * as], b[bi + j * bs]);
        }
    }

    /**
     * {@link #row} for a row shorter than a vector ({@code len < lanes}; a softmax's 10 classes), of an op with an
     * exact vector form other than a comparison, as one masked vector: {@code row}'s scalar tail took 6 us for
     * 128 x 10. NOTE: a method of its own, called instead of {@code row}: with this masked vector as {@code row}'s
     * tail, C2 at times left the op's vector form out of {@code row}'s loop ("too big" in PrintInlining), and a
     * 128 x 256 add ran the Vector API's Java fallback (5 to 57 us).
     */
    static void shortRow(BinaryOp op, float[] a, int ai, boolean aBroadcast, float[] b, int bi,
            boolean bBroadcast, float[] out, int o, int len) {
        VectorMask<Float> m = F.indexInRange(0, len);
        FloatVector x = aBroadcast ? FloatVector.broadcast(F, a[ai]) : FloatVector.fromArray(F, a, ai, m);
        FloatVector y = bBroadcast ? FloatVector.broadcast(F, b[bi]) : FloatVector.fromArray(F, b, bi, m);
        switch (op) {
            case ADD -> x.add(y).intoArray(out, o, m);
            case SUB -> x.sub(y).intoArray(out, o, m);
            case MUL -> x.mul(y).intoArray(out, o, m);
            case DIV -> x.div(y).intoArray(out, o, m);
            case MAXIMUM -> x.max(y).intoArray(out, o, m);
            case MINIMUM -> x.min(y).intoArray(out, o, m);
            case RELU_GRADIENT -> FloatVector.zero(F).blend(y, x.compare(VectorOperators.GT, 0f)).intoArray(out, o, m);
            default -> throw new IllegalArgumentException(op + " is a comparison or has no exact vector form");
        }
    }

    /** Writes the mask as BOOL bytes 0/1. */
    private static void storeMask(VectorMask<Float> mask, byte[] out, int at) {
        if (B != null) {
            ByteVector.zero(B).blend((byte) 1, mask.cast(B)).intoArray(out, at);
            return;
        }
        // no byte vector as narrow as this mask (4 doubles under AVX2 would need 32 bits): store lane by lane
        long bits = mask.toLong();
        for (int lane = 0; lane < mask.length(); lane++) {
            out[at + lane] = (byte) ((bits >>> lane) & 1);
        }
    }
}
