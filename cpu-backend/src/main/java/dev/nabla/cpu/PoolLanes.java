package dev.nabla.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Max pooling's choice, a lane per window: each window element is one gather (the windows' first elements are the
 * index map, the element's offset the gather's offset), the maximum is a lane-wise MAX (Math.max: NaN wins), and the
 * first element equal to it (or the first NaN) is found walking the elements back with blends. A window at a time,
 * a loop over two to nine elements per window cost 15-20 ns a window (a running comparison mispredicts on data, and
 * a loop that short is mostly entry and exit); the lanes have neither.
 */
final class PoolLanes {
    private static final VectorSpecies<Float> F = FloatLanes.SPECIES;
    private static final VectorSpecies<Integer> I = F.withLanes(int.class);

    private PoolLanes() {
    }

    /**
     * Writes {@code indices[at + q]} for the whole vectors of the first {@code count} windows {@code q} of
     * {@code origins} (each window's first element in {@code x}; its elements are at {@code offsets}); returns how
     * many windows it did.
     */
    static int maxPoolIndices(float[] x, int[] offsets, int[] origins, int count, int[] indices, int at) {
        int rows = offsets.length;
        int bound = F.loopBound(count);
        if (rows == 4) {
            return fourElements(x, offsets, origins, bound, indices, at);
        }
        for (int q = 0; q < bound; q += F.length()) {
            FloatVector max = FloatVector.fromArray(F, x, offsets[0], origins, q);
            for (int r = 1; r < rows; r++) {
                max = max.lanewise(VectorOperators.MAX, FloatVector.fromArray(F, x, offsets[r], origins, q));
            }
            IntVector first = IntVector.fromArray(I, origins, q);
            IntVector best = first;
            for (int r = rows - 1; r >= 0; r--) {
                FloatVector v = FloatVector.fromArray(F, x, offsets[r], origins, q);
                best = best.blend(first.add(offsets[r]), isMaximum(v, max).cast(I));
            }
            best.intoArray(indices, at + q);
        }
        return bound;
    }

    /**
     * {@link #maxPoolIndices} for windows of four elements (2 x 2, the usual pooling), each gathered once and kept in
     * a register: the general loop gathers every element again to find the first maximum, twice the gathers.
     */
    private static int fourElements(float[] x, int[] offsets, int[] origins, int bound, int[] indices, int at) {
        for (int q = 0; q < bound; q += F.length()) {
            FloatVector v0 = FloatVector.fromArray(F, x, offsets[0], origins, q);
            FloatVector v1 = FloatVector.fromArray(F, x, offsets[1], origins, q);
            FloatVector v2 = FloatVector.fromArray(F, x, offsets[2], origins, q);
            FloatVector v3 = FloatVector.fromArray(F, x, offsets[3], origins, q);
            FloatVector max = v0.lanewise(VectorOperators.MAX, v1).lanewise(VectorOperators.MAX, v2)
                    .lanewise(VectorOperators.MAX, v3);
            IntVector first = IntVector.fromArray(I, origins, q);
            IntVector best = first.add(offsets[3]);
            best = best.blend(first.add(offsets[2]), isMaximum(v2, max).cast(I));
            best = best.blend(first.add(offsets[1]), isMaximum(v1, max).cast(I));
            best = best.blend(first.add(offsets[0]), isMaximum(v0, max).cast(I));
            best.intoArray(indices, at + q);
        }
        return bound;
    }

    /** Lanes equal to the maximum, or NaN (where the maximum is NaN). */
    private static VectorMask<Float> isMaximum(FloatVector v, FloatVector max) {
        return v.compare(VectorOperators.EQ, max).or(v.test(VectorOperators.IS_NAN));
    }

    /** {@code 2q + 1}, {@code 2q} for lane q: which lanes of two vectors are their odd and even elements. */
    private static final float[] EVEN = lanes(0);
    private static final float[] ODD = lanes(1);
    private static final int[] TWICE = twice();

    private static int[] twice() {
        int[] lanes = new int[F.length()];
        for (int q = 0; q < lanes.length; q++) {
            lanes[q] = 2 * q;
        }
        return lanes;
    }

    private static float[] lanes(int first) {
        float[] lanes = new float[F.length()];
        for (int q = 0; q < lanes.length; q++) {
            lanes[q] = 2 * q + first;
        }
        return lanes;
    }

    /**
     * The indices of {@code F.length()} consecutive 2 × 2 windows at stride 2 along one pair of rows, the first at
     * {@code x[top]} (each window {@code top + 2q}, {@code + 1}, {@code + width}, {@code + width + 1}), stored as one
     * whole vector at {@code indices[at]}. Each row is two contiguous loads split into its even and odd elements
     * (a two-vector selection): a gather per window element cost more than the rest of the work. The caller
     * ensures {@code x[top + width + 2·F.length() - 1]} exists.
     */
    static void pairedRows(float[] x, int top, int width, int[] indices, int at) {
        FloatVector even = FloatVector.fromArray(F, EVEN, 0);
        FloatVector odd = FloatVector.fromArray(F, ODD, 0);
        FloatVector upperLow = FloatVector.fromArray(F, x, top);
        FloatVector upperHigh = FloatVector.fromArray(F, x, top + F.length());
        FloatVector lowerLow = FloatVector.fromArray(F, x, top + width);
        FloatVector lowerHigh = FloatVector.fromArray(F, x, top + width + F.length());
        FloatVector v0 = even.selectFrom(upperLow, upperHigh);
        FloatVector v1 = odd.selectFrom(upperLow, upperHigh);
        FloatVector v2 = even.selectFrom(lowerLow, lowerHigh);
        FloatVector v3 = odd.selectFrom(lowerLow, lowerHigh);
        FloatVector max = v0.lanewise(VectorOperators.MAX, v1).lanewise(VectorOperators.MAX, v2)
                .lanewise(VectorOperators.MAX, v3);
        IntVector first = IntVector.fromArray(I, TWICE, 0).add(top);
        IntVector best = first.add(width + 1);
        best = best.blend(first.add(width), isMaximum(v2, max).cast(I));
        best = best.blend(first.add(1), isMaximum(v1, max).cast(I));
        best = best.blend(first, isMaximum(v0, max).cast(I));
        best.intoArray(indices, at);
    }
}
