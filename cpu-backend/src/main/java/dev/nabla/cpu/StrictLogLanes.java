package dev.nabla.cpu;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@code log} in vector lanes with exactly {@link StrictMath#log}'s bits, so that LOG keeps its scalar definition
 * (see {@code UnaryOp}) and runs at vector speed: about 14 ns an element through StrictMath, for float32 and
 * float64 alike, where the lanes take about a tenth of that.
 *
 * <p>It is exact for the reason {@link StrictExpLanes} is: {@code StrictMath.log} is fdlibm's {@code e_log.c}, whose
 * operations all round exactly, and each lane performs them with fdlibm's constants in fdlibm's order, never
 * contracted into an FMA; its branches become masks. The algorithm:
 * <ul>
 *   <li>a subnormal x is scaled by 2^54 first (k starts at -54);</li>
 *   <li>x = 2^k (1 + f) with 1 + f in [sqrt(2)/2, sqrt(2)), by rewriting the exponent field;</li>
 *   <li>|f| < 2^-20: log(1 + f) = f - f^2 (1/2 - f/3), or k ln2 alone where f = 0;</li>
 *   <li>otherwise s = f/(2 + f) and a degree-14 even polynomial R(s) give log(1 + f) = f - s (f - R), or, where 1 + f
 *       is near sqrt(2) (fdlibm's {@code i > 0}), f - (f^2/2 - s (f^2/2 + R));</li>
 *   <li>k ln2 is added in two parts (ln2 split in a high part whose product with k is exact and a low part);</li>
 *   <li>zeros give -inf, negative numbers NaN, +inf and NaN themselves (x + x): blended in last.</li>
 * </ul>
 * {@code StrictLogLanesTest} compares every path with {@code StrictMath.log}.
 */
final class StrictLogLanes {
    static final VectorSpecies<Double> D = DoubleLanes.SPECIES;
    private static final VectorSpecies<Long> L = D.withLanes(long.class);

    // fdlibm e_log.c's constants
    private static final double LN2_HI = 0x1.62e42feep-1;
    private static final double LN2_LO = 0x1.a39ef35793c76p-33;
    private static final double LG1 = 0x1.5555555555593p-1;
    private static final double LG2 = 0x1.999999997fa04p-2;
    private static final double LG3 = 0x1.2492494229359p-2;
    private static final double LG4 = 0x1.c71c51d8e78afp-3;
    private static final double LG5 = 0x1.7466496cb03dep-3;
    private static final double LG6 = 0x1.39a09d078c69fp-3;
    private static final double LG7 = 0x1.2f112df3e5244p-3;
    private static final double TWO54 = 0x1.0p54;
    private static final double ROUNDER = StrictExpLanes.ROUNDER;
    private static final long LOW_WORD = 0xffff_ffffL;

    private StrictLogLanes() {
    }

    /** {@code y[i] = StrictMath.log(x[i])} for {@code i} in {@code [lo, hi)}. */
    static void log(double[] x, double[] y, int lo, int hi) {
        int i = lo;
        if (hi - lo >= VectorSupport.SCALAR_BELOW) {    // short calls: see VectorSupport.SCALAR_BELOW
            lanes(x, y, lo, hi);
            i = lo + D.loopBound(hi - lo);
        }
        for (; i < hi; i++) {
            y[i] = StrictMath.log(x[i]);
        }
    }

    /**
     * The whole vectors of {@code [lo, hi)}. NOTE: one method with no calls in the loop, as in
     * {@link StrictExpLanes}: a vector crossing a call C2 does not inline becomes a heap object.
     */
    private static void lanes(double[] in, double[] out, int lo, int hi) {
        for (int i = lo, bound = lo + D.loopBound(hi - lo); i < bound; i += D.length()) {
            DoubleVector input = DoubleVector.fromArray(D, in, i);
            // fdlibm's hx < 0x00100000 for a positive x: a subnormal, scaled into the normal range
            VectorMask<Double> subnormal = input.compare(VectorOperators.GT, 0.0)
                    .and(input.compare(VectorOperators.LT, Double.MIN_NORMAL));
            DoubleVector x = input.blend(input.mul(TWO54), subnormal);
            LongVector bits = x.viewAsIntegralLanes();
            LongVector hx = bits.lanewise(VectorOperators.LSHR, 32).and(0x000f_ffffL);
            // k = the unbiased exponent (-54 for a scaled subnormal), plus one where the mantissa is past sqrt(2),
            // where x is halved instead
            LongVector k = bits.lanewise(VectorOperators.LSHR, 52).and(0x7ffL).sub(1023L)
                    .sub(LongVector.zero(L).blend(54L, subnormal.cast(L)));
            LongVector half = hx.add(0x9_5f64L).and(0x10_0000L);
            k = k.add(half.lanewise(VectorOperators.LSHR, 20));
            LongVector normalizedHigh = hx.or(half.lanewise(VectorOperators.XOR, 0x3ff0_0000L));
            DoubleVector normalized = normalizedHigh.lanewise(VectorOperators.LSHL, 32).or(bits.and(LOW_WORD))
                    .viewAsFloatingLanes();
            DoubleVector f = normalized.sub(1.0);
            DoubleVector dk = k.add(Double.doubleToRawLongBits(ROUNDER)).viewAsFloatingLanes().sub(ROUNDER);
            VectorMask<Double> kZero = k.compare(VectorOperators.EQ, 0L).cast(D);
            DoubleVector dkHi = dk.mul(LN2_HI);
            DoubleVector dkLo = dk.mul(LN2_LO);

            // |f| < 2^-20
            DoubleVector rSmall = f.mul(f).mul(DoubleVector.broadcast(D, 0.5).sub(f.mul(0.33333333333333333)));
            DoubleVector small = f.sub(rSmall).blend(dkHi.sub(rSmall.sub(dkLo).sub(f)), kZero.not());
            small = small.blend(dkHi.add(dkLo), f.compare(VectorOperators.EQ, 0.0));

            DoubleVector s = f.div(f.add(2.0));
            DoubleVector z = s.mul(s);
            DoubleVector w = z.mul(z);
            DoubleVector t1 = w.mul(w.mul(w.mul(LG6).add(LG4)).add(LG2));
            DoubleVector t2 = z.mul(w.mul(w.mul(w.mul(LG7).add(LG5)).add(LG3)).add(LG1));
            DoubleVector r = t2.add(t1);
            DoubleVector hfsq = f.mul(0.5).mul(f);
            DoubleVector shr = s.mul(hfsq.add(r));
            DoubleVector nearRoot2 = f.sub(hfsq.sub(shr)).blend(dkHi.sub(hfsq.sub(shr.add(dkLo)).sub(f)), kZero.not());
            DoubleVector sfr = s.mul(f.sub(r));
            DoubleVector general = f.sub(sfr).blend(dkHi.sub(sfr.sub(dkLo).sub(f)), kZero.not());
            // fdlibm's i = (hx - 0x6147a) | (0x6b851 - hx) > 0: hx in [0x6147a, 0x6b851]
            VectorMask<Double> useHfsq = hx.compare(VectorOperators.GE, 0x6_147aL)
                    .and(hx.compare(VectorOperators.LE, 0x6_b851L)).cast(D);
            DoubleVector y = general.blend(nearRoot2, useHfsq);
            // fdlibm's (0x000fffff & (2 + hx)) < 3
            VectorMask<Double> tiny = hx.add(2L).and(0x000f_ffffL).compare(VectorOperators.LT, 3L).cast(D);
            y = y.blend(small, tiny);

            if (input.compare(VectorOperators.GT, 0.0).and(input.compare(VectorOperators.LT,
                    Double.POSITIVE_INFINITY)).not().anyTrue()) {
                // log(+inf) = +inf and NaN stays NaN (x + x); log(±0) = -inf; log(negative) = NaN
                y = y.blend(input.add(input), input.compare(VectorOperators.GE, Double.POSITIVE_INFINITY)
                        .or(input.test(VectorOperators.IS_NAN)));
                y = y.blend(Double.NEGATIVE_INFINITY, input.compare(VectorOperators.EQ, 0.0));
                y = y.blend(Double.NaN, input.compare(VectorOperators.LT, 0.0));
            }
            y.intoArray(out, i);
        }
    }
}
