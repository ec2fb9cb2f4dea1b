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
    static final VectorSpecies<Double> D = DoubleLanes.SPECIES;
    private static final VectorSpecies<Long> L = D.withLanes(long.class);

    // fdlibm e_exp.c's constants
    private static final double O_THRESHOLD = 0x1.62e42fefa39efp9;
    private static final double U_THRESHOLD = -0x1.74910d52d3051p9;
    private static final double LN2_HI = 0x1.62e42feep-1;
    private static final double LN2_LO = 0x1.a39ef35793c76p-33;
    private static final double INV_LN2 = 0x1.71547652b82fep0;
    /** The polynomial for e^r (fdlibm's pow uses the same for 2^z: {@link StrictPowLanes}). */
    static final double P1 = 0x1.555555555553ep-3;
    static final double P2 = -0x1.6c16c16bebd93p-9;
    static final double P3 = 0x1.1566aaf25de2cp-14;
    static final double P4 = -0x1.bbd41c5d26bf1p-20;
    static final double P5 = 0x1.6376972bea4d0p-25;
    private static final double TWO_M1000 = 0x1.0p-1000;
    /**
     * Adding and subtracting 1.5·2^52 rounds a double of magnitude below 2^51 to an integer; the sum's low bits hold
     * that integer, and adding an integer below 2^51 to its bits gives the double of the integer plus 1.5·2^52. Every
     * Strict*Lanes class takes its integers so (AVX2 has no double-to-long conversion).
     */
    static final double ROUNDER = 0x1.8p52;

    /**
     * Where fdlibm changes path, as thresholds on |x|: its tests on the high word of |x| ({@code hx > 0x3fd62e42},
     * {@code hx < 0x3ff0a2b2}, {@code hx < 0x3e300000}, {@code hx >= 0x40862e42}) are comparisons of |x| with the
     * double whose high word is that bound and whose low word is 0 (positive doubles order as their bits).
     */
    private static final double ABOVE_HALF_LN2 = Double.longBitsToDouble(0x3fd62e43L << 32);
    private static final double BELOW_THREE_HALVES_LN2 = Double.longBitsToDouble(0x3ff0a2b2L << 32);
    private static final double BELOW_TWO_M28 = Double.longBitsToDouble(0x3e300000L << 32);
    private static final double OVERFLOW_RANGE = Double.longBitsToDouble(0x40862e42L << 32);

    private StrictExpLanes() {
    }

    /** {@code y[i] = StrictMath.exp(x[i])} for {@code i} in {@code [lo, hi)}. */
    static void exp(double[] x, double[] y, int lo, int hi) {
        int i = lo;
        if (hi - lo >= VectorSupport.SCALAR_BELOW) {
            lanes(x, y, lo, hi, false);
            i = lo + D.loopBound(hi - lo);
        }
        for (; i < hi; i++) {
            y[i] = StrictMath.exp(x[i]);
        }
    }

    /** {@code y[i] = UnaryOp.SIGMOID.apply(x[i])} for {@code i} in {@code [lo, hi)}. */
    static void sigmoid(double[] x, double[] y, int lo, int hi) {
        int i = lo;
        if (hi - lo >= VectorSupport.SCALAR_BELOW) {
            lanes(x, y, lo, hi, true);
            i = lo + D.loopBound(hi - lo);
        }
        for (; i < hi; i++) {
            y[i] = dev.nabla.backend.UnaryOp.SIGMOID.apply(x[i]);
        }
    }

    /**
     * The whole vectors of {@code [lo, hi)}: exp, or sigmoid = 1/(1 + e) for x >= 0 and e/(1 + e) otherwise with
     * e = exp(-|x|). NOTE: one method with no calls in the loop: a vector passed to or returned from a method C2 does
     * not inline (this body is past its inlining size) is boxed, which made the lanes as slow as StrictMath itself.
     */
    private static void lanes(double[] in, double[] out, int lo, int hi, boolean sigmoid) {
        DoubleVector one = DoubleVector.broadcast(D, 1.0);
        for (int i = lo, bound = lo + D.loopBound(hi - lo); i < bound; i += D.length()) {
            DoubleVector input = DoubleVector.fromArray(D, in, i);
            DoubleVector x = sigmoid ? input.abs().neg() : input;
            DoubleVector ax = x.abs();
            // the sign only matters where k != 0, so -0 may count as positive
            VectorMask<Double> negative = x.compare(VectorOperators.LT, 0.0);

            // k = trunc(x/ln2 + 1/2 sign(x)) (by rounding to nearest and stepping back toward zero where that went
            // past), or sign(x) below 1.5 ln2, or 0 up to 0.5 ln2
            DoubleVector v = x.mul(INV_LN2).add(DoubleVector.broadcast(D, 0.5).blend(-0.5, negative));
            DoubleVector nearest = v.add(ROUNDER).sub(ROUNDER);
            VectorMask<Double> upward = nearest.compare(VectorOperators.GT, v).andNot(negative);
            VectorMask<Double> downward = nearest.compare(VectorOperators.LT, v).and(negative);
            DoubleVector t = nearest.sub(1.0, upward).add(1.0, downward);
            VectorMask<Double> nearOne = ax.compare(VectorOperators.LT, BELOW_THREE_HALVES_LN2);
            t = t.blend(one.blend(-1.0, negative), nearOne);
            VectorMask<Double> reduced = ax.compare(VectorOperators.GE, ABOVE_HALF_LN2);
            t = DoubleVector.zero(D).blend(t, reduced);

            DoubleVector high = x.sub(t.mul(LN2_HI));
            DoubleVector low = t.mul(LN2_LO);
            DoubleVector r = x.blend(high.sub(low), reduced);

            DoubleVector r2 = r.mul(r);
            DoubleVector poly = r2.mul(P5).add(P4).mul(r2).add(P3).mul(r2).add(P2).mul(r2).add(P1);
            DoubleVector c = r.sub(r2.mul(poly));
            DoubleVector rc = r.mul(c);
            // k == 0: 1 - ((r c)/(c - 2) - r); else 1 - ((lo - (r c)/(2 - c)) - hi), scaled by 2^k. One division
            // serves both: rounding is symmetric, so c - 2 = -(2 - c) and (r c)/(c - 2) = -q exactly
            DoubleVector q = rc.div(DoubleVector.broadcast(D, 2.0).sub(c));
            DoubleVector unscaled = one.sub(q.neg().sub(r));
            DoubleVector y = one.sub(low.sub(q).sub(high));
            LongVector k = t.add(ROUNDER).viewAsIntegralLanes().sub(Double.doubleToRawLongBits(ROUNDER));
            LongVector yBits = y.viewAsIntegralLanes();
            DoubleVector scaled = yBits.add(k.lanewise(VectorOperators.LSHL, 52)).viewAsFloatingLanes();
            VectorMask<Double> deep = k.compare(VectorOperators.LT, -1021L).cast(D);
            if (deep.anyTrue()) {
                scaled = scaled.blend(yBits.add(k.add(1000).lanewise(VectorOperators.LSHL, 52)).viewAsFloatingLanes()
                        .mul(TWO_M1000), deep);
            }
            DoubleVector e = unscaled.blend(scaled, reduced);

            e = e.blend(x.add(1.0), ax.compare(VectorOperators.LT, BELOW_TWO_M28));
            if (ax.compare(VectorOperators.LT, OVERFLOW_RANGE).not().anyTrue()) {   // NaN included
                e = e.blend(Double.POSITIVE_INFINITY, x.compare(VectorOperators.GT, O_THRESHOLD));
                e = e.blend(0.0, x.compare(VectorOperators.LT, U_THRESHOLD));
                // NaN stays NaN (x + x); exp(+inf) = +inf by the overflow blend, exp(-inf) = 0 by the underflow one
                e = e.blend(x.add(x), x.test(VectorOperators.IS_NAN));
            }
            if (sigmoid) {
                // 1/(1 + e) or e/(1 + e): one division of the chosen numerator
                e = one.blend(e, input.compare(VectorOperators.GE, 0.0).not()).div(e.add(1.0));
            }
            e.intoArray(out, i);
        }
    }
}
