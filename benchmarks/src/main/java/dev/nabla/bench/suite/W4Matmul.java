package dev.nabla.bench.suite;

import dev.nabla.Device;
import dev.nabla.Nabla;
import dev.nabla.Scope;
import dev.nabla.Tensor;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/** W4: a 1024x1024x1024 float32 matmul ({@code 2^31} flops); see {@link PeakFma} for the host's FMA peak. */
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@State(org.openjdk.jmh.annotations.Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class W4Matmul {
    public static final double FLOPS = 2.0 * Data.SIDE * Data.SIDE * Data.SIDE;
    private Tensor a;
    private Tensor b;

    @Setup
    public void setUp() {
        float[] x = Data.uniform(41, Data.SIDE * Data.SIDE, -1, 1);
        float[] y = Data.uniform(42, Data.SIDE * Data.SIDE, -1, 1);
        a = Tensor.of(Device.cpu(), x, Data.SIDE, Data.SIDE);
        b = Tensor.of(Device.cpu(), y, Data.SIDE, Data.SIDE);
        float[] c = a.matmul(b).toFloatArray();
        for (int i = 0; i < Data.SIDE; i += 97) {
            int j = (i * 31) % Data.SIDE;
            double ref = 0;
            for (int k = 0; k < Data.SIDE; k++) {
                ref += (double) x[i * Data.SIDE + k] * y[k * Data.SIDE + j];
            }
            Data.check("W4 nabla c[" + i + "][" + j + "]", ref, c[i * Data.SIDE + j], 1e-3);
        }
    }

    @TearDown
    public void tearDown() {
        a.close();
        b.close();
    }

    @Benchmark
    public Tensor nabla() {
        return a.matmul(b);
    }

    @Benchmark
    public long nablaScoped() {
        try (Scope s = Nabla.scope()) {
            return a.matmul(b).size();
        }
    }
}
