package dev.nabla.cpu;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@code tanh} in vector lanes with exactly {@link StrictMath#tanh}'s bits (about 20 ns an element through
 * StrictMath), and the {@code expm1} it is built on with {@link StrictMath#expm1}'s.
 *
 * <p>Exact for the reason {@link StrictExpLanes} is: fdlibm's {@code s_tanh.c} and {@code s_expm1.c} use only
 * operations that round exactly, and each lane performs them with fdlibm's constants in fdlibm's order, never
 * contracted into an FMA, its branches turned into masks.
 * <ul>
 *   <li>tanh(x) is x (1 + x) below 2^-55, ±1 from 22 on, else ±(1 - 2/(expm1(2|x|) + 2)) from 1 on and
 *       ±(-t/(t + 2)) with t = expm1(-2|x|) below 1;</li>
 *   <li>expm1 reduces x = k ln2 + (hi - lo) as exp does (k = ±1 below 1.5 ln2, 0 up to 0.5 ln2), carries the
 *       reduction's rounding error c, evaluates a degree-5 polynomial in x^2/2, and reconstructs by k: six formulas
 *       (k = 0, -1, 1 with x below or above -1/4, k beyond [-1, 56], 2 to 19, 20 to 56), the power of two added to
 *       the exponent field;</li>
 *   <li>|x| below 2^-54 gives x; from 56 ln2 on a negative x gives -1, and past the overflow threshold +inf.</li>
 * </ul>
 * {@code StrictTanhLanesTest} compares every path of both with StrictMath.
 */
final class StrictTanhLanes {
    static final VectorSpecies<Double> D = DoubleLanes.SPECIES;

    // fdlibm s_expm1.c's constants
    private static final double O_THRESHOLD = 0x1.62e42fefa39efp9;
    private static final double LN2_HI = 0x1.62e42feep-1;
    private static final double LN2_LO = 0x1.a39ef35793c76p-33;
    private static final double INV_LN2 = 0x1.71547652b82fep0;
    private static final double Q1 = -0x1.11111111110f4p-5;
    private static final double Q2 = 0x1.a01a019fe5585p-10;
    private static final double Q3 = -0x1.4ce199eaadbb7p-14;
    private static final double Q4 = 0x1.0cfca86e65239p-18;
    private static final double Q5 = -0x1.afdb76e09c32dp-23;
    private static final double ROUNDER = StrictExpLanes.ROUNDER;

    /**
     * Where the algorithms change path, as thresholds on |x|: fdlibm's tests of the high word of |x| against a bound
     * are comparisons of |x| with the double of that high word and a zero low word (see {@link StrictExpLanes}).
     */
    private static final double ABOVE_HALF_LN2 = hiWord(0x3fd6_2e43L);
    private static final double BELOW_THREE_HALVES_LN2 = hiWord(0x3ff0_a2b2L);
    private static final double BELOW_TWO_M54 = hiWord(0x3c90_0000L);
    private static final double FROM_56_LN2 = hiWord(0x4043_687aL);
    private static final double TANH_BELOW_TWO_M55 = hiWord(0x3c80_0000L);
    private static final double TANH_FROM_22 = hiWord(0x4036_0000L);

    private StrictTanhLanes() {
    }

    private static double hiWord(long hi) {
        return Double.longBitsToDouble(hi << 32);
    }

    /** {@code y[i] = StrictMath.tanh(x[i])} for {@code i} in {@code [lo, hi)}. */
    static void tanh(double[] x, double[] y, int lo, int hi) {
        int i = lo;
        if (hi - lo >= VectorSupport.SCALAR_BELOW) {    // short calls: see VectorSupport.SCALAR_BELOW
            lanes(x, y, lo, hi, true);
            i = lo + D.loopBound(hi - lo);
        }
        for (; i < hi; i++) {
            y[i] = StrictMath.tanh(x[i]);
        }
    }

    /** {@code y[i] = StrictMath.expm1(x[i])}: tanh's building block, on its own for its tests. */
    static void expm1(double[] x, double[] y, int lo, int hi) {
        int i = lo;
        if (hi - lo >= VectorSupport.SCALAR_BELOW) {
            lanes(x, y, lo, hi, false);
            i = lo + D.loopBound(hi - lo);
        }
        for (; i < hi; i++) {
            y[i] = StrictMath.expm1(x[i]);
        }
    }

    /**
     * The whole vectors of {@code [lo, hi)}: tanh, or expm1 alone. NOTE: one method with no calls in the loop, as in
     * {@link StrictExpLanes}: a vector crossing a call C2 does not inline becomes a heap object.
     */
    private static void lanes(double[] in, double[] out, int lo, int hi, boolean tanh) {
        DoubleVector one = DoubleVector.broadcast(D, 1.0);
        for (int i = lo, bound = lo + D.loopBound(hi - lo); i < bound; i += D.length()) {
            DoubleVector input = DoubleVector.fromArray(D, in, i);
            DoubleVector absInput = input.abs();
            VectorMask<Double> fromOne = absInput.compare(VectorOperators.GE, 1.0);
            // tanh's argument: expm1(2|x|) from |x| = 1 on, expm1(-2|x|) below
            DoubleVector x = tanh ? absInput.mul(2.0).blend(absInput.mul(-2.0), fromOne.not()) : input;
            DoubleVector ax = x.abs();
            VectorMask<Double> negative = x.compare(VectorOperators.LT, 0.0);

            // argument reduction: t = k = ±1 below 1.5 ln2, else trunc(x/ln2 ± 1/2); none up to 0.5 ln2
            DoubleVector v = x.mul(INV_LN2).add(DoubleVector.broadcast(D, 0.5).blend(-0.5, negative));
            DoubleVector nearest = v.add(ROUNDER).sub(ROUNDER);
            VectorMask<Double> upward = nearest.compare(VectorOperators.GT, v).andNot(negative);
            VectorMask<Double> downward = nearest.compare(VectorOperators.LT, v).and(negative);
            DoubleVector t = nearest.sub(1.0, upward).add(1.0, downward);
            t = t.blend(one.blend(-1.0, negative), ax.compare(VectorOperators.LT, BELOW_THREE_HALVES_LN2));
            VectorMask<Double> reduced = ax.compare(VectorOperators.GE, ABOVE_HALF_LN2);
            t = DoubleVector.zero(D).blend(t, reduced);
            DoubleVector high = x.sub(t.mul(LN2_HI));
            DoubleVector low = t.mul(LN2_LO);
            DoubleVector r = high.sub(low);
            DoubleVector c = high.sub(r).sub(low);
            r = x.blend(r, reduced);
            c = DoubleVector.zero(D).blend(c, reduced);
            LongVector k = t.add(ROUNDER).viewAsIntegralLanes().sub(Double.doubleToRawLongBits(ROUNDER));

            // r in the primary range
            DoubleVector hfx = r.mul(0.5);
            DoubleVector hxs = r.mul(hfx);
            DoubleVector r1 = hxs.mul(hxs.mul(hxs.mul(hxs.mul(hxs.mul(Q5).add(Q4)).add(Q3)).add(Q2)).add(Q1)).add(1.0);
            DoubleVector tt = DoubleVector.broadcast(D, 3.0).sub(r1.mul(hfx));
            DoubleVector e = hxs.mul(r1.sub(tt).div(DoubleVector.broadcast(D, 6.0).sub(r.mul(tt))));
            DoubleVector y = r.sub(r.mul(e).sub(hxs));                              // k == 0
            e = r.mul(e.sub(c)).sub(c).sub(hxs);
            DoubleVector kMinus1 = r.sub(e).mul(0.5).sub(0.5);
            DoubleVector kPlus1 = one.add(r.sub(e).mul(2.0))
                    .blend(e.sub(r.add(0.5)).mul(-2.0), r.compare(VectorOperators.LT, -0.25));
            // 2^-k, for k in [2, 56] (garbage elsewhere, and blended away)
            DoubleVector twoMinusK = LongVector.broadcast(k.species(), 1023L).sub(k)
                    .lanewise(VectorOperators.LSHL, 52).viewAsFloatingLanes();
            DoubleVector unscaledFar = one.sub(e.sub(r));
            DoubleVector unscaledBelow20 = one.sub(twoMinusK).sub(e.sub(r));
            DoubleVector unscaledFrom20 = r.sub(e.add(twoMinusK)).add(1.0);
            VectorMask<Long> far = k.compare(VectorOperators.LE, -2L).or(k.compare(VectorOperators.GT, 56L));
            VectorMask<Long> below20 = k.compare(VectorOperators.LT, 20L);
            DoubleVector unscaled = unscaledFrom20.blend(unscaledBelow20, below20.cast(D))
                    .blend(unscaledFar, far.cast(D));
            DoubleVector scaled = unscaled.viewAsIntegralLanes().add(k.lanewise(VectorOperators.LSHL, 52))
                    .viewAsFloatingLanes();
            DoubleVector big = scaled.sub(1.0, far.cast(D));
            VectorMask<Double> kZero = k.compare(VectorOperators.EQ, 0L).cast(D);
            y = big.blend(kPlus1, k.compare(VectorOperators.EQ, 1L).cast(D))
                    .blend(kMinus1, k.compare(VectorOperators.EQ, -1L).cast(D))
                    .blend(y, kZero);
            y = y.blend(x, ax.compare(VectorOperators.LT, BELOW_TWO_M54));
            VectorMask<Double> large = ax.compare(VectorOperators.GE, FROM_56_LN2);
            if (large.anyTrue() || x.test(VectorOperators.IS_NAN).anyTrue()) {
                // tiny - 1 rounds to -1; huge * huge overflows to +inf; NaN stays NaN (x + x)
                y = y.blend(-1.0, large.and(negative));
                y = y.blend(Double.POSITIVE_INFINITY, x.compare(VectorOperators.GT, O_THRESHOLD));
                y = y.blend(x.add(x), x.test(VectorOperators.IS_NAN));
            }

            if (tanh) {
                // 1 - 2/(t + 2) from |x| = 1 on, -t/(t + 2) below: one division of the chosen numerator
                DoubleVector q = DoubleVector.broadcast(D, 2.0).blend(y.neg(), fromOne.not()).div(y.add(2.0));
                DoubleVector z = one.sub(q).blend(q, fromOne.not());
                // 1 - tiny rounds to 1
                z = z.blend(one, absInput.compare(VectorOperators.GE, TANH_FROM_22));
                // -z where the sign bit is set (fdlibm's jx < 0)
                z = z.blend(z.neg(), input.viewAsIntegralLanes().compare(VectorOperators.LT, 0L).cast(D));
                z = z.blend(input.mul(input.add(1.0)), absInput.compare(VectorOperators.LT, TANH_BELOW_TWO_M55));
                y = z.blend(input.add(input), input.test(VectorOperators.IS_NAN));
            }
            y.intoArray(out, i);
        }
    }
}
