package dev.nabla.bench.suite;

import dev.nabla.Device;
import dev.nabla.Nabla;
import dev.nabla.Scope;
import dev.nabla.Tensor;
import dev.nabla.graph.TracedFunction;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
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
 * W2: {@code a*b + a} over two 2^24-element float32 tensors, a fresh output each iteration, its values computed
 * ({@code evaluate()}: eager element-wise ops on large tensors are deferred until read, and the two run as one pass).
 * {@code nabla} is written as a new user would (nothing closed: the garbage collector returns the buffers),
 * {@code nablaScoped} in a memory scope, {@code nablaTraced} as one {@code Nabla.function} (one fused pass); {@code javaLoop} is one thread's
 * one-pass loop over reused arrays, and {@code javaTwoPass} the floor of any library that runs the two ops one after
 * the other: {@code t = a*b}, then {@code a*b + a = t + a}, each pass split over two threads, into reused arrays.
 */
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@State(org.openjdk.jmh.annotations.Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class W2MulAdd {
    private float[] a;
    private float[] b;
    private float[] c;
    private float[] t;
    private Tensor ta;
    private Tensor tb;
    private TracedFunction traced;
    private ExecutorService pool;

    @Setup
    public void setUp() {
        a = Data.uniform(21, Data.N, 0, 1);
        b = Data.uniform(22, Data.N, 0, 1);
        c = new float[Data.N];
        t = new float[Data.N];
        pool = Executors.newFixedThreadPool(2, r -> {
            Thread th = new Thread(r, "W2-two-pass");
            th.setDaemon(true);
            return th;
        });
        traced = Nabla.function((Tensor x, Tensor y) -> x.mul(y).add(x));
        ta = Tensor.of(Device.cpu(), a, Data.N);
        tb = Tensor.of(Device.cpu(), b, Data.N);
        float[] r = ta.mul(tb).add(ta).toFloatArray();
        for (int i = 0; i < Data.N; i += 4099) {
            Data.check("W2 nabla element " + i, a[i] * b[i] + a[i], r[i], 0);
        }
        float[] f;
        try (Tensor ft = traced.call(ta, tb)) {
            f = ft.toFloatArray();
        }
        float[] two = javaTwoPass();
        for (int i = 0; i < Data.N; i += 4099) {
            Data.check("W2 traced element " + i, r[i], f[i], 0);
            Data.check("W2 javaTwoPass element " + i, r[i], two[i], 0);
        }
    }

    @TearDown
    public void tearDown() {
        ta.close();
        tb.close();
        pool.shutdown();
    }

    @Benchmark
    public Tensor nabla() {
        return ta.mul(tb).add(ta).evaluate();
    }

    @Benchmark
    public long nablaScoped() {
        try (Scope s = Nabla.scope()) {
            return ta.mul(tb).add(ta).evaluate().size();
        }
    }

    @Benchmark
    public long nablaTraced() {
        try (Tensor r = traced.call(ta, tb)) {
            return r.size();
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

    @Benchmark
    public float[] javaTwoPass() {
        halves((lo, hi) -> {
            for (int i = lo; i < hi; i++) {
                t[i] = a[i] * b[i];
            }
        });
        halves((lo, hi) -> {
            for (int i = lo; i < hi; i++) {
                c[i] = t[i] + a[i];
            }
        });
        return c;
    }

    private interface Range {
        void run(int lo, int hi);
    }

    /** Runs {@code body} over the two halves of the index range on the pool's two threads. */
    private void halves(Range body) {
        int half = Data.N / 2;
        try {
            Future<?> first = pool.submit(() -> body.run(0, half));
            Future<?> second = pool.submit(() -> body.run(half, Data.N));
            first.get();
            second.get();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
