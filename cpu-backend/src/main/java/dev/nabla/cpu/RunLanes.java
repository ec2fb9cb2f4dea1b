package dev.nabla.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * Short runs of floats (a row of a small image's window: 7 to 28 elements in the MNIST CNN) as whole vectors and one
 * masked vector: a scalar or auto-vectorized loop over so few elements is mostly its entry and exit, and im2col and
 * col2im make hundreds of thousands of such runs per step.
 */
final class RunLanes {
    private static final VectorSpecies<Float> F = FloatLanes.SPECIES;
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());

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

    /**
     * Which columns of an image {@code width} wide lie inside {@code [lo, hi)}, as AND masks: element {@code q} is
     * all ones for column {@code q mod width} inside, 0 outside, for {@code q < width + F.length()}, so a vector of
     * lanes starting at any column reads its mask from one offset ({@link #copyInside}, {@link #addInside}); an AND
     * with an int vector cost less than a mask loaded from a boolean table and a masked load.
     */
    static int[] insideColumns(int width, int lo, int hi) {
        int[] inside = new int[width + F.length()];
        for (int q = 0; q < inside.length; q++) {
            int column = q % width;
            inside[q] = column >= lo && column < hi ? -1 : 0;
        }
        return inside;
    }

    /**
     * {@code dst[to + k] = src[from + k]} where element k's column ({@code (first + k) mod width}) is inside (see
     * {@link #insideColumns}), 0 elsewhere: an image shifted as a whole, its wrapped columns zeroed. Whole vectors
     * only, stored unmasked: masked stores of short runs were 80% of im2col's time on Zen 4. The
     * {@code length mod F.length()} last elements are left to the caller; returns how many were done.
     */
    static int copyInside(float[] src, int from, float[] dst, int to, int length, int[] inside, int width,
            int first) {
        int step = F.length() % width;
        int column = first;
        int k = 0;
        for (; k <= length - F.length(); k += F.length()) {
            inside(src, from + k, inside, column).intoArray(dst, to + k);
            column += step;
            column -= column >= width ? width : 0;
        }
        return k;
    }

    /**
     * {@code dst[to + k] += src[from + k]} where element k's column is inside (as {@link #copyInside}); the others
     * get {@code + 0}, which changes no sum that started at +0 (a sum of floats from +0 is never -0). Whole vectors
     * only, stored unmasked; returns how many elements were done.
     */
    static int addInside(float[] src, int from, float[] dst, int to, int length, int[] inside, int width,
            int first) {
        int step = F.length() % width;
        int column = first;
        int k = 0;
        for (; k <= length - F.length(); k += F.length()) {
            FloatVector.fromArray(F, dst, to + k).add(inside(src, from + k, inside, column)).intoArray(dst, to + k);
            column += step;
            column -= column >= width ? width : 0;
        }
        return k;
    }

    /** The vector at {@code src[from]} with the lanes outside the image (a 0 in {@code inside}) made +0. */
    private static FloatVector inside(float[] src, int from, int[] inside, int column) {
        return FloatVector.fromArray(F, src, from).reinterpretAsInts().and(IntVector.fromArray(I, inside, column))
                .reinterpretAsFloats();
    }
}
