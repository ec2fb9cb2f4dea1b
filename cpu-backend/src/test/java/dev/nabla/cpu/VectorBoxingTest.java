package dev.nabla.cpu;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.nabla.DType;
import dev.nabla.Device;
import dev.nabla.Nabla;
import dev.nabla.Rng;
import dev.nabla.Tensor;
import dev.nabla.backend.BinaryOp;
import dev.nabla.graph.TracedFunction;
import dev.nabla.nn.Conv2d;
import dev.nabla.nn.Dense;
import dev.nabla.nn.Flatten;
import dev.nabla.nn.Functional;
import dev.nabla.nn.Layer;
import dev.nabla.nn.MaxPool2d;
import dev.nabla.nn.Relu;
import dev.nabla.nn.Sequential;
import dev.nabla.optim.Adam;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Function;
import java.util.stream.Collectors;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordingFile;
import jdk.incubator.vector.VectorShape;
import org.junit.jupiter.api.Test;

/**
 * The element-wise kernels keep their vectors in registers once C2 has compiled them, whatever mix of ops they have
 * seen. A Vector API value that C2 cannot keep in a register becomes a heap object (a "box") per vector, and the loop
 * runs about ten times slower: {@link FloatLanes#row}, with the op chosen per vector by a switch in one loop, did so
 * after seeing the several ops of a training step (1.6 ns an element against 0.12; W7's relu gradient took 1.0 ms
 * instead of 0.28, the step allocating 2 GB/s). The row tests first run the kernel with every op, both operands
 * broadcast or not, then measure the bytes this thread allocates while the kernel runs one op at a time; each passes
 * once a round allocates (almost) nothing, and fails if none does within the time limit, during which C2 has long
 * compiled the kernel. The step test does the same for whole training steps, counting every thread's allocations.
 * It runs in a JVM of its own (the {@code vector-boxing} executions in the pom): run after the rest of the suite, the
 * kernels' vectors were boxed where a fresh JVM keeps them in registers.
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
        assertSettlesWithoutBoxes("FloatLanes.row", ROW_OPS, (op, aBroadcast, bBroadcast) ->
                FloatLanes.row(op, a, 0, aBroadcast, b, 0, bBroadcast, out, bools, 0, N));
        assertSettlesWithoutBoxes("FloatLanes.pow", List.of(BinaryOp.POW), (op, aBroadcast, bBroadcast) ->
                FloatLanes.pow(a, 0, aBroadcast, b, 0, bBroadcast, out, 0, N));
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
        assertSettlesWithoutBoxes("DoubleLanes.row", ROW_OPS, (op, aBroadcast, bBroadcast) ->
                DoubleLanes.row(op, a, 0, aBroadcast, b, 0, bBroadcast, out, bools, 0, N));
        assertSettlesWithoutBoxes("DoubleLanes.pow", List.of(BinaryOp.POW), (op, aBroadcast, bBroadcast) ->
                DoubleLanes.pow(a, 0, aBroadcast, b, 0, bBroadcast, out, 0, N));
    }

    /**
     * Whole training steps of {@code ./nabla mnist}'s CNN (W7: batch 64, Adam), eager and traced, once compiled,
     * allocate a few hundred KiB a step (tensors, tape nodes, small arrays outside the pool), where boxed vectors
     * cost megabytes. With the old row kernels the traced step (whose fused programs run them) still allocated
     * 5.6 MB a step after 60 s. Boxes from inlining limits (the GEMM's packing loads inlined into its task method:
     * 2.3 MB a traced step in a JVM running W7 alone) depend on what else the JVM has compiled, and did not show in
     * this test's JVM. Alone in a JVM, the steps now allocate about 210 KiB (eager) and 135 KiB (traced).
     */
    @Test
    void trainingStepsAllocateLittleOnceCompiled() {
        assumeCompiledVectors();
        Device cpu = Device.cpu();
        Rng rng = Rng.seeded(7);
        Layer model = new Sequential(new Conv2d(1, 16, 3, 1, "same", rng, cpu), new Relu(), new MaxPool2d(2),
                new Conv2d(16, 32, 3, 1, "same", rng, cpu), new Relu(), new MaxPool2d(2), new Flatten(),
                new Dense(32 * 7 * 7, 10, rng, cpu));
        Tensor images = rng.uniform(cpu, 0, 1, DType.FLOAT32, 64, 1, 28, 28);
        int[] labels = new int[64];
        for (int i = 0; i < labels.length; i++) {
            labels[i] = i * 7 % 10;
        }
        Tensor y = Tensor.of(cpu, labels, 64);
        Adam adam = new Adam(1e-3);
        Function<Tensor, Tensor> body = x -> adam.minimize(
                () -> Functional.softmaxCrossEntropy(model.forward(x), y), model.parameters());
        TracedFunction traced = Nabla.function(body);
        assertStepsSettle("an eager step", () -> body.apply(images).close());
        assertStepsSettle("a traced step", () -> traced.call(images).close());
    }

    /** Allocated bytes a step of a CNN: a few hundred KiB once compiled, megabytes with boxed vectors. */
    private static final double MAX_STEP_BYTES = 1 << 20;

    private static void assertStepsSettle(String what, Runnable step) {
        long start = System.nanoTime();
        List<Double> rounds = new ArrayList<>();
        while (true) {
            long before = THREADS.getTotalThreadAllocatedBytes();
            for (int i = 0; i < 20; i++) {
                step.run();
            }
            double perStep = (THREADS.getTotalThreadAllocatedBytes() - before) / 20.0;
            if (perStep <= MAX_STEP_BYTES) {
                return;
            }
            rounds.add(perStep);
            if (System.nanoTime() - start >= LIMIT_NANOS) {
                throw new AssertionError(what + " still allocated after " + rounds.size()
                        + " rounds of 20 (bytes a step, the first and last rounds): " + rounds.getFirst() + ", "
                        + rounds.getLast() + "\nwhere another 20 steps allocate (JFR: new TLABs and objects outside them):\n"
                        + heaviestAllocationSites(step));
            }
        }
    }

    /**
     * Which code allocates while 20 more steps run: the bytes of the thread-local allocation buffers each site opened
     * and of the objects it allocated outside them (JFR), by class and the first three Nabla frames. Boxes depend on what C2 made of the code in this JVM (one CI run in many failed), so the failure
     * itself must name the site.
     */
    private static String heaviestAllocationSites(Runnable step) {
        try (Recording recording = new Recording()) {
            recording.enable("jdk.ObjectAllocationInNewTLAB").withStackTrace();
            recording.enable("jdk.ObjectAllocationOutsideTLAB").withStackTrace();
            recording.start();
            for (int i = 0; i < 20; i++) {
                step.run();
            }
            recording.stop();
            Path file = Files.createTempFile("nabla-boxes", ".jfr");
            try {
                recording.dump(file);
                Map<String, Long> bytes = new HashMap<>();
                for (RecordedEvent event : RecordingFile.readAllEvents(file)) {
                    switch (event.getEventType().getName()) {
                        case "jdk.ObjectAllocationInNewTLAB" -> bytes.merge(site(event), event.getLong("tlabSize"),
                                Long::sum);
                        case "jdk.ObjectAllocationOutsideTLAB" -> bytes.merge(site(event),
                                event.getLong("allocationSize"), Long::sum);
                        default -> { } // a recording also holds the JVM's own events about itself
                    }
                }
                return bytes.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed())
                        .limit(12).map(e -> String.format("%,14d B  %s", e.getValue(), e.getKey()))
                        .collect(Collectors.joining("\n"));
            } finally {
                Files.deleteIfExists(file);
            }
        } catch (IOException e) {
            return "(no JFR recording: " + e + ")";
        }
    }

    private static String site(RecordedEvent event) {
        StringBuilder site = new StringBuilder(event.getClass("objectClass").getName());
        RecordedStackTrace trace = event.getStackTrace();
        if (trace != null) {
            trace.getFrames().stream().map(RecordedFrame::getMethod)
                    .filter(m -> m.getType().getName().startsWith("dev.nabla")).limit(3)
                    .forEach(m -> site.append(" < ").append(m.getType().getName()).append('.').append(m.getName()));
        }
        return site.toString();
    }

    @FunctionalInterface
    private interface RowKernel {
        void run(BinaryOp op, boolean aBroadcast, boolean bBroadcast);
    }

    /**
     * The ops {@code Lanes.row} runs: all but POW, which the kernels call {@code Lanes.pow} for. Each has its own
     * lambda here, as in {@code VectorKernels} (one per kind of row): with both in one lambda, FLOAT64's comparisons
     * allocated 3 bytes an element in one CI run (the forced 512-bit width) and nothing in the others.
     */
    private static final List<BinaryOp> ROW_OPS =
            java.util.Arrays.stream(BinaryOp.values()).filter(op -> op != BinaryOp.POW).toList();

    /** Runs each op with each broadcast pattern, then rounds of each op until one allocates nothing. */
    private static void assertSettlesWithoutBoxes(String kernel, List<BinaryOp> ops, RowKernel row) {
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
