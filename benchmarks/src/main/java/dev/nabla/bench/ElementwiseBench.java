package dev.nabla.bench;

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
 * {@code add}, {@code sum} and {@code exp} of float32 tensors through the public API, each beside the plain Java
 * loop over reused arrays that it should come close to. The add result is closed every invocation, so its array goes back
 * to the CPU backend's pool and the next add reuses it (no fresh page faults).
 */
// the Vector API is an incubator module: every forked JVM needs it
@Fork(jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class ElementwiseBench {
    /** Elements per operand; 2^24 is the size, smaller sizes show the per-op overhead and threshold. */
    @Param({"16777216"})
    public int size;

    private float[] a;
    private float[] b;
    private float[] c;
    private Tensor ta;
    private Tensor tb;

    @Setup
    public void setUp() {
        Random random = new Random(1);
        a = new float[size];
        b = new float[size];
        c = new float[size];
        for (int i = 0; i < size; i++) {
            a[i] = random.nextFloat();
            b[i] = random.nextFloat();
        }
        ta = Tensor.of(Device.cpu(), a, size);
        tb = Tensor.of(Device.cpu(), b, size);
    }

    @TearDown
    public void tearDown() {
        ta.close();
        tb.close();
    }

    /** Nabla: {@code a.add(b)}, result closed. */
    @Benchmark
    public long addNabla() {
        try (Tensor sum = ta.add(tb)) {
            return sum.evaluate().size();
        }
    }

    /** The baseline: one thread, {@code c[i] = a[i] + b[i]} (C2 auto-vectorizes it). */
    @Benchmark
    public float[] addLoop() {
        float[] x = a;
        float[] y = b;
        float[] z = c;
        for (int i = 0; i < z.length; i++) {
            z[i] = x[i] + y[i];
        }
        return z;
    }

    /** Nabla: {@code a.sum()} read back as a float. */
    @Benchmark
    public float sumNabla() {
        try (Tensor s = ta.sum()) {
            return s.item();
        }
    }

    /** The baseline: one thread, a float running sum (strict FP order keeps C2 from vectorizing it). */
    @Benchmark
    public float sumLoop() {
        float s = 0;
        for (float v : a) {
            s += v;
        }
        return s;
    }

    /** Nabla: {@code a.exp()}, result closed: StrictMath's bits in vector lanes ({@code StrictExpLanes}). */
    @Benchmark
    public long expNabla() {
        try (Tensor e = ta.exp()) {
            return e.evaluate().size();
        }
    }

    /** The baseline: one thread, {@code c[i] = (float) Math.exp(a[i])} (HotSpot's exp intrinsic, not vectorized). */
    @Benchmark
    public float[] expLoop() {
        float[] x = a;
        float[] z = c;
        for (int i = 0; i < z.length; i++) {
            z[i] = (float) Math.exp(x[i]);
        }
        return z;
    }
}
