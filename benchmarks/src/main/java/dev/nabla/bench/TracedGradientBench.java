package dev.nabla.bench;

import dev.nabla.GradientTape;
import dev.nabla.Nabla;
import dev.nabla.Tensor;
import dev.nabla.Variable;
import dev.nabla.graph.TracedFunction;
import dev.nabla.optim.SGD;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * The notebook's step (tape, loss, gradient, SGD) on a Variable of {@code n} elements: eager, and with the tape around
 * a traced loss, whose replay is one tape node and whose gradient is a traced backward (issue 10 §2). n = 1 is W1;
 * larger n shows the fused forward and backward against the op-by-op eager ones. {@code loss}: {@code poly} is the
 * notebook's {@code sum(x·x + x - 1)}, whose gradient reads no intermediate; {@code squash} is
 * {@code sum(sigmoid(tanh(x·x + x)·x))}, whose gradient reads the tanh and sigmoid outputs (saved by the traced
 * forward rather than recomputed by the backward).
 */
@Fork(jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class TracedGradientBench {
    @Param({"1", "1048576"})
    public int n;

    @Param({"poly", "squash"})
    public String loss;

    private Variable x;
    private SGD sgd;
    private Variable tx;
    private SGD tracedSgd;
    private TracedFunction traced;

    @Setup
    public void setUp() {
        float[] start = new float[n];
        java.util.Arrays.fill(start, 3f);
        x = Variable.of(start, n);
        sgd = new SGD(0.1);
        tx = Variable.of(start, n);
        tracedSgd = new SGD(0.1);
        traced = Nabla.function(() -> lossOf(tx));
        traced.call();
    }

    private Tensor lossOf(Tensor v) {
        return switch (loss) {
            case "poly" -> v.mul(v).add(v).sub(1).sum();
            case "squash" -> v.mul(v).add(v).tanh().mul(v).sigmoid().sum();
            default -> throw new IllegalArgumentException("loss " + loss);
        };
    }

    /** The eager step. */
    @Benchmark
    public Tensor eager() {
        Tensor l;
        GradientTape tape = new GradientTape();
        try (tape) {
            l = lossOf(x);
        }
        sgd.applyGradients(List.of(tape.gradient(l, x)), List.of(x));
        return l;
    }

    /** The tape around a call of the traced loss. */
    @Benchmark
    public Tensor tapeAroundCall() {
        Tensor l;
        GradientTape tape = new GradientTape();
        try (tape) {
            l = traced.call();
        }
        tracedSgd.applyGradients(List.of(tape.gradient(l, tx)), List.of(tx));
        return l;
    }
}
