package dev.nabla.bench;

import dev.nabla.DType;
import dev.nabla.Device;
import dev.nabla.Tensor;
import dev.nabla.backend.BinaryOp;
import dev.nabla.backend.UnaryOp;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.function.DoubleUnaryOperator;
import java.util.function.UnaryOperator;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The transcendentals through the public API, which the CPU computes in vector lanes with StrictMath's exact bits
 * ({@code Strict*Lanes}), beside the ops' scalar definitions ({@code UnaryOp}, {@code BinaryOp}: StrictMath) over the
 * same values on one thread, which is what every element cost before. {@code pow2} is {@code x.pow(2)}, one multiply
 * in fdlibm; {@code pow3} (negative bases, an odd exponent) and {@code pow1.5} take its general path
 * ({@code StrictPowLanes}). Run: {@code java -jar benchmarks/target/benchmarks.jar TranscendentalBench}.
 */
// the Vector API is an incubator module: every forked JVM needs it
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class TranscendentalBench {
    @Param({"exp", "log", "tanh", "sin", "cos", "sigmoid", "pow2", "pow3", "pow1.5"})
    public String op;

    @Param({"FLOAT32", "FLOAT64"})
    public DType dtype;

    @Param({"1048576"})
    public int size;

    private double[] values;
    private double[] results;
    private Tensor x;
    private UnaryOperator<Tensor> tensorOp;
    private DoubleUnaryOperator scalarOp;

    @Setup
    public void setUp() {
        Random random = new Random(3);
        values = new double[size];
        results = new double[size];
        for (int i = 0; i < size; i++) {
            // positive for log, a few units wide for the others: every branch of the common range
            values[i] = op.equals("log") || op.equals("pow1.5") ? random.nextDouble() * 10 + 1e-3
                    : random.nextGaussian() * 3;
        }
        Tensor doubles = Tensor.of(Device.cpu(), values, size);
        x = dtype == DType.FLOAT64 ? doubles : doubles.to(dtype);
        tensorOp = switch (op) {
            case "exp" -> Tensor::exp;
            case "log" -> Tensor::log;
            case "tanh" -> Tensor::tanh;
            case "sin" -> Tensor::sin;
            case "cos" -> Tensor::cos;
            case "sigmoid" -> Tensor::sigmoid;
            case "pow2" -> t -> t.pow(2);
            case "pow3" -> t -> t.pow(3);
            case "pow1.5" -> t -> t.pow(1.5);
            default -> throw new IllegalArgumentException(op);
        };
        scalarOp = switch (op) {
            case "exp" -> StrictMath::exp;
            case "log" -> StrictMath::log;
            case "tanh" -> StrictMath::tanh;
            case "sin" -> StrictMath::sin;
            case "cos" -> StrictMath::cos;
            case "sigmoid" -> UnaryOp.SIGMOID::apply;
            case "pow2" -> v -> BinaryOp.POW.apply(v, 2);
            case "pow3" -> v -> BinaryOp.POW.apply(v, 3);
            case "pow1.5" -> v -> BinaryOp.POW.apply(v, 1.5);
            default -> throw new IllegalArgumentException(op);
        };
    }

    @TearDown
    public void tearDown() {
        x.close();
    }

    /** Nabla: the op on the whole tensor, result closed (its buffer goes back to the pool). */
    @Benchmark
    public long nabla() {
        try (Tensor y = tensorOp.apply(x)) {
            return y.evaluate().size();
        }
    }

    /** The scalar definition over the same values, one thread. */
    @Benchmark
    public double[] scalarLoop() {
        double[] in = values;
        double[] out = results;
        for (int i = 0; i < out.length; i++) {
            out[i] = scalarOp.applyAsDouble(in[i]);
        }
        return out;
    }
}
