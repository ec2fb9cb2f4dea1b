package dev.nabla.bench;

import dev.nabla.Nabla;
import dev.nabla.Tensor;
import dev.nabla.Variable;
import dev.nabla.bench.suite.NablaWorkloads;
import dev.nabla.graph.TracedFunction;
import dev.nabla.optim.SGD;
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
 * W1 traced: the notebook's training step (tape, {@code x·x + x - 1}, gradient, SGD) eager and as one
 * {@code Nabla.function} whose body holds the tape and the update, so every call replays the planned graph. The tape
 * around a traced loss (one tape node, a traced backward) is {@link TracedGradientBench}'s.
 */
@Fork(jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class TracedStepBench {
    private Variable x;
    private SGD sgd;
    private Variable tx;
    private SGD tracedSgd;
    private TracedFunction step;

    @Setup
    public void setUp() {
        x = Variable.of(3f);
        sgd = new SGD(0.1);
        tx = Variable.of(3f);
        tracedSgd = new SGD(0.1);
        step = Nabla.function(() -> NablaWorkloads.notebookStep(tx, tracedSgd));
        step.call();
    }

    /** The eager step, as NotebookStepBench. */
    @Benchmark
    public Tensor eager() {
        return NablaWorkloads.notebookStep(x, sgd);
    }

    /** The same step traced. */
    @Benchmark
    public Tensor traced() {
        return step.call();
    }
}
