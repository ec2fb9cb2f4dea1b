package dev.nabla.bench.suite;

import dev.nabla.Variable;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * W1, the notebook step: {@code x = Variable(3.0)}; 30 steps of tape, {@code y = x*x + x - 1}, gradient,
 * {@code x -= 0.1 g}. Reported in µs per step: {@code warm} after JMH's warm-up, {@code cold} over the first 600
 * steps of a fresh JVM (one shot per fork).
 */
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@State(Scope.Thread)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class W1Notebook {
    private Variable x;

    @Setup
    public void setUp() {
        x = Variable.of(3f);
        Data.check("W1 nabla x after 30 steps", Data.notebookX(Data.NOTEBOOK_STEPS),
                NablaWorkloads.notebook(x, Data.NOTEBOOK_STEPS), 1e-6);
    }

    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OperationsPerInvocation(Data.NOTEBOOK_STEPS)
    public float warmNabla() {
        return NablaWorkloads.notebook(x, Data.NOTEBOOK_STEPS);
    }

    @Benchmark
    @BenchmarkMode(Mode.SingleShotTime)
    @Warmup(iterations = 0)
    @Measurement(iterations = 1)
    @Fork(value = 3, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
    @OperationsPerInvocation(Data.COLD_STEPS)
    public float coldNabla() {
        float last = 0;
        for (int i = 0; i < Data.COLD_STEPS / Data.NOTEBOOK_STEPS; i++) {
            last = NablaWorkloads.notebook(x, Data.NOTEBOOK_STEPS);
        }
        return last;
    }
}
