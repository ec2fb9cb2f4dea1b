package dev.nabla.bench;

import dev.nabla.Nabla;
import dev.nabla.Rng;
import dev.nabla.DType;
import dev.nabla.Tensor;
import dev.nabla.graph.TracedFunction;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * {@code ((a*b + c) * d).relu()} on 2^24 float32: eager (four passes, four buffers), traced (one fused pass), and
 * a plain Java loop computing the same expression in one pass, single-threaded and split over as many threads as the
 * CPU backend uses ({@code nabla.cpu.threads}, default the processor count). {@code squaredSum*}: a chain ending in a
 * sum, {@code sum((a + c)^2)}, eager (three passes) and traced (one fused pass that sums as it goes).
 */
@Fork(jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class FusedExpressionBench {
    private static final int N = 1 << 24;
    private Tensor a;
    private Tensor b;
    private Tensor c;
    private Tensor d;
    private float[] fa;
    private float[] fb;
    private float[] fc;
    private float[] fd;
    private float[] out;
    private TracedFunction traced;
    private TracedFunction tracedSquaredSum;
    private ForkJoinPool pool;

    @Setup
    public void setUp() {
        Rng rng = Rng.seeded(1);
        a = rng.normal(DType.FLOAT32, N);
        b = rng.normal(DType.FLOAT32, N);
        c = rng.normal(DType.FLOAT32, N);
        d = rng.normal(DType.FLOAT32, N);
        fa = a.toFloatArray();
        fb = b.toFloatArray();
        fc = c.toFloatArray();
        fd = d.toFloatArray();
        out = new float[N];
        traced = Nabla.function((Tensor x, Tensor y) -> x.mul(y).add(c).mul(d).relu());
        traced.call(a, b).close();
        tracedSquaredSum = Nabla.function((Tensor x, Tensor y) -> x.add(y).square().sum());
        tracedSquaredSum.call(a, c).close();
        pool = new ForkJoinPool(Integer.getInteger("nabla.cpu.threads", Runtime.getRuntime().availableProcessors()));
    }

    @TearDown
    public void tearDown() {
        pool.shutdown();
    }

    @Benchmark
    public float eager() {
        try (Tensor ab = a.mul(b); Tensor abc = ab.add(c); Tensor abcd = abc.mul(d); Tensor r = abcd.relu()) {
            return r.evaluate().size();
        }
    }

    @Benchmark
    public float traced() {
        try (Tensor r = traced.call(a, b)) {
            return r.size();
        }
    }

    @Benchmark
    public float squaredSumEager() {
        try (Tensor s = a.add(c); Tensor q = s.square(); Tensor r = q.sum()) {
            return r.item();
        }
    }

    @Benchmark
    public float squaredSumTraced() {
        try (Tensor r = tracedSquaredSum.call(a, c)) {
            return r.item();
        }
    }

    @Benchmark
    public float[] javaLoop() {
        loop(fa, fb, fc, fd, out, 0, N);
        return out;
    }

    /** {@code Math.max(v, 0f)} is relu's definition (NaN stays NaN, -0 and -inf give +0) and branch-free. */
    private static void loop(float[] a, float[] b, float[] c, float[] d, float[] out, int lo, int hi) {
        for (int i = lo; i < hi; i++) {
            float v = (a[i] * b[i] + c[i]) * d[i];
            out[i] = Math.max(v, 0f);
        }
    }

    /** The same loop with {@code v > 0 ? v : 0f}: on random signs C2 keeps the branch, mispredicted half the time. */
    @Benchmark
    public float[] javaLoopTernary() {
        for (int i = 0; i < N; i++) {
            float v = (fa[i] * fb[i] + fc[i]) * fd[i];
            out[i] = v > 0 ? v : 0f;
        }
        return out;
    }

    @Benchmark
    public float[] javaLoopParallel() {
        int chunks = pool.getParallelism();
        int step = (N + chunks - 1) / chunks;
        pool.submit(() -> IntStream.range(0, chunks).parallel()
                .forEach(k -> loop(fa, fb, fc, fd, out, k * step, Math.min(N, (k + 1) * step)))).join();
        return out;
    }
}
