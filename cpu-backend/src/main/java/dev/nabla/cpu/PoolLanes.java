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
    private static final VectorSpecies<Float> F = FloatLanes.F;
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
        for (int q = 0; q < bound; q += F.length()) {
            FloatVector max = FloatVector.fromArray(F, x, offsets[0], origins, q);
            for (int r = 1; r < rows; r++) {
                max = max.lanewise(VectorOperators.MAX, FloatVector.fromArray(F, x, offsets[r], origins, q));
            }
            IntVector first = IntVector.fromArray(I, origins, q);
            IntVector best = first;
            for (int r = rows - 1; r >= 0; r--) {
                FloatVector v = FloatVector.fromArray(F, x, offsets[r], origins, q);
                VectorMask<Float> hit = v.compare(VectorOperators.EQ, max).or(v.test(VectorOperators.IS_NAN));
                best = best.blend(first.add(offsets[r]), hit.cast(I));
            }
            best.intoArray(indices, at + q);
        }
        return bound;
    }
}
