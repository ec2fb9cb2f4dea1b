package dev.nabla.bench;

import dev.nabla.DType;
import dev.nabla.GradientTape;
import dev.nabla.Nabla;
import dev.nabla.Rng;
import dev.nabla.Tensor;
import dev.nabla.Variable;
import dev.nabla.graph.TracedFunction;
import dev.nabla.nn.Functional;
import dev.nabla.optim.SGD;
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
 * W5 eager and traced: one SGD step of a 784→256 relu →10 MLP on a (128, 784) batch with softmax cross-entropy
 * (INT32 labels), the step (tape, loss, gradients, update) one {@code Nabla.function} in the traced variant.
 */
@Fork(jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class TracedMlpStepBench {
    private final Variable[] eagerVars = new Variable[4];
    private final Variable[] tracedVars = new Variable[4];
    private SGD eagerSgd;
    private SGD tracedSgd;
    private Tensor x;
    private Tensor labels;
    private TracedFunction step;

    private static Variable[] init(Variable[] v) {
        Rng rng = Rng.seeded(5);
        v[0] = new Variable(rng.normal(DType.FLOAT32, 784, 256).mul(0.05), "w1", true);
        v[1] = new Variable(Tensor.zeros(256), "b1", true);
        v[2] = new Variable(rng.normal(DType.FLOAT32, 256, 10).mul(0.05), "w2", true);
        v[3] = new Variable(Tensor.zeros(10), "b2", true);
        return v;
    }

    private static Tensor loss(Variable[] v, Tensor x, Tensor labels) {
        Tensor h = x.matmul(v[0]).add(v[1]).relu();
        return Functional.softmaxCrossEntropy(h.matmul(v[2]).add(v[3]), labels);
    }

    @Setup
    public void setUp() {
        init(eagerVars);
        init(tracedVars);
        eagerSgd = new SGD(0.01);
        tracedSgd = new SGD(0.01);
        x = Rng.seeded(6).uniform(0, 1, DType.FLOAT32, 128, 784);
        int[] l = new int[128];
        for (int i = 0; i < l.length; i++) {
            l[i] = i % 10;
        }
        labels = Tensor.of(l);
        step = Nabla.function((Tensor in, Tensor y) -> {
            try (GradientTape tape = new GradientTape()) {
                Tensor loss = loss(tracedVars, in, y);
                tracedSgd.applyGradients(tape.gradient(loss, List.of(tracedVars)), List.of(tracedVars));
                return loss;
            }
        });
        step.call(x, labels).close();
    }

    @Benchmark
    public float eager() {
        try (GradientTape tape = new GradientTape()) {
            Tensor loss = loss(eagerVars, x, labels);
            eagerSgd.applyGradients(tape.gradient(loss, List.of(eagerVars)), List.of(eagerVars));
            return loss.size();
        }
    }

    @Benchmark
    public float traced() {
        try (Tensor loss = step.call(x, labels)) {
            return loss.size();
        }
    }
}
