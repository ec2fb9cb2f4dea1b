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
    static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
    /** Bytes, one per double lane, for storing comparison masks as BOOL; null when no such shape exists (then masks are stored lane by lane). */
    private static final VectorSpecies<Byte> B = FloatLanes.byteSpecies(D.length());

    private DoubleLanes() {
    }

    /** True when the op has a vector form here. */
    static boolean supports(UnaryOp op) {
        return op != UnaryOp.LOGICAL_NOT;
    }

    /** {@code y[i] = op(x[i])} for {@code i} in {@code [lo, hi)}. */
    static void unary(UnaryOp op, double[] x, double[] y, int lo, int hi) {
        int i = lo;
        int bound = lo + D.loopBound(hi - lo);
        for (; i < bound; i += D.length()) {
            apply(op, DoubleVector.fromArray(D, x, i)).intoArray(y, i);
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
        // both splats always exist (element 0 is in range when len > 0) so that no phi mixes a vector with null
        DoubleVector sa = DoubleVector.broadcast(D, a[ai]);
        DoubleVector sb = DoubleVector.broadcast(D, b[bi]);
        int as = aBroadcast ? 0 : 1;
        int bs = bBroadcast ? 0 : 1;
        int j = 0;
        int bound = D.loopBound(len);
        if (op.isComparison()) {
            for (; j < bound; j += D.length()) {
                DoubleVector x = aBroadcast ? sa : DoubleVector.fromArray(D, a, ai + j);
                DoubleVector y = bBroadcast ? sb : DoubleVector.fromArray(D, b, bi + j);
                storeMask(compare(op, x, y), outBools, o + j);
            }
            for (; j < len; j++) {
                outBools[o + j] = (byte) op.apply(a[ai + j * as], b[bi + j * bs]);
            }
            return;
        }
        for (; j < bound; j += D.length()) {
            DoubleVector x = aBroadcast ? sa : DoubleVector.fromArray(D, a, ai + j);
            DoubleVector y = bBroadcast ? sb : DoubleVector.fromArray(D, b, bi + j);
            apply(op, x, y).intoArray(out, o + j);
        }
        for (; j < len; j++) {
            out[o + j] = op.apply(a[ai + j * as], b[bi + j * bs]);
        }
    }

    static DoubleVector apply(UnaryOp op, DoubleVector x) {
        return switch (op) {
            case NEG -> x.neg();
            case ABS -> x.abs();
            case SIGN -> sign(x);
            case EXP -> x.lanewise(VectorOperators.EXP);
            case LOG -> x.lanewise(VectorOperators.LOG);
            case SQRT -> x.sqrt();
            case RSQRT -> DoubleVector.broadcast(D, 1.0).div(x.sqrt());
            case SQUARE -> x.mul(x);
            case RECIPROCAL -> DoubleVector.broadcast(D, 1.0).div(x);
            case SIN -> x.lanewise(VectorOperators.SIN);
            case COS -> x.lanewise(VectorOperators.COS);
            case TANH -> x.lanewise(VectorOperators.TANH);
            case SIGMOID -> sigmoid(x);
            // x > 0 ? x : 0·x, as the scalar definition (so relu(-3) = -0 and relu(NaN) = NaN)
            case RELU -> x.mul(0.0).blend(x, x.compare(VectorOperators.GT, 0.0));
            case STEP -> DoubleVector.zero(D).blend(1.0, x.compare(VectorOperators.GT, 0.0));
            case LOGICAL_NOT -> throw new IllegalArgumentException("logical_not is not a float op");
        };
    }

    /** Math.signum: ±1, and x itself for ±0 and NaN. */
    private static DoubleVector sign(DoubleVector x) {
        return x.blend(1.0, x.compare(VectorOperators.GT, 0.0)).blend(-1.0, x.compare(VectorOperators.LT, 0.0));
    }

    /** NOTE: exp is only taken of -|x|, so neither branch overflows (as UnaryOp.SIGMOID). */
    private static DoubleVector sigmoid(DoubleVector x) {
        DoubleVector e = x.abs().neg().lanewise(VectorOperators.EXP);
        DoubleVector denominator = e.add(1.0);
        DoubleVector positive = DoubleVector.broadcast(D, 1.0).div(denominator);
        return positive.blend(e.div(denominator), x.compare(VectorOperators.LT, 0.0));
    }

    static DoubleVector apply(BinaryOp op, DoubleVector x, DoubleVector y) {
        return switch (op) {
            case ADD -> x.add(y);
            case SUB -> x.sub(y);
            case MUL -> x.mul(y);
            case DIV -> x.div(y);
            case POW -> x.lanewise(VectorOperators.POW, y);
            case MAXIMUM -> x.max(y);
            case MINIMUM -> x.min(y);
            default -> throw new IllegalArgumentException(op + " is a comparison");
        };
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

    static VectorMask<Double> compare(BinaryOp op, DoubleVector x, DoubleVector y) {
        return switch (op) {
            case EQ -> x.compare(VectorOperators.EQ, y);
            case NE -> x.compare(VectorOperators.NE, y);
            case LT -> x.compare(VectorOperators.LT, y);
            case LE -> x.compare(VectorOperators.LE, y);
            case GT -> x.compare(VectorOperators.GT, y);
            case GE -> x.compare(VectorOperators.GE, y);
            default -> throw new IllegalArgumentException(op + " is not a comparison");
        };
    }
}
