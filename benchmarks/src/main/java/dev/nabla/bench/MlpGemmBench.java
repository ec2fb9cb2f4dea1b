package dev.nabla.bench;

import dev.nabla.Device;
import dev.nabla.Tensor;
import dev.nabla.ops.LinearAlgebra;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The five float32 GEMMs of W5's step (batch 128, 784 → 256 → 10), each alone, with the transpose flags its
 * gradient passes: {@code fwd1} x·W1 (128×784·784×256), {@code dW1} xᵀ·g (784×128·128×256), {@code fwd2}
 * h·W2 (128×256·256×10), {@code dW2} hᵀ·g (256×128·128×10), {@code dH} g·W2ᵀ (128×10·10×256).
 * GFLOP/s = 2mkn / (µs · 1000): fwd1 and dW1 are 51.4 MFLOP, fwd2, dW2 and dH 0.66 each.
 */
@Fork(jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class MlpGemmBench {
    /** Which product of the step. */
    @Param({"fwd1", "dW1", "fwd2", "dW2", "dH"})
    public String shape;

    private Tensor a;
    private Tensor b;
    private boolean ta;
    private boolean tb;

    @Setup
    public void setUp() {
        // stored shapes of the operands as the step holds them
        switch (shape) {
            case "fwd1" -> init(128, 784, false, 784, 256, false);
            case "dW1" -> init(128, 784, true, 128, 256, false);
            case "fwd2" -> init(128, 256, false, 256, 10, false);
            case "dW2" -> init(128, 256, true, 128, 10, false);
            case "dH" -> init(128, 10, false, 256, 10, true);
            default -> throw new IllegalArgumentException(shape);
        }
    }

    private void init(int ar, int ac, boolean ta, int br, int bc, boolean tb) {
        Random random = new Random(3);
        a = Tensor.of(Device.cpu(), values(random, ar * ac), ar, ac);
        b = Tensor.of(Device.cpu(), values(random, br * bc), br, bc);
        this.ta = ta;
        this.tb = tb;
    }

    private static float[] values(Random random, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = random.nextFloat() - 0.5f;
        }
        return v;
    }

    @TearDown
    public void tearDown() {
        a.close();
        b.close();
    }

    /** The product, result closed. */
    @Benchmark
    public long matmul() {
        try (Tensor c = LinearAlgebra.matmul(a, b, ta, tb)) {
            return c.size();
        }
    }
}
