package dev.nabla.bench.peers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.nabla.bench.suite.Data;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/** W1 for the peers (see {@code W1Notebook}); each checks its x after 30 steps against Nabla's. */
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Dai.djl.offline=true"})
@State(Scope.Thread)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class W1NotebookPeers {
    private NDManager manager;
    private NDArray x;
    private Tf.Notebook tf;

    @Setup
    public void setUp() {
        manager = Djl.manager();
        x = manager.create(3f);
        x.setRequiresGradient(true);
        tf = new Tf.Notebook();
        float expected = Data.notebookX(Data.NOTEBOOK_STEPS);
        Data.check("W1 djl x after 30 steps", expected, Djl.notebook(manager, x, Data.NOTEBOOK_STEPS), 1e-5);
        Data.check("W1 tf x after 30 steps", expected, tf.run(Data.NOTEBOOK_STEPS), 1e-5);
    }

    @TearDown
    public void tearDown() {
        tf.close();
        manager.close();
    }

    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OperationsPerInvocation(Data.NOTEBOOK_STEPS)
    public float warmDjl() {
        return Djl.notebook(manager, x, Data.NOTEBOOK_STEPS);
    }

    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OperationsPerInvocation(Data.NOTEBOOK_STEPS)
    public float warmTf() {
        return tf.run(Data.NOTEBOOK_STEPS);
    }

    @Benchmark
    @BenchmarkMode(Mode.SingleShotTime)
    @Warmup(iterations = 0)
    @Measurement(iterations = 1)
    @Fork(value = 3, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Dai.djl.offline=true"})
    @OperationsPerInvocation(Data.COLD_STEPS)
    public float coldDjl() {
        float last = 0;
        for (int i = 0; i < Data.COLD_STEPS / Data.NOTEBOOK_STEPS; i++) {
            last = Djl.notebook(manager, x, Data.NOTEBOOK_STEPS);
        }
        return last;
    }

    @Benchmark
    @BenchmarkMode(Mode.SingleShotTime)
    @Warmup(iterations = 0)
    @Measurement(iterations = 1)
    @Fork(value = 3, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Dai.djl.offline=true"})
    @OperationsPerInvocation(Data.COLD_STEPS)
    public float coldTf() {
        float last = 0;
        for (int i = 0; i < Data.COLD_STEPS / Data.NOTEBOOK_STEPS; i++) {
            last = tf.run(Data.NOTEBOOK_STEPS);
        }
        return last;
    }
}
