package dev.nabla.cpu;

/**
 * Whether the Vector API ({@code jdk.incubator.vector}) is in the boot layer. It is an incubator module, so a program
 * gets it only with {@code --add-modules jdk.incubator.vector}; without it, touching any class that uses it throws
 * {@code NoClassDefFoundError}. This class refers to none of them, and every Vector API path of the backend is
 * behind {@link #AVAILABLE}; without it the backend runs scalar twins that give the same bits
 * ({@link ScalarKernels}), more slowly.
 */
final class VectorSupport {
    /** False without the module, or with {@code -Dnabla.cpu.scalarOnly=true} (the build tests the scalar paths so). */
    static final boolean AVAILABLE = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()
            && !Boolean.getBoolean("nabla.cpu.scalarOnly");
    /**
     * Calls over fewer elements run the scalar definition, in the kernels whose lanes are one long loop (the
     * Strict*Lanes functions, ARGMAX across rows). Until C2 compiles such a loop, the Vector API runs its Java
     * fallback, three orders of magnitude slower: a 640-element exp (W7's softmax) took 0.7-1.9 ms a call
     * interpreted and in C1 against 0.92 µs compiled, and in W7 C2 compiled it only after 6-10 s of training (JFR:
     * 4.3% of the step's samples in the fallback, the warmed-up step 6.4 ms). Called on short arrays, such a loop
     * gets hot slowly and is slow until then; StrictMath's scalar loop takes 3.5 µs for 640 elements once compiled,
     * 15 µs before. Long calls still take the lanes: their loops are compiled on the stack within one call.
     */
    static final int SCALAR_BELOW = 1024;
    private static volatile boolean told;

    private VectorSupport() {
    }

    /** Says once, at WARNING, that the Vector API is missing, how to add it and what its absence costs. */
    static void tellOnceIfMissing() {
        if (!AVAILABLE && !told) {
            told = true;
            System.getLogger("dev.nabla").log(System.Logger.Level.WARNING, "Nabla's CPU backend runs without the"
                    + " Vector API (jdk.incubator.vector is not in the boot layer, or -Dnabla.cpu.scalarOnly is set):"
                    + " results are the same, large element-wise ops, sums and matmuls several times slower. Start"
                    + " java with --add-modules jdk.incubator.vector (in Maven Surefire's argLine too) to use it.");
        }
    }

    /** The vector shapes in use, or why there are none. */
    static String describe() {
        return AVAILABLE ? "Vector API species " + VectorKernels.describeSpecies()
                : "no Vector API (scalar kernels; add --add-modules jdk.incubator.vector)";
    }
}
