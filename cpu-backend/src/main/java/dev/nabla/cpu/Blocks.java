package dev.nabla.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The 8 × 8 float transpose of {@link TransposeCopy#block} in 256-bit vectors: rows interleaved in pairs of elements,
 * then of pairs, then of halves (the butterfly of the usual AVX transpose), each round a rearrangement of two vectors
 * written as two one-vector rearrangements and a blend with constant masks (C2 compiles each to permutes and a blend;
 * the two-vector {@code rearrange} ran 10% slower). Its own class so that the Vector API classes load only where
 * {@link TransposeCopy#BLOCKS} holds.
 */
final class Blocks {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_256;
    private static final VectorShuffle<Float> SPREAD_LOW = VectorShuffle.fromValues(S, 0, 0, 1, 1, 4, 4, 5, 5);
    private static final VectorShuffle<Float> SPREAD_HIGH = VectorShuffle.fromValues(S, 2, 2, 3, 3, 6, 6, 7, 7);
    private static final VectorMask<Float> ODD = VectorMask.fromValues(S, false, true, false, true, false, true,
            false, true);
    private static final VectorShuffle<Float> PAIRS_LOW = VectorShuffle.fromValues(S, 0, 1, 0, 1, 4, 5, 4, 5);
    private static final VectorShuffle<Float> PAIRS_HIGH = VectorShuffle.fromValues(S, 2, 3, 2, 3, 6, 7, 6, 7);
    private static final VectorMask<Float> ODD_PAIRS = VectorMask.fromValues(S, false, false, true, true, false,
            false, true, true);
    private static final VectorShuffle<Float> HALF_LOW = VectorShuffle.fromValues(S, 0, 1, 2, 3, 0, 1, 2, 3);
    private static final VectorShuffle<Float> HALF_HIGH = VectorShuffle.fromValues(S, 4, 5, 6, 7, 4, 5, 6, 7);
    private static final VectorMask<Float> HIGH_HALF = VectorMask.fromValues(S, false, false, false, false, true,
            true, true, true);

    private Blocks() {
    }

    /** Whether the host's own vectors hold 256 bits (so {@link #S} is not the Java fallback). */
    static boolean available() {
        return VectorShape.preferredShape().vectorBitSize() >= 256;
    }

    static void transpose(float[] s, int sO, int ss, float[] d, int dO, int ds) {
        FloatVector r0 = FloatVector.fromArray(S, s, sO);
        FloatVector r1 = FloatVector.fromArray(S, s, sO + ss);
        FloatVector r2 = FloatVector.fromArray(S, s, sO + 2 * ss);
        FloatVector r3 = FloatVector.fromArray(S, s, sO + 3 * ss);
        FloatVector r4 = FloatVector.fromArray(S, s, sO + 4 * ss);
        FloatVector r5 = FloatVector.fromArray(S, s, sO + 5 * ss);
        FloatVector r6 = FloatVector.fromArray(S, s, sO + 6 * ss);
        FloatVector r7 = FloatVector.fromArray(S, s, sO + 7 * ss);
        // (a0 b0 a1 b1 | a4 b4 a5 b5) and (a2 b2 a3 b3 | a6 b6 a7 b7) from rows a, b
        FloatVector t0 = low(r0, r1);
        FloatVector t1 = high(r0, r1);
        FloatVector t2 = low(r2, r3);
        FloatVector t3 = high(r2, r3);
        FloatVector t4 = low(r4, r5);
        FloatVector t5 = high(r4, r5);
        FloatVector t6 = low(r6, r7);
        FloatVector t7 = high(r6, r7);
        // (a0 b0 c0 d0 | a4 b4 c4 d4) ...: columns 0 to 7 of rows 0-3 and of rows 4-7 in halves
        FloatVector u0 = lowPairs(t0, t2);
        FloatVector u1 = highPairs(t0, t2);
        FloatVector u2 = lowPairs(t1, t3);
        FloatVector u3 = highPairs(t1, t3);
        FloatVector u4 = lowPairs(t4, t6);
        FloatVector u5 = highPairs(t4, t6);
        FloatVector u6 = lowPairs(t5, t7);
        FloatVector u7 = highPairs(t5, t7);
        u0.blend(u4.rearrange(HALF_LOW), HIGH_HALF).intoArray(d, dO);
        u1.blend(u5.rearrange(HALF_LOW), HIGH_HALF).intoArray(d, dO + ds);
        u2.blend(u6.rearrange(HALF_LOW), HIGH_HALF).intoArray(d, dO + 2 * ds);
        u3.blend(u7.rearrange(HALF_LOW), HIGH_HALF).intoArray(d, dO + 3 * ds);
        u0.rearrange(HALF_HIGH).blend(u4, HIGH_HALF).intoArray(d, dO + 4 * ds);
        u1.rearrange(HALF_HIGH).blend(u5, HIGH_HALF).intoArray(d, dO + 5 * ds);
        u2.rearrange(HALF_HIGH).blend(u6, HIGH_HALF).intoArray(d, dO + 6 * ds);
        u3.rearrange(HALF_HIGH).blend(u7, HIGH_HALF).intoArray(d, dO + 7 * ds);
    }

    private static FloatVector low(FloatVector a, FloatVector b) {
        return a.rearrange(SPREAD_LOW).blend(b.rearrange(SPREAD_LOW), ODD);
    }

    private static FloatVector high(FloatVector a, FloatVector b) {
        return a.rearrange(SPREAD_HIGH).blend(b.rearrange(SPREAD_HIGH), ODD);
    }

    private static FloatVector lowPairs(FloatVector a, FloatVector b) {
        return a.rearrange(PAIRS_LOW).blend(b.rearrange(PAIRS_LOW), ODD_PAIRS);
    }

    private static FloatVector highPairs(FloatVector a, FloatVector b) {
        return a.rearrange(PAIRS_HIGH).blend(b.rearrange(PAIRS_HIGH), ODD_PAIRS);
    }
}
