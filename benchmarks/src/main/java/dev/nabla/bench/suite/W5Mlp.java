package dev.nabla.bench.suite;

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
 * W5: one MLP training step: batch 128x784, dense 784->256 + bias, relu, dense 256->10 + bias, softmax
 * cross-entropy with the labels (mean), backward, SGD 0.1 on the four parameters.
 */
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class W5Mlp {
    private NablaWorkloads.Mlp mlp;

    @Setup
    public void setUp() {
        mlp = new NablaWorkloads.Mlp();
    }

    @Benchmark
    public float nabla() {
        return mlp.step();
    }

    /** The same step as a traced function ({@code Nabla.function}), replayed as an optimized plan. */
    @Benchmark
    public float nablaTraced() {
        return mlp.tracedStep();
    }
}
