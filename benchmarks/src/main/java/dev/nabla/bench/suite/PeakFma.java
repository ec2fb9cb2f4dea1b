package dev.nabla.bench.suite;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The host's float32 FMA peak as plain Java reaches it: every core runs {@link #ITERATIONS} rounds of 12 independent
 * Vector API FMAs on registers. GFLOP/s = {@link #flops()} / time.
 */
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@State(org.openjdk.jmh.annotations.Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class PeakFma {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int ITERATIONS = 2_000_000;
    static final int THREADS = Runtime.getRuntime().availableProcessors();
    private ExecutorService pool;

    /** Flops one invocation performs. */
    public static double flops() {
        return 2.0 * 12 * S.length() * (double) ITERATIONS * THREADS;
    }

    @Setup
    public void setUp() {
        pool = Executors.newFixedThreadPool(THREADS, r -> {
            Thread t = new Thread(r, "peak-fma");
            t.setDaemon(true);
            return t;
        });
    }

    @TearDown
    public void tearDown() {
        pool.shutdown();
    }

    @Benchmark
    public float fma() throws Exception {
        @SuppressWarnings("unchecked")
        Future<Float>[] parts = new Future[THREADS];
        for (int t = 0; t < THREADS; t++) {
            float seed = t + 1;
            parts[t] = pool.submit(() -> run(seed));
        }
        float s = 0;
        for (Future<Float> f : parts) {
            s += f.get();
        }
        return s;
    }

    static float run(float seed) {
        FloatVector m = FloatVector.broadcast(S, 0.999999f);
        FloatVector c = FloatVector.broadcast(S, 1e-7f);
        FloatVector a0 = FloatVector.broadcast(S, seed), a1 = a0.add(1), a2 = a0.add(2), a3 = a0.add(3);
        FloatVector a4 = a0.add(4), a5 = a0.add(5), a6 = a0.add(6), a7 = a0.add(7);
        FloatVector a8 = a0.add(8), a9 = a0.add(9), a10 = a0.add(10), a11 = a0.add(11);
        for (int i = 0; i < ITERATIONS; i++) {
            a0 = a0.fma(m, c); a1 = a1.fma(m, c); a2 = a2.fma(m, c); a3 = a3.fma(m, c);
            a4 = a4.fma(m, c); a5 = a5.fma(m, c); a6 = a6.fma(m, c); a7 = a7.fma(m, c);
            a8 = a8.fma(m, c); a9 = a9.fma(m, c); a10 = a10.fma(m, c); a11 = a11.fma(m, c);
        }
        return a0.add(a1).add(a2).add(a3).add(a4).add(a5).add(a6).add(a7).add(a8).add(a9).add(a10).add(a11)
                .reduceLanes(VectorOperators.ADD);
    }
}
