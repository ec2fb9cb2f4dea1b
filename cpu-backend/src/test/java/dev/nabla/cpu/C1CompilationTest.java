package dev.nabla.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.nabla.DType;
import dev.nabla.Device;
import dev.nabla.Nabla;
import dev.nabla.Rng;
import dev.nabla.Tensor;
import dev.nabla.Variable;
import dev.nabla.graph.TracedFunction;
import dev.nabla.nn.Functional;
import dev.nabla.optim.Adam;
import dev.nabla.optim.Optimizer;
import dev.nabla.optim.SGD;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import jdk.incubator.vector.VectorShape;
import org.junit.jupiter.api.Test;

/**
 * The library's kernels compile with C1. A method C1 gives up on can be stuck, with HotSpot's tiered policy, in its
 * tier-2 code for the life of the JVM, where the Vector API is plain Java: {@link FloatGemm#microKernelNarrow} ran out
 * of C1's virtual registers, and in three JMH forks of four the ten-column product of W5 took 700-1,200 µs instead of
 * 15. The child JVM compiles with C1 alone ({@code -XX:TieredStopAtLevel=3}), each compilation as it is asked for
 * ({@code -Xbatch}), and this test fails on any compilation of the library's that C1 skipped. (Compiling every method
 * at its first call, {@code -Xcomp}, did not show the failure: the Vector API's methods were not yet resolved then,
 * so C1 did not inline them.)
 */
class C1CompilationTest {
    /**
     * Matrix products alone first, then eager and traced Adam steps of a small CNN (convolutions to 8 and 16
     * channels, max and average pooling, a ten-output layer: the narrow GEMM panels) and SGD steps of the same in
     * FLOAT64.
     */
    static void workload() {
        Device cpu = Device.cpu();
        Rng rng = Rng.seeded(11);
        // first, alone: products over several depth slices (C accumulated) with a wide panel and a narrow one, often
        // enough for the kernels to be compiled while few of the Vector API's classes are loaded, as in a program
        // that multiplies matrices before anything else (C1 inlines more where fewer classes implement VectorMask)
        Tensor a = rng.normal(cpu, DType.FLOAT32, 30, 600);
        Tensor b = rng.normal(cpu, DType.FLOAT32, 600, 42);
        for (int i = 0; i < 100; i++) {
            a.matmul(b).close();
        }
        Tensor labels = Tensor.of(cpu, new int[] {1, 7, 3, 0, 9, 2, 4, 4, 8, 6, 5, 1, 0, 3, 2, 9}, 16);
        for (DType dtype : List.of(DType.FLOAT32, DType.FLOAT64)) {
            List<Variable> params = List.of(new Variable(rng.normal(cpu, dtype, 8, 1, 3, 3).mul(0.3)),
                    new Variable(Tensor.zeros(dtype, 8)),
                    new Variable(rng.normal(cpu, dtype, 16, 8, 3, 3).mul(0.1)),
                    new Variable(Tensor.zeros(dtype, 16)),
                    new Variable(rng.normal(cpu, dtype, 16 * 4 * 4, 10).mul(0.05)),
                    new Variable(Tensor.zeros(dtype, 10)));
            Tensor images = rng.normal(cpu, dtype, 16, 1, 16, 16);
            Optimizer optimizer = dtype == DType.FLOAT32 ? new Adam(1e-3) : new SGD(0.1);
            TracedFunction step = Nabla.function(x -> optimizer.minimize(() -> loss(x, labels, params), params));
            for (int i = 0; i < 3; i++) {
                optimizer.minimize(() -> loss(images, labels, params), params).close();
                step.call(images).close();
            }
        }
    }

    private static Tensor loss(Tensor images, Tensor labels, List<Variable> p) {
        Tensor h = Functional.maxPool2d(Functional.conv2d(images, p.get(0), p.get(1), 1, "same").relu(), 2, 2);
        h = Functional.avgPool2d(Functional.conv2d(h, p.get(2), p.get(3), 1, "same").relu(), 2, 2);
        Tensor logits = h.reshape(16, 16 * 4 * 4).matmul(p.get(4)).add(p.get(5));
        return Functional.softmaxCrossEntropy(logits, labels);
    }

    public static void main(String[] args) {
        workload();
        System.out.println("workload done");
    }

    @Test
    void everyMethodOfTheLibraryCompilesWithC1() throws Exception {
        assumeTrue(VectorSupport.AVAILABLE, "no Vector API in this execution: nothing of it to compile");
        // the default execution's width (the host's preferred one, as users run) and 256 bits (AVX2) where the host
        // prefers more; above the host's the Vector API is never intrinsified, the narrower widths only test the
        // bits, and a width execution at the preferred width would repeat the default one (17 s a child JVM)
        boolean defaultExecution = VectorWidth.property().equals("preferred");
        int bits = VectorWidth.SHAPE.vectorBitSize();
        int preferred = VectorShape.preferredShape().vectorBitSize();
        assumeTrue(defaultExecution || (bits == 256 && preferred > 256),
                "C1 is checked in the default execution and at 256 bits where the host prefers more, not at " + bits
                        + " bits (the host prefers " + preferred + ")");
        List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "-XX:TieredStopAtLevel=3", "-Xbatch", "-XX:+PrintCompilation",
                "-Dnabla.cpu.species=" + (defaultExecution ? "preferred" : bits),
                "-cp", System.getProperty("java.class.path"), C1CompilationTest.class.getName());
        // the compilation log (megabytes) goes to a file: through a pipe, waiting for the child with a time limit
        // would need a second thread to drain it
        Path log = Files.createTempFile("nabla-c1", ".log");
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            boolean finished = p.waitFor(300, TimeUnit.SECONDS);
            if (!finished) {
                p.destroyForcibly();
            }
            String out = Files.readString(log, StandardCharsets.UTF_8);
            assertTrue(finished, "the child JVM finished within 300 s:\n" + out);
            assertEquals(0, p.exitValue(), out);
            assertTrue(out.contains("workload done"), out);
            List<String> compiled = out.lines().filter(l -> l.contains("dev.nabla.cpu.FloatGemm::microKernel"))
                    .toList();
            assertTrue(compiled.size() >= 2, "the GEMM kernels were compiled:\n" + String.join("\n", compiled));
            // "concurrent class loading" is retried by the JVM; every other reason is final for that tier
            List<String> skipped = out.lines().filter(l -> l.contains("dev.nabla.") && l.contains("COMPILE SKIPPED")
                    && !l.contains("concurrent class loading")).toList();
            assertEquals(List.of(), skipped, "methods C1 could not compile");
        } finally {
            Files.deleteIfExists(log);
        }
    }
}
