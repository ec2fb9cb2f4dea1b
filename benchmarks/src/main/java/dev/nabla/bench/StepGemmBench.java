package dev.nabla.bench;

import dev.nabla.Device;
import dev.nabla.Tensor;
import dev.nabla.ops.LinearAlgebra;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The float32 GEMMs of W5's and W7's steps, each alone, with the transpose flags their gradients pass.
 * W5 (batch 128, 784 → 256 → 10): {@code fwd1} x·W1 (128×784·784×256), {@code dW1} xᵀ·g (784×128·128×256),
 * {@code fwd2} h·W2 (128×256·256×10), {@code dW2} hᵀ·g (256×128·128×10), {@code dH} g·W2ᵀ (128×10·10×256).
 * W7 (batch 64; conv 1 → 16 on 28×28, conv 16 → 32 on 14×14, both 3×3, as im2col products with the columns
 * (C·9, N·OH·OW)): {@code conv1} K1·cols1 (16×9·9×50176), {@code conv2} K2·cols2 (32×144·144×12544),
 * {@code dK1} g1·cols1ᵀ (16×50176·50176×9), {@code dK2} g2·cols2ᵀ (32×12544·12544×144), {@code dCols2} K2ᵀ·g2
 * (144×32·32×12544).
 * GFLOP/s = 2mkn / (µs · 1000).
 *
 * <p>{@code caches=cold} writes a 64 MiB array before each call, so that the operands come from memory as they do in
 * a training step, where the step's other ops have evicted them: hot, a product gets what it cannot have in the step
 * (one JVM, alternating: W7's {@code conv2} 0.78 ms hot against 1.07 cold; 1.15 in the traced step's JFR events).
 * Compare changes to the step's products cold as well as hot.
 */
@Fork(jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class StepGemmBench {
    /** Which product of which step. */
    @Param({"fwd1", "dW1", "fwd2", "dW2", "dH", "conv1", "conv2", "dK1", "dK2", "dCols2"})
    public String shape;

    /** "hot": the operands stay in cache from call to call; "cold": evicted before each call. */
    @Param({"hot", "cold"})
    public String caches;

    /** Written before each call when cold: twice the L3 of the hosts seen (32 MiB). */
    private float[] evictor;

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
            case "conv1" -> init(16, 9, false, 9, 50176, false);
            case "conv2" -> init(32, 144, false, 144, 12544, false);
            case "dK1" -> init(16, 50176, false, 9, 50176, true);
            case "dK2" -> init(32, 12544, false, 144, 12544, true);
            case "dCols2" -> init(32, 144, true, 32, 12544, false);
            default -> throw new IllegalArgumentException(shape);
        }
        evictor = caches.equals("cold") ? new float[16 << 20] : null;
    }

    /** Evicts the operands (cold only); not timed. */
    @Setup(Level.Invocation)
    public void evict() {
        if (evictor != null) {
            for (int i = 0; i < evictor.length; i += 16) {
                evictor[i]++;
            }
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
