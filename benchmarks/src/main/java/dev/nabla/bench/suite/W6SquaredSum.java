package dev.nabla.bench.suite;

import dev.nabla.Tensor;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * W6: {@code y = sum((A + b)^2)}, A 1024x1024, b 1024 broadcast along rows, and its gradients for A and b.
 * {@code nablaAsWritten} closes nothing and opens no scope (the garbage collector's path); {@code nablaScoped} runs in
 * a memory scope. The goal: as written within 1.3x of scoped.
 */
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class W6SquaredSum {
    private Tensor a;
    private Tensor b;

    @Setup
    public void setUp() {
        Tensor[] in = NablaWorkloads.w6Inputs();
        a = in[0];
        b = in[1];
        float[] x = a.toFloatArray();
        float[] v = b.toFloatArray();
        double y = 0;
        double db0 = 0;
        for (int i = 0; i < Data.SIDE; i++) {
            for (int j = 0; j < Data.SIDE; j++) {
                double s = x[i * Data.SIDE + j] + v[j];
                y += s * s;
                if (j == 0) {
                    db0 += 2 * s;
                }
            }
        }
        List<Tensor> r = NablaWorkloads.w6Body(a, b);
        Data.check("W6 nabla y", y, r.get(0).item(), 1e-5);
        Data.check("W6 nabla dA[0]", 2 * (x[0] + v[0]), r.get(1).toFloatArray()[0], 1e-6);
        Data.check("W6 nabla db[0]", db0, r.get(2).toFloatArray()[0], 1e-4);
    }

    @Benchmark
    public float nablaAsWritten() {
        return NablaWorkloads.w6(a, b, false);
    }

    @Benchmark
    public float nablaScoped() {
        return NablaWorkloads.w6(a, b, true);
    }
}
