package dev.nabla.cpu;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.nabla.backend.BinaryOp;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import jdk.incubator.vector.VectorShape;
import org.junit.jupiter.api.Test;

/**
 * The element-wise kernels keep their vectors in registers once C2 has compiled them, whatever mix of ops they have
 * seen. A Vector API value that C2 cannot keep in a register becomes a heap object (a "box") per vector, and the loop
 * runs about ten times slower: {@link FloatLanes#row}, with the op chosen per vector by a switch in one loop, did so
 * after seeing the several ops of a training step (1.6 ns an element against 0.12; W7's relu gradient took 1.0 ms
 * instead of 0.28, the step allocating 2 GB/s). Each test first runs the kernel with every op, both operands
 * broadcast or not, then measures the bytes this thread allocates while the kernel runs one op at a time; it passes
 * once a round allocates (almost) nothing, and fails if none does within the time limit, during which C2 has long
 * compiled the kernel.
 */
class VectorBoxingTest {
    private static final int N = 1 << 14;
    private static final long LIMIT_NANOS = 60_000_000_000L;
    /** Far below one box per vector (16 bytes of header and 4 or more of payload per 2 to 16 elements). */
    private static final double MAX_BYTES_PER_ELEMENT = 0.05;
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    @Test
    void floatRowsKeepVectorsInRegistersAfterSeeingEveryOp() {
        assumeCompiledVectors();
        float[] a = new float[N];
        float[] b = new float[N];
        float[] out = new float[N];
        byte[] bools = new byte[N];
        SplittableRandom random = new SplittableRandom(3);
        for (int i = 0; i < N; i++) {
            a[i] = (float) random.nextDouble(-1, 1);
            b[i] = (float) random.nextDouble(0.5, 2);
        }
        assertSettlesWithoutBoxes("FloatLanes.row", (op, aBroadcast, bBroadcast) ->
                FloatLanes.row(op, a, 0, aBroadcast, b, 0, bBroadcast, out, bools, 0, N));
    }

    @Test
    void doubleRowsKeepVectorsInRegistersAfterSeeingEveryOp() {
        assumeCompiledVectors();
        double[] a = new double[N];
        double[] b = new double[N];
        double[] out = new double[N];
        byte[] bools = new byte[N];
        SplittableRandom random = new SplittableRandom(4);
        for (int i = 0; i < N; i++) {
            a[i] = random.nextDouble(-1, 1);
            b[i] = random.nextDouble(0.5, 2);
        }
        assertSettlesWithoutBoxes("DoubleLanes.row", (op, aBroadcast, bBroadcast) ->
                DoubleLanes.row(op, a, 0, aBroadcast, b, 0, bBroadcast, out, bools, 0, N));
    }

    @FunctionalInterface
    private interface RowKernel {
        void run(BinaryOp op, boolean aBroadcast, boolean bBroadcast);
    }

    /** Runs every vectorized op with each broadcast pattern, then rounds of each op until one allocates nothing. */
    private static void assertSettlesWithoutBoxes(String kernel, RowKernel row) {
        List<BinaryOp> ops = new ArrayList<>();
        for (BinaryOp op : BinaryOp.values()) {
            if (op != BinaryOp.POW) {
                ops.add(op);
            }
        }
        for (int i = 0; i < 200; i++) {
            for (BinaryOp op : ops) {
                row.run(op, i % 3 == 1, i % 3 == 2);
            }
        }
        long start = System.nanoTime();
        List<String> rounds = new ArrayList<>();
        while (true) {
            StringBuilder round = new StringBuilder();
            boolean clean = true;
            for (BinaryOp op : ops) {
                long before = THREADS.getCurrentThreadAllocatedBytes();
                for (int i = 0; i < 20; i++) {
                    row.run(op, false, false);
                }
                double perElement = (THREADS.getCurrentThreadAllocatedBytes() - before) / (20.0 * N);
                clean &= perElement <= MAX_BYTES_PER_ELEMENT;
                round.append(String.format(" %s %.2f", op, perElement));
            }
            if (clean) {
                return;
            }
            rounds.add(round.toString());
            assertTrue(System.nanoTime() - start < LIMIT_NANOS, kernel + " still allocated after "
                    + rounds.size() + " rounds (bytes an element; the first and last rounds):\n" + rounds.getFirst()
                    + "\n" + rounds.getLast());
        }
    }

    /**
     * Only where C2 compiles the Vector API into vector instructions: the default execution's width, the host's
     * preferred one, and 256 bits under it (AVX2); above the host's width the Vector API always runs its Java
     * fallback, and the narrower widths' executions only test the bits.
     */
    private static void assumeCompiledVectors() {
        assumeTrue(VectorSupport.AVAILABLE, "no Vector API in this execution");
        int bits = VectorWidth.SHAPE.vectorBitSize();
        int preferred = VectorShape.preferredShape().vectorBitSize();
        assumeTrue(bits == preferred || (bits == 256 && preferred > 256),
                "vector boxes are checked at the host's preferred width and at 256 bits, not at " + bits);
        List<String> args = ManagementFactory.getRuntimeMXBean().getInputArguments();
        assumeTrue(args.stream().noneMatch(a -> a.startsWith("-XX:TieredStopAtLevel") || a.equals("-Xint")),
                "C2 is off in this JVM: " + args);
    }
}
