package dev.nabla.cpu;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@code sin} and {@code cos} in vector lanes with exactly {@link StrictMath#sin}'s and {@link StrictMath#cos}'s
 * bits (about 20 ns an element through StrictMath).
 *
 * <p>Exact for the reason {@link StrictExpLanes} is: fdlibm's {@code s_sin.c}, {@code s_cos.c}, {@code k_sin.c},
 * {@code k_cos.c} and {@code e_rem_pio2.c} use only operations that round exactly, and each lane performs them with
 * fdlibm's constants in fdlibm's order, never contracted into an FMA, its branches turned into masks:
 * <ul>
 *   <li>up to pi/4 the kernels take x itself;</li>
 *   <li>below 3pi/4, x - pi/2 with pi/2 in two parts (three next to pi/2);</li>
 *   <li>up to 2^19 pi/2, x - n pi/2 with n = trunc(|x| 2/pi + 1/2) and pi/2 in two parts, a second and a third
 *       round where the first cancelled more than 16 and then 49 bits (fdlibm's exponent tests), except where its
 *       quick check (n < 32, x's high word not that of n pi/2) skips them;</li>
 *   <li>the remainder as a head and a tail goes to the sine or cosine polynomial kernel by n mod 4;</li>
 *   <li>a larger |x| (Payne-Hanek reduction), infinities and NaN: StrictMath itself, lane by lane.</li>
 * </ul>
 * {@code StrictSinCosLanesTest} compares every path with StrictMath.
 */
final class StrictSinCosLanes {
    static final VectorSpecies<Double> D = DoubleLanes.SPECIES;

    // fdlibm e_rem_pio2.c's constants
    private static final double INV_PIO2 = 0x1.45f306dc9c883p-1;
    private static final double PIO2_1 = 0x1.921fb544p0;
    private static final double PIO2_1T = 0x1.0b4611a626331p-34;
    private static final double PIO2_2 = 0x1.0b4611a6p-34;
    private static final double PIO2_2T = 0x1.3198a2e037073p-69;
    private static final double PIO2_3 = 0x1.3198a2ep-69;
    private static final double PIO2_3T = 0x1.b839a252049c1p-104;
    // k_sin.c's
    private static final double S1 = -0x1.5555555555549p-3;
    private static final double S2 = 0x1.111111110f8a6p-7;
    private static final double S3 = -0x1.a01a019c161d5p-13;
    private static final double S4 = 0x1.71de357b1fe7dp-19;
    private static final double S5 = -0x1.ae5e68a2b9cebp-26;
    private static final double S6 = 0x1.5d93a5acfd57cp-33;
    // k_cos.c's
    private static final double C1 = 0x1.555555555554cp-5;
    private static final double C2 = -0x1.6c16c16c15177p-10;
    private static final double C3 = 0x1.a01a019cb159p-16;
    private static final double C4 = -0x1.27e4f809c52adp-22;
    private static final double C5 = 0x1.1ee9ebdb4b1c4p-29;
    private static final double C6 = -0x1.8fae9be8838d4p-37;
    private static final double ROUNDER = StrictExpLanes.ROUNDER;

    // fdlibm's bounds on the high word of |x| (or of the reduced x, in the kernels)
    private static final long QUARTER_PI = 0x3fe9_21fbL;
    private static final long THREE_QUARTERS_PI = 0x4002_d97cL;
    private static final long HALF_PI = 0x3ff9_21fbL;
    private static final long MEDIUM = 0x4139_21fbL;
    private static final long TINY = 0x3e40_0000L;
    private static final long COS_BELOW_0_3 = 0x3fd3_3333L;
    private static final long COS_ABOVE_0_78125 = 0x3fe9_0000L;
    /** |x| at or below which the lanes reduce x themselves: the largest double of high word {@link #MEDIUM}. */
    private static final double MEDIUM_LIMIT = Double.longBitsToDouble((MEDIUM << 32) | 0xffff_ffffL);

    private StrictSinCosLanes() {
    }

    /** {@code y[i] = StrictMath.sin(x[i])} for {@code i} in {@code [lo, hi)}. */
    static void sin(double[] x, double[] y, int lo, int hi) {
        run(x, y, lo, hi, false);
    }

    /** {@code y[i] = StrictMath.cos(x[i])} for {@code i} in {@code [lo, hi)}. */
    static void cos(double[] x, double[] y, int lo, int hi) {
        run(x, y, lo, hi, true);
    }

    private static void run(double[] x, double[] y, int lo, int hi, boolean cosine) {
        int i = lo;
        if (hi - lo >= VectorSupport.SCALAR_BELOW) {    // short calls: see VectorSupport.SCALAR_BELOW
            lanes(x, y, lo, hi, cosine);
            i = lo + D.loopBound(hi - lo);
        }
        for (; i < hi; i++) {
            y[i] = scalar(x[i], cosine);
        }
    }

    private static double scalar(double x, boolean cosine) {
        return cosine ? StrictMath.cos(x) : StrictMath.sin(x);
    }

    /**
     * The whole vectors of {@code [lo, hi)}. NOTE: one method with no vector crossing a call in the loop, as in
     * {@link StrictExpLanes}: a vector passed to a method C2 does not inline becomes a heap object. (A double's
     * high word is {@code bits >>> 32}.)
     */
    private static void lanes(double[] in, double[] out, int lo, int hi, boolean cosine) {
        DoubleVector one = DoubleVector.broadcast(D, 1.0);
        DoubleVector zero = DoubleVector.zero(D);
        double[] inputs = new double[D.length()];
        for (int i = lo, bound = lo + D.loopBound(hi - lo); i < bound; i += D.length()) {
            DoubleVector x = DoubleVector.fromArray(D, in, i);
            DoubleVector t = x.abs();
            LongVector ix = t.viewAsIntegralLanes().lanewise(VectorOperators.LSHR, 32);
            VectorMask<Double> small = ix.compare(VectorOperators.LE, QUARTER_PI).cast(D);
            VectorMask<Double> nearHalfPi = ix.compare(VectorOperators.LT, THREE_QUARTERS_PI).cast(D);

            // below 3pi/4: n = 1, pi/2 in two parts, or three where x's high word is pi/2's
            VectorMask<Double> atHalfPi = ix.compare(VectorOperators.EQ, HALF_PI).cast(D);
            DoubleVector z = t.sub(PIO2_1);
            DoubleVector z2 = z.sub(PIO2_2);
            DoubleVector nearHead = z.sub(PIO2_1T).blend(z2.sub(PIO2_2T), atHalfPi);
            DoubleVector nearTail = z.sub(nearHead).sub(PIO2_1T).blend(z2.sub(nearHead).sub(PIO2_2T), atHalfPi);

            // up to 2^19 pi/2: n = trunc(t 2/pi + 1/2), rounds of 33 + 53, 66 + 53 and 99 + 53 bits of pi/2
            DoubleVector v = t.mul(INV_PIO2).add(0.5);
            DoubleVector fn = v.add(ROUNDER).sub(ROUNDER);
            fn = fn.sub(1.0, fn.compare(VectorOperators.GT, v));
            DoubleVector r = t.sub(fn.mul(PIO2_1));
            DoubleVector w = fn.mul(PIO2_1T);
            DoubleVector head = r.sub(w);
            // fdlibm's quick check: n < 32 and x's high word not that of n pi/2 (which n pi/2's first part gives:
            // StrictSinCosLanesTest compares it with fdlibm's table)
            LongVector multipleHigh = fn.mul(PIO2_1).viewAsIntegralLanes().lanewise(VectorOperators.LSHR, 32);
            VectorMask<Double> quick = fn.compare(VectorOperators.LT, 32.0)
                    .and(ix.compare(VectorOperators.NE, multipleHigh).cast(D));
            // fdlibm's i = j - exponent(head): the bits the first round cancelled
            LongVector j = ix.lanewise(VectorOperators.LSHR, 20);
            LongVector cancelled = j.sub(head.viewAsIntegralLanes().lanewise(VectorOperators.LSHR, 52).and(0x7ffL));
            VectorMask<Double> second = cancelled.compare(VectorOperators.GT, 16L).cast(D).andNot(quick);
            if (second.anyTrue()) {
                DoubleVector w2 = fn.mul(PIO2_2);
                DoubleVector r2 = r.sub(w2);
                w2 = fn.mul(PIO2_2T).sub(r.sub(r2).sub(w2));
                DoubleVector head2 = r2.sub(w2);
                LongVector cancelled2 = j.sub(head2.viewAsIntegralLanes().lanewise(VectorOperators.LSHR, 52)
                        .and(0x7ffL));
                VectorMask<Double> third = cancelled2.compare(VectorOperators.GT, 49L).cast(D).and(second);
                DoubleVector w3 = fn.mul(PIO2_3);
                DoubleVector r3 = r2.sub(w3);
                w3 = fn.mul(PIO2_3T).sub(r2.sub(r3).sub(w3));
                r = r.blend(r2, second).blend(r3, third);
                w = w.blend(w2, second).blend(w3, third);
                head = head.blend(head2, second).blend(r3.sub(w3), third);
            }
            DoubleVector tail = r.sub(head).sub(w);

            head = head.blend(nearHead, nearHalfPi);
            tail = tail.blend(nearTail, nearHalfPi);
            fn = fn.blend(one, nearHalfPi);
            // a negative x: the reduction of |x| negated, n too
            VectorMask<Double> negative = x.viewAsIntegralLanes().compare(VectorOperators.LT, 0L).cast(D);
            head = head.blend(head.neg(), negative).blend(x, small);
            tail = tail.blend(tail.neg(), negative).blend(zero, small);
            LongVector n = fn.add(ROUNDER).viewAsIntegralLanes().sub(Double.doubleToRawLongBits(ROUNDER));
            n = n.blend(n.neg(), negative.cast(n.species())).blend(0L, small.cast(n.species()));

            // the kernels on head + tail
            LongVector hx = head.abs().viewAsIntegralLanes().lanewise(VectorOperators.LSHR, 32);
            VectorMask<Double> tiny = hx.compare(VectorOperators.LT, TINY).cast(D);
            DoubleVector zz = head.mul(head);
            DoubleVector vv = zz.mul(head);
            DoubleVector sr = zz.mul(zz.mul(zz.mul(zz.mul(S6).add(S5)).add(S4)).add(S3)).add(S2);
            DoubleVector sine = head.sub(zz.mul(tail.mul(0.5).sub(vv.mul(sr))).sub(tail).sub(vv.mul(S1)));
            // up to pi/4, fdlibm calls the sine kernel without a tail, by its other formula
            sine = sine.blend(head.add(vv.mul(zz.mul(sr).add(S1))), small).blend(head, tiny);
            DoubleVector cr = zz.mul(zz.mul(zz.mul(zz.mul(zz.mul(zz.mul(C6).add(C5)).add(C4)).add(C3)).add(C2))
                    .add(C1));
            DoubleVector zrxy = zz.mul(cr).sub(head.mul(tail));
            DoubleVector qx = hx.sub(0x0020_0000L).lanewise(VectorOperators.LSHL, 32).viewAsFloatingLanes()
                    .blend(0.28125, hx.compare(VectorOperators.GT, COS_ABOVE_0_78125).cast(D));
            DoubleVector cosineValue = one.sub(qx).sub(zz.mul(0.5).sub(qx).sub(zrxy))
                    .blend(one.sub(zz.mul(0.5).sub(zrxy)), hx.compare(VectorOperators.LT, COS_BELOW_0_3).cast(D))
                    .blend(one, tiny);

            // by n mod 4: sin is sine, cosine, -sine, -cosine; cos is cosine, -sine, -cosine, sine
            LongVector quadrant = n.add(cosine ? 1L : 0L).and(3L);
            VectorMask<Double> odd = quadrant.and(1L).compare(VectorOperators.NE, 0L).cast(D);
            VectorMask<Double> flip = quadrant.compare(VectorOperators.GE, 2L).cast(D);
            DoubleVector y = sine.blend(cosineValue, odd);
            y = y.blend(y.neg(), flip);
            if (t.compare(VectorOperators.LE, MEDIUM_LIMIT).not().anyTrue()) {
                // Payne-Hanek's range, infinities and NaN: from a copy of the inputs, as out may be in
                x.intoArray(inputs, 0);
                y.intoArray(out, i);
                for (int k = 0; k < inputs.length; k++) {
                    if (!(Math.abs(inputs[k]) <= MEDIUM_LIMIT)) {
                        out[i + k] = scalar(inputs[k], cosine);
                    }
                }
            } else {
                y.intoArray(out, i);
            }
        }
    }
}
