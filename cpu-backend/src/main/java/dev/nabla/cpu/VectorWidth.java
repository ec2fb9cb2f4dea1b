package dev.nabla.cpu;

import jdk.incubator.vector.VectorShape;

/**
 * The vector shape every CPU kernel uses: the host's preferred one, unless the system property
 * {@code nabla.cpu.species} names a width in bits ({@code 64}, {@code 128}, {@code 256}, {@code 512}) or
 * {@code preferred}.
 *
 * <p>Results do not depend on the width (the kernels are written so that no value's bits do), and the tests prove it
 * by running the CPU suite at every width on whatever host CI lands on. A width above the host's preferred one runs
 * on the Vector API's Java fallback: correct, and many times slower, so it is only for those tests.
 */
final class VectorWidth {
    static final VectorShape SHAPE = configured();

    private VectorWidth() {
    }

    private static VectorShape configured() {
        String value = System.getProperty("nabla.cpu.species", "preferred").trim();
        if (value.isEmpty() || value.equals("preferred")) {
            return VectorShape.preferredShape();
        }
        try {
            int bits = Integer.parseInt(value);
            if (bits == 64 || bits == 128 || bits == 256 || bits == 512) {
                return VectorShape.forBitSize(bits);
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException("nabla.cpu.species must be 64, 128, 256, 512 or preferred, got '"
                + value + "'");
    }
}
