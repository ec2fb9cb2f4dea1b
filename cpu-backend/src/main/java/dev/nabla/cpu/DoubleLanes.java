package dev.nabla.cpu;

import dev.nabla.backend.BinaryOp;
import dev.nabla.backend.UnaryOp;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * FLOAT64 element-wise loops, the twin of {@link FloatLanes} (the Vector API has no generic form over primitive
 * arrays that C2 compiles as well); see there for why each operator is a constant in its own switch arm.
 */
final class DoubleLanes {
    static final VectorSpecies<Double> D = VectorSpecies.of(double.class, VectorWidth.SHAPE);
    /** Bytes, one per double lane, for storing comparison masks as BOOL; null when no such shape exists (then masks are stored lane by lane). */
    private static final VectorSpecies<Byte> B = FloatLanes.byteSpecies(D.length());

    private DoubleLanes() {
    }

    /** True when the op has a vector form here. */
    static boolean supports(UnaryOp op) {
        return op != UnaryOp.LOGICAL_NOT;
    }

    /**
     * True when the op's vector form gives exactly its scalar definition's bits: IEEE-exact operations (and, in
     * double, nothing rounded twice). Transcendentals are not: the Vector API's EXP, LOG, POW... (SVML on x86) differ
     * from {@link StrictMath} by an ulp, and from their own fallback used before C2 compiles a loop, so a value
     * would depend on the host, the vector width, its position in the array and the JIT's warm-up. They run the
     * scalar definition instead.
     */
    static boolean isExact(UnaryOp op) {
        return switch (op) {
            case NEG, ABS, SIGN, SQRT, SQUARE, RECIPROCAL, RELU -> true;
            case RSQRT -> true;
            default -> false;
        };
    }

    /** True when the op's vector form gives exactly its scalar definition's bits (all but POW, see above). */
    static boolean isExact(BinaryOp op) {
        return op != BinaryOp.POW;
    }

    /** {@code y[i] = op(x[i])} for {@code i} in {@code [lo, hi)}. */
    static void unary(UnaryOp op, double[] x, double[] y, int lo, int hi) {
        if (op == UnaryOp.EXP) {
            StrictExpLanes.exp(x, y, lo, hi);
            return;
        }
        if (op == UnaryOp.SIGMOID) {
            StrictExpLanes.sigmoid(x, y, lo, hi);
            return;
        }
        int i = lo;
        int bound = isExact(op) ? lo + D.loopBound(hi - lo) : lo;
        int step = D.length();
        // NOTE: one loop per op with its vector form written in it, as in FloatLanes.unary (a loop calling
        // apply(op, v) could run the Vector API's unintrinsified fallback once apply was compiled on its own)
        switch (op) {
            case NEG -> {
                for (; i < bound; i += step) {
                    DoubleVector.fromArray(D, x, i).neg().intoArray(y, i);
                }
            }
            case ABS -> {
                for (; i < bound; i += step) {
                    DoubleVector.fromArray(D, x, i).abs().intoArray(y, i);
                }
            }
            case SIGN -> {
                // Math.signum: ±1, and x itself for ±0 and NaN
                for (; i < bound; i += step) {
                    DoubleVector v = DoubleVector.fromArray(D, x, i);
                    v.blend(1.0, v.compare(VectorOperators.GT, 0.0)).blend(-1.0, v.compare(VectorOperators.LT, 0.0))
                            .intoArray(y, i);
                }
            }
            case SQRT -> {
                for (; i < bound; i += step) {
                    DoubleVector.fromArray(D, x, i).sqrt().intoArray(y, i);
                }
            }
            case RSQRT -> {
                DoubleVector one = DoubleVector.broadcast(D, 1.0);
                for (; i < bound; i += step) {
                    one.div(DoubleVector.fromArray(D, x, i).sqrt()).intoArray(y, i);
                }
            }
            case SQUARE -> {
                for (; i < bound; i += step) {
                    DoubleVector v = DoubleVector.fromArray(D, x, i);
                    v.mul(v).intoArray(y, i);
                }
            }
            case RECIPROCAL -> {
                DoubleVector one = DoubleVector.broadcast(D, 1.0);
                for (; i < bound; i += step) {
                    one.div(DoubleVector.fromArray(D, x, i)).intoArray(y, i);
                }
            }
            case RELU -> {
                // x where x > 0 or x is NaN, else +0: the scalar definition
                DoubleVector zero = DoubleVector.zero(D);
                for (; i < bound; i += step) {
                    DoubleVector v = DoubleVector.fromArray(D, x, i);
                    zero.blend(v, v.compare(VectorOperators.GT, 0.0).or(v.test(VectorOperators.IS_NAN))).intoArray(y, i);
                }
            }
            default -> {
                // no exact vector form: bound == lo, the scalar definition below does every element
            }
        }
        for (; i < hi; i++) {
            y[i] = op.apply(x[i]);
        }
    }

