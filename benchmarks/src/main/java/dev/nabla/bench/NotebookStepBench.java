package dev.nabla.bench;

import dev.nabla.GradientTape;
import dev.nabla.Nabla;
import dev.nabla.Tensor;
import dev.nabla.Variable;
import dev.nabla.optim.SGD;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * One step of the notebook's training loop on a scalar: record {@code x·x + x - 1} on a tape, take the gradient,
 * apply SGD. Everything here is per-op overhead (tape, shapes, dispatch, allocation), not arithmetic. {@code check}
 * runs it with {@code Nabla.checkNumerics} off (the default: one volatile read per op) and on (a device reduction, a
 * read back and a stack walk per op), in one run.
 */
// the Vector API is an incubator module: every forked JVM needs it
@Fork(jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class NotebookStepBench {
    @Param({"off", "on"})
    public String check;

    private Variable x;
    private SGD sgd;

    @Setup
    public void setUp() {
        Nabla.checkNumerics(check.equals("on"));
        x = Variable.of(3f);
        sgd = new SGD(0.1);
    }

    @TearDown
    public void tearDown() {
        Nabla.checkNumerics(false);
    }

    /** Forward on a tape, backward, SGD update. */
    @Benchmark
    public Variable step() {
        Tensor loss;
        GradientTape tape = new GradientTape();
        try (tape) {
            loss = x.mul(x).add(x).sub(1);
        }
        // as in TF, the gradient is taken after the recording block ends
        Tensor g = tape.gradient(loss, x);
        sgd.applyGradients(List.of(g), List.of(x));
        return x;
    }
}
