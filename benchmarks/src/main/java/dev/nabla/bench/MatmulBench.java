package dev.nabla.bench;

import dev.nabla.DType;
import dev.nabla.Device;
import dev.nabla.Tensor;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Square float32 and float64 matmul (FLOAT64 at half the lanes, so about half the speed). GFLOP/s = 2·n³ / (ms · 10^6); for n = 1024 that is 2147.5 / ms. The CPU backend's thread
 * count comes from {@code -Dnabla.cpu.threads} (pass it with {@code -jvmArgsAppend}).
 */
// the Vector API is an incubator module: every forked JVM needs it
@Fork(jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class MatmulBench {
    /** Rows = inner = columns. */
    @Param({"1024"})
    public int n;

    /** FLOAT32 or FLOAT64. */
    @Param({"FLOAT32", "FLOAT64"})
    public DType dtype;

    private Tensor a;
    private Tensor b;

    @Setup
    public void setUp() {
        Random random = new Random(2);
        double[] x = new double[n * n];
        double[] y = new double[n * n];
        for (int i = 0; i < x.length; i++) {
            x[i] = random.nextFloat() - 0.5f;
            y[i] = random.nextFloat() - 0.5f;
        }
        a = of(x);
        b = of(y);
    }

    /** The values (floats, exact in either dtype) as an (n, n) tensor of {@link #dtype}. */
    private Tensor of(double[] values) {
        Tensor doubles = Tensor.of(Device.cpu(), values, n, n);
        if (dtype == DType.FLOAT64) {
            return doubles;
        }
        try (doubles) {
            return doubles.to(dtype);
        }
    }

    @TearDown
    public void tearDown() {
        a.close();
        b.close();
    }

    /** {@code a.matmul(b)}, result closed. */
    @Benchmark
    public long matmul() {
        try (Tensor c = a.matmul(b)) {
            return c.size();
        }
    }
}
