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

/**
 * W2: {@code a*b + a} over two 2^24-element float32 tensors, a fresh output each iteration. {@code nabla} is
 * written as a new user would (nothing closed: the garbage collector returns the buffers), {@code nablaScoped} in a
 * memory scope; {@code javaLoop} is one thread's one-pass loop over reused arrays.
 */
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@State(org.openjdk.jmh.annotations.Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class W2MulAdd {
    private float[] a;
    private float[] b;
    private float[] c;
    private Tensor ta;
    private Tensor tb;

    @Setup
    public void setUp() {
        a = Data.uniform(21, Data.N, 0, 1);
        b = Data.uniform(22, Data.N, 0, 1);
        c = new float[Data.N];
        ta = Tensor.of(Device.cpu(), a, Data.N);
        tb = Tensor.of(Device.cpu(), b, Data.N);
        float[] r = ta.mul(tb).add(ta).toFloatArray();
        for (int i = 0; i < Data.N; i += 4099) {
            Data.check("W2 nabla element " + i, a[i] * b[i] + a[i], r[i], 0);
        }
    }

    @TearDown
    public void tearDown() {
        ta.close();
        tb.close();
    }

    @Benchmark
    public Tensor nabla() {
        return ta.mul(tb).add(ta);
    }

    @Benchmark
    public long nablaScoped() {
        try (Scope s = Nabla.scope()) {
            return ta.mul(tb).add(ta).size();
        }
    }

    @Benchmark
    public float[] javaLoop() {
        float[] x = a;
        float[] y = b;
        float[] z = c;
        for (int i = 0; i < z.length; i++) {
            z[i] = x[i] * y[i] + x[i];
        }
        return z;
    }
}
