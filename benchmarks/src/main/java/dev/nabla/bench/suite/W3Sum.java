package dev.nabla.bench.suite;

import dev.nabla.Device;
import dev.nabla.Tensor;
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
 * W3: {@code sum} of 2^24 float32 read back as a number. {@code javaVector2T} is the plain reference the goal names:
 * two threads, each summing its half with the Vector API's preferred species in four accumulators.
 */
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@State(org.openjdk.jmh.annotations.Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class W3Sum {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private float[] a;
    private Tensor ta;
    private ExecutorService pool;

    @Setup
    public void setUp() {
        a = Data.uniform(31, Data.N, 0, 1);
        ta = Tensor.of(Device.cpu(), a, Data.N);
        pool = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "W3-sum");
            t.setDaemon(true);
            return t;
        });
        double exact = 0;
        for (float v : a) {
            exact += v;
        }
        Data.check("W3 nabla sum", exact, nabla(), 1e-6);
        Data.check("W3 javaVector2T sum", exact, javaVector2T(), 1e-5);
    }

    @TearDown
    public void tearDown() {
        ta.close();
        pool.shutdown();
    }

    @Benchmark
    public float nabla() {
        return ta.sum().item();
    }

    @Benchmark
    public float javaVector2T() {
        int half = (a.length / 2) / S.length() * S.length();
        try {
            Future<Float> first = pool.submit(() -> vectorSum(a, 0, half));
            Future<Float> second = pool.submit(() -> vectorSum(a, half, a.length));
            return first.get() + second.get();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static float vectorSum(float[] x, int from, int to) {
        FloatVector s0 = FloatVector.zero(S);
        FloatVector s1 = FloatVector.zero(S);
        FloatVector s2 = FloatVector.zero(S);
        FloatVector s3 = FloatVector.zero(S);
        int l = S.length();
        int i = from;
        for (; i + 4 * l <= to; i += 4 * l) {
            s0 = s0.add(FloatVector.fromArray(S, x, i));
            s1 = s1.add(FloatVector.fromArray(S, x, i + l));
            s2 = s2.add(FloatVector.fromArray(S, x, i + 2 * l));
            s3 = s3.add(FloatVector.fromArray(S, x, i + 3 * l));
        }
        float s = s0.add(s1).add(s2.add(s3)).reduceLanes(VectorOperators.ADD);
        for (; i < to; i++) {
            s += x[i];
        }
        return s;
    }
}
