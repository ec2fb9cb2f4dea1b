package dev.nabla.cpu;

import dev.nabla.backend.BinaryOp;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * POW in vector lanes with exactly the bits of its definition ({@link BinaryOp#POW}: {@link StrictMath#pow} with
 * C99's corners), about 75 ns an element through StrictMath and a small fraction of that in lanes.
 *
 * <p>Exact for the reason {@link StrictExpLanes} is: {@code StrictMath.pow} is fdlibm's {@code e_pow.c}, whose
 * operations all round exactly, and each lane performs them with fdlibm's constants in fdlibm's order, never
 * contracted into an FMA. The lanes take fdlibm's main path, which is where nearly every element goes:
 * <ul>
 *   <li>log2|x| in extra precision, as t1 + t2: |x| = 2^n (1 + f) with 1 + f reduced around 1 or 1.5 (fdlibm's k),
 *       s = (1 + f - bp)/(1 + f + bp) split in a high part with a zero low word and a low part, a degree-12 even
 *       polynomial, and the products with 2/(3 ln2) in two parts;</li>
 *   <li>y t1 + y t2 with y split the same way, giving z = p_h + p_l;</li>
 *   <li>2^z: the nearest integer n is taken off p_h through the exponent field (fdlibm's shifts, per lane), a
 *       degree-5 polynomial gives 2^r, and n goes back into the exponent field;</li>
 *   <li>a negative x with an integer y: the result of |x|, negated for an odd y.</li>
 * </ul>
 * Every other lane takes the definition itself, {@link BinaryOp#POW}'s {@code apply}: x or y zero, infinite or NaN,
 * x = ±1, y = 2, 0.5 or ±1 (fdlibm answers those without a logarithm), a subnormal x, |y| above 2^31, a negative x
 * with a fractional y, and results that overflow, underflow or are subnormal. A vector with such a lane still
 * computes the others in lanes. {@code StrictPowLanesTest} compares every path with the definition.
 *
 * <p>No double-to-long conversion (AVX2 has none) and no arithmetic shift of longs (AVX-512 only): integers are taken
 * with the 1.5·2^52 rounding trick, and the sign of fdlibm's signed high word is carried separately.
 */
final class StrictPowLanes {
    static final VectorSpecies<Double> D = DoubleLanes.SPECIES;
    private static final VectorSpecies<Long> L = D.withLanes(long.class);

    // fdlibm e_pow.c's constants (the JDK's FdLibm.Pow); its P1-P5 are e_exp.c's, in StrictExpLanes
    private static final double DP_H1 = 0x1.2b8034p-1;
    private static final double DP_L1 = 0x1.cfdeb43cfd006p-27;
    private static final double L1 = 0x1.3333333333303p-1;
    private static final double L2 = 0x1.b6db6db6fabffp-2;
    private static final double L3 = 0x1.55555518f264dp-2;
    private static final double L4 = 0x1.17460a91d4101p-2;
    private static final double L5 = 0x1.d864a93c9db65p-3;
    private static final double L6 = 0x1.a7e284a454eefp-3;
    private static final double CP = 0x1.ec709dc3a03fdp-1;
    private static final double CP_H = 0x1.ec709ep-1;
    private static final double CP_L = -0x1.e2fe0145b01f5p-28;
    private static final double LG2 = 0x1.62e42fefa39efp-1;
    private static final double LG2_H = 0x1.62e43p-1;
    private static final double LG2_L = -0x1.05c610ca86c39p-29;
    /** fdlibm's bound above which |y| takes its "huge" path (not in lanes). */
    private static final double Y_HUGE = 0x1.00000ffffffffp31;
    private static final double ROUNDER = StrictExpLanes.ROUNDER;
    /** Masks fdlibm's {@code __LO(x, 0)}, written out in the loop: a helper was not inlined (C2's node limit). */
    private static final long HIGH_WORD = 0xffff_ffff_0000_0000L;
    private static final long LOW_WORD = 0xffff_ffffL;

    /**
     * A thread's copy of one vector of bases and exponents for {@link #definitionAt}: a new array a call was most of
     * what FLOAT32's chunks allocated ({@code VectorBoxingTest}).
     */
    private static final ThreadLocal<double[]> SAVED = ThreadLocal.withInitial(() -> new double[2 * D.length()]);

    private StrictPowLanes() {
    }

    /**
     * {@code out[o + j] = POW(a[ai + j], b[bi + j])} for {@code j < len}; a broadcast operand is read at its index
     * alone. {@code out} may be an input at the same index (in place), or overwrite a broadcast one. Returns how many
     * lanes the definition computed (off the main path; the tests check that lanes do the work).
     */
    static int pow(double[] a, int ai, boolean aBroadcast, double[] b, int bi, boolean bBroadcast, double[] out,
            int o, int len) {
        if (len <= 0) {
            return 0;
        }
        // read before anything is written: the output may overwrite a broadcast operand (FLOAT32's chunks)
        double aValue = a[ai];
        double bValue = b[bi];
        int j = 0;
        int definitionLanes = 0;
        if (len >= VectorSupport.SCALAR_BELOW) {       // short calls: see VectorSupport.SCALAR_BELOW
            definitionLanes = lanes(a, ai, aBroadcast, aValue, b, bi, bBroadcast, bValue, out, o, len);
            j = D.loopBound(len);
        }
        for (; j < len; j++) {
            out[o + j] = BinaryOp.POW.apply(aBroadcast ? aValue : a[ai + j], bBroadcast ? bValue : b[bi + j]);
        }
        return definitionLanes;
    }

    /**
     * The whole vectors. NOTE: one method with no call in the loop while a vector is live, as in
     * {@link StrictExpLanes}: a vector crossing a call C2 does not inline becomes a heap object. Lanes off the main
     * path are stored as computed, then overwritten by {@link #definitionAt}, from a copy of the inputs (the output
     * may be an input).
     */
    private static int lanes(double[] a, int ai, boolean aBroadcast, double aValue, double[] b, int bi,
            boolean bBroadcast, double bValue, double[] out, int o, int len) {
        int step = D.length();
        int definitionLanes = 0;
        double[] saved = null;
        DoubleVector splatA = DoubleVector.broadcast(D, aValue);
        DoubleVector splatB = DoubleVector.broadcast(D, bValue);
        for (int j = 0, bound = D.loopBound(len); j < bound; j += step) {
            DoubleVector x = aBroadcast ? splatA : DoubleVector.fromArray(D, a, ai + j);
            DoubleVector y = bBroadcast ? splatB : DoubleVector.fromArray(D, b, bi + j);
            DoubleVector ax = x.abs();
            DoubleVector ay = y.abs();
            // the main path: finite normal x other than ±1, finite y other than 0, ±1, 2, 0.5, |y| not huge (NaN
            // fails every comparison)
            VectorMask<Double> main = ax.compare(VectorOperators.GE, Double.MIN_NORMAL)
                    .and(ax.compare(VectorOperators.LT, Double.POSITIVE_INFINITY))
                    .and(ax.compare(VectorOperators.NE, 1.0))
                    .and(ay.compare(VectorOperators.GT, 0.0)).and(ay.compare(VectorOperators.LE, Y_HUGE))
                    .and(ay.compare(VectorOperators.NE, 1.0)).and(y.compare(VectorOperators.NE, 2.0))
                    .and(y.compare(VectorOperators.NE, 0.5));
            // fdlibm's y_is_int for x < 0: |y| rounded to an integer equals |y|; its parity is the sum's last bit
            DoubleVector yShifted = ay.add(ROUNDER);
            VectorMask<Double> yInteger = yShifted.sub(ROUNDER).compare(VectorOperators.EQ, ay);
            VectorMask<Double> yOdd = yShifted.viewAsIntegralLanes().and(1L).compare(VectorOperators.NE, 0L).cast(D);
            VectorMask<Double> negative = x.compare(VectorOperators.LT, 0.0);
            main = main.and(negative.andNot(yInteger).not());
            DoubleVector sign = DoubleVector.broadcast(D, 1.0).blend(-1.0, negative.and(yInteger).and(yOdd));

            // log2|x| = t1 + t2: |x| = 2^n m, m in [1, 2) taken into [sqrt(3)/2, sqrt(3)) (fdlibm's k and ix)
            LongVector bits = ax.viewAsIntegralLanes();
            LongVector hx = bits.lanewise(VectorOperators.LSHR, 32);
            LongVector mantissaHigh = hx.and(0x000f_ffffL);
            VectorMask<Long> nearOneHalf = mantissaHigh.compare(VectorOperators.GT, 0x3_988eL)
                    .and(mantissaHigh.compare(VectorOperators.LT, 0xb_b67aL));
            VectorMask<Long> pastRoot3 = mantissaHigh.compare(VectorOperators.GE, 0xb_b67aL);
            LongVector n = hx.lanewise(VectorOperators.LSHR, 20).sub(0x3ffL)
                    .add(LongVector.zero(L).blend(1L, pastRoot3));
            LongVector ix = mantissaHigh.or(0x3ff0_0000L).sub(LongVector.zero(L).blend(0x10_0000L, pastRoot3));
            DoubleVector m = ix.lanewise(VectorOperators.LSHL, 32).or(bits.and(LOW_WORD)).viewAsFloatingLanes();
            VectorMask<Double> k1 = nearOneHalf.cast(D);
            DoubleVector bp = DoubleVector.broadcast(D, 1.0).blend(1.5, k1);
            DoubleVector dpH = DoubleVector.zero(D).blend(DP_H1, k1);
            DoubleVector dpL = DoubleVector.zero(D).blend(DP_L1, k1);

            DoubleVector u = m.sub(bp);
            DoubleVector v = DoubleVector.broadcast(D, 1.0).div(m.add(bp));
            DoubleVector ss = u.mul(v);
            DoubleVector sH = ss.viewAsIntegralLanes().and(HIGH_WORD).viewAsFloatingLanes();
            DoubleVector tH = ix.lanewise(VectorOperators.LSHR, 1).or(0x2000_0000L).add(0x0008_0000L)
                    .add(LongVector.zero(L).blend(1L << 18, nearOneHalf))
                    .lanewise(VectorOperators.LSHL, 32).viewAsFloatingLanes();
            DoubleVector tL = m.sub(tH.sub(bp));
            DoubleVector sL = v.mul(u.sub(sH.mul(tH)).sub(sH.mul(tL)));
            DoubleVector s2 = ss.mul(ss);
            DoubleVector r = s2.mul(s2).mul(s2.mul(s2.mul(s2.mul(s2.mul(s2.mul(L6).add(L5)).add(L4)).add(L3))
                    .add(L2)).add(L1));
            r = r.add(sL.mul(sH.add(ss)));
            s2 = sH.mul(sH);
            tH = s2.add(3.0).add(r).viewAsIntegralLanes().and(HIGH_WORD).viewAsFloatingLanes();
            tL = r.sub(tH.sub(3.0).sub(s2));
            u = sH.mul(tH);
            v = sL.mul(tH).add(tL.mul(ss));
            DoubleVector pH = u.add(v).viewAsIntegralLanes().and(HIGH_WORD).viewAsFloatingLanes();
            DoubleVector pL = v.sub(pH.sub(u));
            DoubleVector zH = pH.mul(CP_H);
            DoubleVector zL = pH.mul(CP_L).add(pL.mul(CP)).add(dpL);
            DoubleVector t = n.add(Double.doubleToRawLongBits(ROUNDER)).viewAsFloatingLanes().sub(ROUNDER);
            DoubleVector t1 = zH.add(zL).add(dpH).add(t).viewAsIntegralLanes().and(HIGH_WORD).viewAsFloatingLanes();
            DoubleVector t2 = zL.sub(t1.sub(t).sub(dpH).sub(zH));

            // z = y (t1 + t2) = p_h + p_l, y split as y1 + (y - y1)
            DoubleVector y1 = y.viewAsIntegralLanes().and(HIGH_WORD).viewAsFloatingLanes();
            pL = y.sub(y1).mul(t1).add(y.mul(t2));
            pH = y1.mul(t1);
            DoubleVector z = pL.add(pH);
            LongVector zBits = z.viewAsIntegralLanes();
            VectorMask<Double> zNegative = z.compare(VectorOperators.LT, 0.0);
            LongVector i = zBits.lanewise(VectorOperators.LSHR, 32).and(0x7fff_ffffL);
            // overflow (z >= 1024) and underflow (z <= -1075) are the definition's
            main = main.andNot(i.compare(VectorOperators.GE, 0x4090_0000L).cast(D).and(zNegative.not()))
                    .andNot(i.compare(VectorOperators.GE, 0x4090_cc00L).cast(D).and(zNegative));

            // |z| > 0.5: n = [z + 1/2] through the high word (fdlibm's shifts, on |z|'s high word), and p_h -= n
            VectorMask<Double> aboveHalf = i.compare(VectorOperators.GT, 0x3fe0_0000L).cast(D);
            LongVector k = i.lanewise(VectorOperators.LSHR, 20).sub(0x3ffL);
            LongVector rounded = i.add(LongVector.broadcast(L, 0x0010_0000L).lanewise(VectorOperators.LSHR, k.add(1L)));
            LongVector kRounded = rounded.lanewise(VectorOperators.LSHR, 20).sub(0x3ffL);
            DoubleVector nAbs = rounded.and(LongVector.broadcast(L, 0x000f_ffffL)
                    .lanewise(VectorOperators.LSHR, kRounded).not())
                    .lanewise(VectorOperators.LSHL, 32).viewAsFloatingLanes();
            LongVector scale = rounded.and(0x000f_ffffL).or(0x0010_0000L)
                    .lanewise(VectorOperators.LSHR, LongVector.broadcast(L, 20L).sub(kRounded));
            scale = scale.blend(scale.neg(), zNegative.cast(L));
            scale = LongVector.zero(L).blend(scale, aboveHalf.cast(L));
            pH = pH.blend(pH.sub(nAbs.blend(nAbs.neg(), zNegative)), aboveHalf);

            // 2^(p_h + p_l) = 2^n 2^r
            t = pL.add(pH).viewAsIntegralLanes().and(HIGH_WORD).viewAsFloatingLanes();
            u = t.mul(LG2_H);
            v = pL.sub(t.sub(pH)).mul(LG2).add(t.mul(LG2_L));
            z = u.add(v);
            DoubleVector w = v.sub(z.sub(u));
            t = z.mul(z);
            t1 = z.sub(t.mul(t.mul(t.mul(t.mul(t.mul(StrictExpLanes.P5).add(StrictExpLanes.P4)).add(StrictExpLanes.P3))
                    .add(StrictExpLanes.P2)).add(StrictExpLanes.P1)));   // exp's polynomial, as in fdlibm
            r = z.mul(t1).div(t1.sub(2.0)).sub(w.add(z.mul(w)));
            z = DoubleVector.broadcast(D, 1.0).sub(r.sub(z));
            LongVector scaled = z.viewAsIntegralLanes().add(scale.lanewise(VectorOperators.LSHL, 52));
            // a subnormal result (fdlibm's scalb) is the definition's
            main = main.andNot(z.viewAsIntegralLanes().lanewise(VectorOperators.LSHR, 32)
                    .add(scale.lanewise(VectorOperators.LSHL, 20)).compare(VectorOperators.LT, 0x10_0000L).cast(D));
            scaled.viewAsFloatingLanes().mul(sign).intoArray(out, o + j);

            if (!main.allTrue()) {
                if (saved == null) {
                    saved = SAVED.get();
                }
                x.intoArray(saved, 0);
                y.intoArray(saved, step);
                definitionLanes += definitionAt(main.toLong(), saved, out, o + j);
            }
        }
        return definitionLanes;
    }

    /** The definition in the lanes of {@code out[at...]} whose bit in {@code mainLanes} is clear; returns how many. */
    private static int definitionAt(long mainLanes, double[] saved, double[] out, int at) {
        int step = D.length();
        int count = 0;
        for (int lane = 0; lane < step; lane++) {
            if ((mainLanes & (1L << lane)) == 0) {
                out[at + lane] = BinaryOp.POW.apply(saved[lane], saved[step + lane]);
                count++;
            }
        }
        return count;
    }
}
