package dev.nabla.bench;

import dev.nabla.DType;
import dev.nabla.Device;
import dev.nabla.Tensor;
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
 * Sums of many short rows, where each row's fold of its 64 lanes ({@code SumOrder}) weighs as much as its additions:
 * a convolution's bias gradient, {@code g.sum(0, 2, 3)} over W7's output gradients (N, C, H, W) = (64, 32, 14, 14)
 * and (64, 16, 28, 28), rows of 196 and 784; and the same data summed whole, which folds once per 4096 elements.
 * Run: {@code java -jar benchmarks/target/benchmarks.jar ShortRowSumBench}.
 */
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class ShortRowSumBench {
    @Param({"64x32x14x14", "64x16x28x28"})
    public String shape;

    @Param({"FLOAT32", "FLOAT64"})
    public DType dtype;

    private Tensor g;

    @Setup
    public void setUp() {
        String[] parts = shape.split("x");
        long[] dims = new long[parts.length];
        int n = 1;
        for (int i = 0; i < parts.length; i++) {
            dims[i] = Long.parseLong(parts[i]);
            n *= (int) dims[i];
        }
        Random random = new Random(5);
        double[] v = new double[n];
        float[] f = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = random.nextGaussian();
            f[i] = (float) v[i];
        }
        g = dtype == DType.FLOAT32 ? Tensor.of(Device.cpu(), f, dims) : Tensor.of(Device.cpu(), v, dims);
    }

    @TearDown
    public void tearDown() {
        g.close();
    }

    /** The bias gradient: one sum per channel over images and pixels. */
    @Benchmark
    public double biasGradient() {
        try (Tensor s = g.sum(new int[] {0, 2, 3}, true)) {
            return s.toDoubleArray()[0];
        }
    }

    /** The same elements summed whole. */
    @Benchmark
    public double whole() {
        try (Tensor s = g.sum()) {
            return s.doubleItem();
        }
    }
}
