package dev.nabla.cpu;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@code exp}, and the {@code sigmoid} built on it, in vector lanes with exactly {@link StrictMath#exp}'s bits, so
 * that EXP and SIGMOID keep their scalar definitions (see {@code UnaryOp}) and still run at vector speed.
 *
 * <p>How it can be exact: {@code StrictMath.exp} is specified as fdlibm's {@code e_exp.c}, and that algorithm uses
 * only IEEE operations that round exactly (add, subtract, multiply, divide, truncation, exponent-field arithmetic).
 * Each lane performs those operations, with fdlibm's published constants, in fdlibm's order, and never contracts a
 * multiply-add into an FMA; branches become masks. The range split is:
 * <ul>
 *   <li>|x| > 0.5 ln2: x = k ln2 + r with k = trunc(x/ln2 ± 1/2) (±1 below 1.5 ln2, where fdlibm fixes it), ln2
 *       split in a high part whose product with k is exact and a low part;</li>
 *   <li>|x| < 2^-28: 1 + x;</li>
 *   <li>otherwise k = 0 and r = x;</li>
 * </ul>
 * then a degree-5 minimax polynomial for {@code r (e^r + 1)/(e^r - 1)} gives e^r, scaled by 2^k through the exponent
 * field (with a 2^-1000 detour where 2^k alone would be subnormal); NaN, infinities and the overflow and underflow
 * thresholds are blended in last. {@code StrictExpLanesTest} compares every path with {@code StrictMath.exp}.
 *
 * <p>Truncation uses the 1.5·2^52 rounding trick instead of a double-to-long conversion, which AVX2 lacks.
 */
final class StrictExpLanes {
    static final VectorSpecies<Double> D = DoubleLanes.D;
    private static final VectorSpecies<Long> L = D.withLanes(long.class);

    // fdlibm e_exp.c's constants
    private static final double O_THRESHOLD = 0x1.62e42fefa39efp9;
    private static final double U_THRESHOLD = -0x1.74910d52d3051p9;
    private static final double LN2_HI = 0x1.62e42feep-1;
    private static final double LN2_LO = 0x1.a39ef35793c76p-33;
    private static final double INV_LN2 = 0x1.71547652b82fep0;
    private static final double P1 = 0x1.555555555553ep-3;
    private static final double P2 = -0x1.6c16c16bebd93p-9;
    private static final double P3 = 0x1.1566aaf25de2cp-14;
    private static final double P4 = -0x1.bbd41c5d26bf1p-20;
    private static final double P5 = 0x1.6376972bea4d0p-25;
    private static final double TWO_M1000 = 0x1.0p-1000;
    /** Adding and subtracting 1.5·2^52 rounds a double of magnitude below 2^51 to an integer. */
    private static final double ROUNDER = 0x1.8p52;

    /** High words of |x| where fdlibm changes path. */
    private static final long HI_HALF_LN2 = 0x3fd62e42L;
    private static final long HI_THREE_HALVES_LN2 = 0x3ff0a2b2L;
    private static final long HI_TWO_M28 = 0x3e300000L;
    private static final long HI_OVERFLOW_RANGE = 0x40862e42L;
    private static final long HI_NOT_FINITE = 0x7ff00000L;

    private StrictExpLanes() {
    }

    /** {@code y[i] = StrictMath.exp(x[i])} for {@code i} in {@code [lo, hi)}. */
    static void exp(double[] x, double[] y, int lo, int hi) {
        int i = lo;
        for (int bound = lo + D.loopBound(hi - lo); i < bound; i += D.length()) {
            exp(DoubleVector.fromArray(D, x, i)).intoArray(y, i);
        }
        for (; i < hi; i++) {
            y[i] = StrictMath.exp(x[i]);
        }
    }

    /** {@code y[i] = UnaryOp.SIGMOID.apply(x[i])} for {@code i} in {@code [lo, hi)}. */
    static void sigmoid(double[] x, double[] y, int lo, int hi) {
        int i = lo;
        for (int bound = lo + D.loopBound(hi - lo); i < bound; i += D.length()) {
            sigmoid(DoubleVector.fromArray(D, x, i)).intoArray(y, i);
        }
        for (; i < hi; i++) {
            y[i] = dev.nabla.backend.UnaryOp.SIGMOID.apply(x[i]);
        }
    }

    /** {@code StrictMath.exp} of every lane. */
    static DoubleVector exp(DoubleVector x) {
        LongVector bits = x.viewAsIntegralLanes();
        LongVector hx = bits.lanewise(VectorOperators.LSHR, 32).and(0x7fffffffL);
        VectorMask<Double> negative = bits.compare(VectorOperators.LT, 0L).cast(D);

        // k = trunc(x/ln2 + 1/2 sign(x)), or sign(x) below 1.5 ln2, or 0 up to 0.5 ln2
        DoubleVector v = x.mul(INV_LN2).add(DoubleVector.broadcast(D, 0.5).blend(-0.5, negative));
        DoubleVector t = truncate(v);
        VectorMask<Double> nearOne = hx.compare(VectorOperators.LT, HI_THREE_HALVES_LN2).cast(D);
        t = t.blend(DoubleVector.broadcast(D, 1.0).blend(-1.0, negative), nearOne);
        VectorMask<Double> reduced = hx.compare(VectorOperators.GT, HI_HALF_LN2).cast(D);
        t = DoubleVector.zero(D).blend(t, reduced);

        DoubleVector high = x.sub(t.mul(LN2_HI));
        DoubleVector low = t.mul(LN2_LO);
        DoubleVector r = x.blend(high.sub(low), reduced);

        DoubleVector r2 = r.mul(r);
        DoubleVector poly = r2.mul(P5).add(P4).mul(r2).add(P3).mul(r2).add(P2).mul(r2).add(P1);
        DoubleVector c = r.sub(r2.mul(poly));
        DoubleVector rc = r.mul(c);
        // k == 0: 1 - ((r c)/(c - 2) - r); else 1 - ((lo - (r c)/(2 - c)) - hi), scaled by 2^k
        DoubleVector unscaled = DoubleVector.broadcast(D, 1.0).sub(rc.div(c.sub(2.0)).sub(r));
        DoubleVector y = DoubleVector.broadcast(D, 1.0).sub(low.sub(rc.div(DoubleVector.broadcast(D, 2.0).sub(c)))
                .sub(high));
        LongVector k = t.add(ROUNDER).viewAsIntegralLanes().sub(Double.doubleToRawLongBits(ROUNDER));
        LongVector yBits = y.viewAsIntegralLanes();
        DoubleVector scaled = yBits.add(k.lanewise(VectorOperators.LSHL, 52)).viewAsFloatingLanes();
        DoubleVector deep = yBits.add(k.add(1000).lanewise(VectorOperators.LSHL, 52)).viewAsFloatingLanes()
                .mul(TWO_M1000);
        scaled = scaled.blend(deep, k.compare(VectorOperators.LT, -1021L).cast(D));
        DoubleVector result = unscaled.blend(scaled, reduced);

        result = result.blend(x.add(1.0), hx.compare(VectorOperators.LT, HI_TWO_M28).cast(D));
        if (hx.compare(VectorOperators.GE, HI_OVERFLOW_RANGE).anyTrue()) {
            result = result.blend(Double.POSITIVE_INFINITY, x.compare(VectorOperators.GT, O_THRESHOLD));
            result = result.blend(0.0, x.compare(VectorOperators.LT, U_THRESHOLD));
            // NaN stays NaN (x + x); exp(+inf) = +inf by the overflow blend, exp(-inf) = 0 by the underflow one
            result = result.blend(x.add(x), x.test(VectorOperators.IS_NAN));
        }
        return result;
    }

    /** {@code UnaryOp.SIGMOID}: 1/(1 + e) for x >= 0 and e/(1 + e) otherwise, with e = exp(-|x|). */
    static DoubleVector sigmoid(DoubleVector x) {
        DoubleVector e = exp(x.abs().neg());
        DoubleVector denominator = e.add(1.0);
        DoubleVector positive = DoubleVector.broadcast(D, 1.0).div(denominator);
        return positive.blend(e.div(denominator), x.compare(VectorOperators.GE, 0.0).not());
    }

    /** Truncation toward zero of doubles below 2^51 in magnitude (larger ones are already integers or not used). */
    private static DoubleVector truncate(DoubleVector v) {
        DoubleVector nearest = v.add(ROUNDER).sub(ROUNDER);
        // round-to-nearest may have gone one past v, away from zero: step back toward zero
        VectorMask<Double> overshotUp = nearest.compare(VectorOperators.GT, v).and(v.compare(VectorOperators.GE, 0.0));
        VectorMask<Double> overshotDown = nearest.compare(VectorOperators.LT, v).and(v.compare(VectorOperators.LT, 0.0));
        return nearest.sub(1.0, overshotUp).add(1.0, overshotDown);
    }
}
