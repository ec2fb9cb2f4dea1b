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
 * W7: one Adam training step of {@code ./nabla mnist}'s CNN (conv 3x3 1->16 same, relu, max-pool 2, conv 3x3 16->32
 * same, relu, max-pool 2, flatten, dense 1568->10) on a batch of 64.
 */
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class W7MnistCnn {
    private NablaWorkloads.Cnn cnn;

    @Setup
    public void setUp() {
        cnn = new NablaWorkloads.Cnn();
    }

    @Benchmark
    public float nabla() {
        return cnn.step();
    }

    /** The same step as a traced function ({@code Nabla.function}), replayed as an optimized plan. */
    @Benchmark
    public float nablaTraced() {
        return cnn.tracedStep();
    }
}
