package dev.nabla.cpu;

import jdk.incubator.vector.VectorShape;

/**
 * The vector shape the CPU kernels use ({@link #STREAMING} for the memory-bound ones): the host's preferred one,
 * unless the system property {@code nabla.cpu.species} names a width in bits ({@code 64}, {@code 128}, {@code 256},
 * {@code 512}) or {@code preferred}.
 *
 * <p>Results do not depend on the width (the kernels are written so that no value's bits do), and the tests prove it
 * by running the CPU suite at every width on whatever host CI lands on. A width above the host's preferred one runs
 * on the Vector API's Java fallback: correct, and many times slower, so it is only for those tests.
 */
final class VectorWidth {
    static final VectorShape SHAPE = configured();
    /**
     * The shape of kernels bound by memory rather than arithmetic (the float sums): {@link #SHAPE}, but at most
     * 256 bits unless {@code nabla.cpu.species} names a width (so that the tests still run every width). On a Zen 5
     * host (likely because a float array's data starts 16 bytes past a 64-byte line, so that every 512-bit load
     * straddles two lines) 2^24 floats summed in 0.62-0.67 ms with 256-bit vectors against 0.94-1.03 with 512 (two
     * threads, medians of 300, 2 alternations), while exp, arithmetic-bound, took 3.6 ms against 6.5 with 256.
     * Element-wise arithmetic stays at {@link #SHAPE}: in JMH, W2's a*b + a ran 6.98 ms at 256 bits and 6.95 at 512.
     */
    static final VectorShape STREAMING = streaming();

    private VectorWidth() {
    }

    private static VectorShape streaming() {
        return !property().equals("preferred") || SHAPE.vectorBitSize() <= 256 ? SHAPE : VectorShape.S_256_BIT;
    }

    /** {@code nabla.cpu.species}, {@code preferred} when unset or empty. */
    static String property() {
        String value = System.getProperty("nabla.cpu.species", "").trim();
        return value.isEmpty() ? "preferred" : value;
    }

    private static VectorShape configured() {
        String value = property();
        if (value.equals("preferred")) {
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