    /**
     * {@code out[o + j] = op(a[ai + j·as], b[bi + j·bs])} for {@code j < len}, each step 0 (broadcast) or 1; for
     * comparisons {@code outBools} receives 0/1 and {@code out} is unused.
     */
    static void row(BinaryOp op, double[] a, int ai, boolean aBroadcast, double[] b, int bi, boolean bBroadcast,
            double[] out, byte[] outBools, int o, int len) {
        if (op.isComparison()) {
            compareRow(op, a, ai, aBroadcast, b, bi, bBroadcast, outBools, o, len);
            return;
        }
        // both splats always exist (element 0 is in range when len > 0) so that no phi mixes a vector with null
        DoubleVector sa = DoubleVector.broadcast(D, a[ai]);
        DoubleVector sb = DoubleVector.broadcast(D, b[bi]);
        int as = aBroadcast ? 0 : 1;
        int bs = bBroadcast ? 0 : 1;
        int j = 0;
        int bound = isExact(op) ? D.loopBound(len) : 0;
        int step = D.length();
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
                DoubleVector zero = DoubleVector.zero(D);
                for (; j < bound; j += step) {
                    DoubleVector x = operand(sa, aBroadcast, a, ai + j);
                    zero.blend(operand(sb, bBroadcast, b, bi + j), x.compare(VectorOperators.GT, 0d))
                            .intoArray(out, o + j);
                }
            }
            default -> {
                // no exact vector form: bound == 0, the scalar definition below does every element
            }
        }
        for (; j < len; j++) {
            out[o + j] = op.apply(a[ai + j * as], b[bi + j * bs]);
        }
    }

    /** A row's operand vector at {@code at}: the splat when it is broadcast. */
    private static DoubleVector operand(DoubleVector splat, boolean broadcast, double[] x, int at) {
        return broadcast ? splat : DoubleVector.fromArray(D, x, at);
    }

    /** {@link #row} of a comparison, one loop per comparison for the reason given there. */
    private static void compareRow(BinaryOp op, double[] a, int ai, boolean aBroadcast, double[] b, int bi,
            boolean bBroadcast, byte[] outBools, int o, int len) {
        DoubleVector sa = DoubleVector.broadcast(D, a[ai]);
        DoubleVector sb = DoubleVector.broadcast(D, b[bi]);
        int j = 0;
        int bound = D.loopBound(len);
        int step = D.length();
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
    static void shortRow(BinaryOp op, double[] a, int ai, boolean aBroadcast, double[] b, int bi,
            boolean bBroadcast, double[] out, int o, int len) {
        VectorMask<Double> m = D.indexInRange(0, len);
        DoubleVector x = aBroadcast ? DoubleVector.broadcast(D, a[ai]) : DoubleVector.fromArray(D, a, ai, m);
        DoubleVector y = bBroadcast ? DoubleVector.broadcast(D, b[bi]) : DoubleVector.fromArray(D, b, bi, m);
        switch (op) {
            case ADD -> x.add(y).intoArray(out, o, m);
            case SUB -> x.sub(y).intoArray(out, o, m);
            case MUL -> x.mul(y).intoArray(out, o, m);
            case DIV -> x.div(y).intoArray(out, o, m);
            case MAXIMUM -> x.max(y).intoArray(out, o, m);
            case MINIMUM -> x.min(y).intoArray(out, o, m);
            case RELU_GRADIENT -> DoubleVector.zero(D).blend(y, x.compare(VectorOperators.GT, 0d)).intoArray(out, o, m);
            default -> throw new IllegalArgumentException(op + " is a comparison or has no exact vector form");
        }
    }

    /** Writes the mask as BOOL bytes 0/1. */
    private static void storeMask(VectorMask<Double> mask, byte[] out, int at) {
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
