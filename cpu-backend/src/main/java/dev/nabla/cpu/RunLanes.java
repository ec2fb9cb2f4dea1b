package dev.nabla.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * Short runs of floats (a row of a small image's window: 7 to 28 elements in the MNIST CNN) as whole vectors and one
 * masked vector: a scalar or auto-vectorized loop over so few elements is mostly its entry and exit, and im2col and
 * col2im make hundreds of thousands of such runs per step.
 */
final class RunLanes {
    private static final VectorSpecies<Float> F = FloatLanes.F;

    private RunLanes() {
    }

    /** {@code dst[to + k] = src[from + k]} for {@code k < length}. */
    static void copy(float[] src, int from, float[] dst, int to, int length) {
        int k = 0;
        for (; k <= length - F.length(); k += F.length()) {
            FloatVector.fromArray(F, src, from + k).intoArray(dst, to + k);
        }
        if (k < length) {
            VectorMask<Float> tail = F.indexInRange(k, length);
            FloatVector.fromArray(F, src, from + k, tail).intoArray(dst, to + k, tail);
        }
    }

    /** {@code dst[to + k] += src[from + k]} for {@code k < length}: one add per element, as the scalar loop. */
    static void add(float[] src, int from, float[] dst, int to, int length) {
        int k = 0;
        for (; k <= length - F.length(); k += F.length()) {
            FloatVector.fromArray(F, dst, to + k).add(FloatVector.fromArray(F, src, from + k)).intoArray(dst, to + k);
        }
        if (k < length) {
            VectorMask<Float> tail = F.indexInRange(k, length);
            FloatVector.fromArray(F, dst, to + k, tail).add(FloatVector.fromArray(F, src, from + k, tail))
                    .intoArray(dst, to + k, tail);
        }
    }
}
