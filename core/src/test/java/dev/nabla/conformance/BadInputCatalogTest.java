package dev.nabla.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.nabla.DType;
import dev.nabla.Device;
import dev.nabla.GradientTape;
import dev.nabla.Nabla;
import dev.nabla.OutOfDeviceMemoryException;
import dev.nabla.Rng;
import dev.nabla.Shape;
import dev.nabla.Tensor;
import dev.nabla.Variable;
import dev.nabla.check.GradientChecker;
import dev.nabla.io.Checkpoint;
import dev.nabla.io.CheckpointFormatException;
import dev.nabla.nn.BatchNorm;
import dev.nabla.nn.Conv2d;
import dev.nabla.nn.Dense;
import dev.nabla.nn.Dropout;
import dev.nabla.nn.Functional;
import dev.nabla.nn.MaxPool2d;
import dev.nabla.nn.Relu;
import dev.nabla.nn.Sequential;
import dev.nabla.optim.Adagrad;
import dev.nabla.optim.Adam;
import dev.nabla.optim.AdamW;
import dev.nabla.optim.LearningRateSchedule;
import dev.nabla.optim.RMSprop;
import dev.nabla.optim.SGD;
import dev.nabla.summary.SummaryWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The bad input catalogue: one row per bad call across the public API, each with the exception it must throw and
 * substrings its message must contain (at least the op's name, and both shapes as tuples for shape mismatches).
 * Every row runs on every configured device.
 *
 * <p>The conventions the library follows, and these rows check:
 * <ul>
 * <li><b>null</b> where a value is required throws {@link NullPointerException} (Java's convention, as
 *     {@code Objects.requireNonNull}) with the message {@code "<op>: argument <name> is null"}; a null element of a
 *     list, array or map argument is {@code "<op>: argument <name>[<index or 'key'>] is null"}, and a user function
 *     returning null is {@code "<op>: <function> returned null"}. All come from {@code dev.nabla.ops.Checks}.</li>
 * <li>use of a <b>closed</b> tensor throws {@link IllegalStateException} naming the op the caller called and saying
 *     {@code "after close()"}.</li>
 * <li>wrong <b>shapes, axes, dtypes, sizes</b> (negative, or too many elements to count or to allocate) and
 *     mismatched lists throw {@link IllegalArgumentException} naming the op, the shapes as tuples, the dtypes.</li>
 * <li>bad <b>hyperparameters</b> throw {@link IllegalArgumentException} when set, naming the class
 *     ({@code SGD}, {@code Adam}, {@code Dense}...), the parameter and the value.</li>
 * </ul>
 */
class BadInputCatalogTest {
    /** What a row's call gets: the device under test and a fresh temporary folder. */
    record Ctx(Device d, Path dir) {
        Tensor m23() {
            return Tensor.zeros(d, 2, 3);
        }

        Tensor v3() {
            return Tensor.of(d, new float[] {1, 2, 3});
        }

        Tensor closed() {
            Tensor t = Tensor.of(d, new float[] {1, 2, 3});
            t.close();
            return t;
        }

        Rng rng() {
            return Rng.seeded(7);
        }
    }

    @FunctionalInterface
    interface Call {
        void run(Ctx c) throws Throwable;
    }

    /**
     * One bad call: {@code type} and {@code parts} are what it must throw; {@code cudaType} and {@code cudaParts},
     * when set, replace them on a CUDA device (allocations a CPU buffer cannot hold but a GPU tries and fails).
     */
    record Row(String description, Class<? extends Throwable> type, Call call, List<String> parts,
            Class<? extends Throwable> cudaType, List<String> cudaParts) {
        Row onCuda(Class<? extends Throwable> t, String... p) {
            return new Row(description, type, call, parts, t, List.of(p));
        }

        @Override
        public String toString() {
            return description;
        }
    }

    private static Row row(String description, Class<? extends Throwable> type, Call call, String... parts) {
        return new Row(description, type, call, List.of(parts), null, null);
    }

    private static final Class<IllegalArgumentException> IAE = IllegalArgumentException.class;
    private static final Class<IllegalStateException> ISE = IllegalStateException.class;
    private static final Class<NullPointerException> NPE = NullPointerException.class;

    static final List<Row> ROWS = List.of(
        // ---- creation --------------------------------------------------------------------------------------
        row("zeros whose size overflows a long", IAE, c -> Tensor.zeros(1L << 40, 1L << 40),
                "zeros", "(1099511627776, 1099511627776)"),
        row("zeros on a device, size overflowing a long", IAE, c -> Tensor.zeros(c.d(), 1L << 40, 1L << 40),
                "zeros", "(1099511627776, 1099511627776)"),
        row("zeros larger than one buffer", IAE, c -> Tensor.zeros(c.d(), 1L << 20, 1L << 20),
                "zeros", "(1048576, 1048576)").onCuda(OutOfDeviceMemoryException.class, "out of memory"),
        row("ones with a negative dimension", IAE, c -> Tensor.ones(c.d(), 2, -3), "ones", "(2, -3)", "negative"),
        row("full with a null dtype", NPE, c -> Tensor.full(c.d(), 1, null, 2), "full", "argument dtype is null"),
        row("zeros with a null shape array", NPE, c -> Tensor.zeros(c.d(), (long[]) null),
                "zeros", "argument shape is null"),
        row("zeros on a null device", NPE, c -> Tensor.zeros((Device) null, 2), "zeros", "argument device is null"),
        row("of with null data", NPE, c -> Tensor.of(c.d(), (float[]) null), "of", "argument data is null"),
        row("of with data that do not fill the shape", IAE, c -> Tensor.of(c.d(), new float[] {1, 2, 3}, 2, 2),
                "of", "3", "(2, 2)"),
        row("of with a shape whose size overflows", IAE,
                c -> Tensor.of(c.d(), new float[] {1}, 1L << 32, 1L << 32), "of", "(4294967296, 4294967296)"),
        row("of with ragged rows", IAE, c -> Tensor.of(c.d(), new float[][] {{1, 2}, {3}}), "of", "ragged"),
        row("of with a null row", NPE, c -> Tensor.of(c.d(), new float[][] {{1}, null}),
                "of", "argument rows[1] is null"),
        row("arange of a negative count", IAE, c -> Tensor.arange(c.d(), -1), "arange", "-1"),
        row("normal with a negative dimension", IAE, c -> c.rng().normal(c.d(), DType.FLOAT32, 3, -1),
                "normal", "(3, -1)"),
        row("normal of int32", IAE, c -> c.rng().normal(c.d(), DType.INT32, 2), "normal", "int32"),
        row("uniform with lo above hi", IAE, c -> c.rng().uniform(c.d(), 2, 1, DType.FLOAT32, 3), "uniform"),
        row("uniform with a NaN bound", IAE, c -> c.rng().uniform(c.d(), 0, Double.NaN, DType.FLOAT32, 3),
                "uniform", "NaN"),
        row("Shape.of whose size overflows a long", IAE, c -> Shape.of(1L << 40, 1L << 40),
                "Shape.of", "(1099511627776, 1099511627776)"),
        row("Shape.dim of an axis out of range", IAE, c -> Shape.of(2, 3).dim(2), "dim", "axis 2"),
        row("Device.cuda with a negative index", IAE, c -> Device.cuda(-1), "cuda", "-1"),
        row("Device.parse of an unknown name", IAE, c -> Device.parse("tpu"), "Device.parse", "tpu"),
        row("Device.parse of null", NPE, c -> Device.parse(null), "Device.parse", "argument text is null"),

        // ---- conversion and host access ----------------------------------------------------------------------
        row("to a null dtype", NPE, c -> c.v3().to((DType) null), "to", "argument dtype is null"),
        row("to a null device", NPE, c -> c.v3().to((Device) null), "to", "argument device is null"),
        row("item of a (2, 3) tensor", ISE, c -> c.m23().item(), "item", "(2, 3)"),
        row("toFloatArray after close", ISE, c -> c.closed().toFloatArray(), "toFloatArray", "after close()"),

        // ---- element-wise ------------------------------------------------------------------------------------
        row("add of null", NPE, c -> c.v3().add((Tensor) null), "add", "argument b is null"),
        row("ge of null", NPE, c -> c.v3().ge((Tensor) null), "ge", "argument b is null"),
        row("sub of shapes that do not broadcast", IAE, c -> c.m23().sub(Tensor.zeros(c.d(), 4)),
                "sub", "(2, 3)", "(4,)"),
        row("maximum of float32 and float64", IAE, c -> c.v3().maximum(c.v3().to(DType.FLOAT64)),
                "maximum", "float32", "float64"),
        row("div of bools", IAE, c -> c.v3().gt(1).div(c.v3().gt(2)), "div", "bool"),
        row("log of int32", IAE, c -> Tensor.arange(c.d(), 3).log(), "log", "int32"),
        row("mul by a closed tensor", ISE, c -> c.v3().mul(c.closed()), "mul", "after close()"),
        row("exp of a closed tensor", ISE, c -> c.closed().exp(), "exp", "after close()"),
        row("mul whose broadcast result is larger than one buffer", IAE,
                c -> Tensor.zeros(c.d(), 1 << 24, 1).mul(Tensor.zeros(c.d(), 1 << 24)),
                "mul", "(16777216, 16777216)").onCuda(OutOfDeviceMemoryException.class, "out of memory"),
        row("where with a null condition", NPE, c -> Nabla.where(null, c.v3(), c.v3()),
                "where", "argument condition is null"),
        row("where with a float condition", IAE, c -> Nabla.where(c.v3(), c.v3(), c.v3()),
                "where", "condition", "bool", "float32"),
        row("where of shapes that do not broadcast", IAE,
                c -> Nabla.where(c.v3().gt(1), c.v3(), Tensor.zeros(c.d(), 2)), "where", "(3,)", "(2,)"),

        // ---- reductions ----------------------------------------------------------------------------------------
        row("sum over axis 2 of a matrix", IAE, c -> c.m23().sum(2), "sum", "axis 2"),
        row("mean over a repeated axis", IAE, c -> c.m23().mean(0, 0), "mean", "repeated axis"),
        row("max over an empty axis", IAE, c -> Tensor.zeros(c.d(), 0, 3).max(0), "max", "(0, 3)"),
        row("argmax along axis -3 of a matrix", IAE, c -> c.m23().argmax(-3), "argmax", "axis -3"),
        row("sum of bools", IAE, c -> c.v3().gt(1).sum(), "sum", "bool"),
        row("mean of bools", IAE, c -> c.v3().gt(1).mean(), "mean", "bool"),
        row("sum of a closed tensor", ISE, c -> c.closed().sum(), "sum", "after close()"),
        row("mean of a closed tensor", ISE, c -> c.closed().mean(), "mean", "after close()"),
        row("logSumExp of int32", IAE, c -> Tensor.arange(c.d(), 3).logSumExp(0), "logSumExp", "int32"),
        row("softmax along axis 2 of a matrix", IAE, c -> c.m23().softmax(2), "softmax", "axis 2"),
        row("logSoftmax of int32", IAE, c -> Tensor.arange(c.d(), 3).logSoftmax(0), "logSoftmax", "int32"),
        row("softmax of a closed tensor", ISE, c -> c.closed().softmax(0), "softmax", "after close()"),

        // ---- linear algebra and shapes -------------------------------------------------------------------------
        row("matmul with inner dimensions that differ", IAE,
                c -> c.m23().matmul(Tensor.zeros(c.d(), 4, 5)), "matmul", "(2, 3)", "(4, 5)"),
        row("matmul of a vector", IAE, c -> c.v3().matmul(c.m23()), "matmul", "(3,)", "(2, 3)"),
        row("matmul of null", NPE, c -> c.m23().matmul(null), "matmul", "argument b is null"),
        row("matmul with batch dimensions that do not broadcast", IAE,
                c -> Tensor.zeros(c.d(), 2, 2, 3).matmul(Tensor.zeros(c.d(), 3, 3, 1)), "matmul", "(2,)", "(3,)"),
        row("transpose of a vector", IAE, c -> c.v3().transpose(), "transpose", "(3,)"),
        row("permute with a repeated axis", IAE, c -> Tensor.zeros(c.d(), 2, 3, 4).permute(0, 0, 1),
                "permute", "(2, 3, 4)"),
        row("permute with null axes", NPE, c -> c.m23().permute((int[]) null), "permute", "argument axes is null"),
        row("reshape to another size", IAE, c -> c.m23().reshape(4), "reshape", "(2, 3)", "(4,)"),
        row("reshape to a shape whose size overflows", IAE, c -> c.m23().reshape(3, 1L << 62, 8),
                "reshape", "(2, 3)", "(3, 4611686018427387904, 8)"),
        row("reshape with two -1", IAE, c -> c.m23().reshape(-1, -1), "reshape", "one -1"),
        row("reshape to null", NPE, c -> c.m23().reshape((long[]) null), "reshape", "argument shape is null"),
        row("expandDims at axis 4 of a matrix", IAE, c -> c.m23().expandDims(4), "expandDims", "axis 4"),
        row("squeeze of an axis of size 2", IAE, c -> c.m23().squeeze(0), "squeeze", "(2, 3)"),
        row("broadcastTo a smaller shape", IAE, c -> c.m23().broadcastTo(4, 3), "broadcastTo", "(2, 3)", "(4, 3)"),
        row("broadcastTo a negative dimension", IAE, c -> c.m23().broadcastTo(-1, 3),
                "broadcastTo", "(2, 3)", "(-1, 3)"),
        row("slice past the end", IAE, c -> Tensor.zeros(c.d(), 3, 4).slice(new long[] {2, 0}, new long[] {2, 4}),
                "slice", "(3, 4)"),
        row("slice whose begin + size overflows a long", IAE,
                c -> Tensor.zeros(c.d(), 3, 4).slice(new long[] {Long.MAX_VALUE, 0}, new long[] {2, 4}),
                "slice", "(3, 4)"),
        row("slice with a begin past the end and size -1", IAE,
                c -> Tensor.zeros(c.d(), 3, 4).slice(new long[] {5, 0}, new long[] {-1, -1}), "slice", "(3, 4)"),
        row("slice with a null begin", NPE, c -> c.m23().slice(null, new long[] {1, 1}),
                "slice", "argument begin is null"),
        row("slice with begin of the wrong rank", IAE, c -> c.m23().slice(new long[] {0}, new long[] {1}),
                "slice", "(2, 3)"),
        // raised at the op on the CPU, at the latest at the next read of a result on an asynchronous device (CUDA)
        row("gather with an index out of range", IAE,
                c -> Tensor.zeros(c.d(), 3, 2).gather(Tensor.of(c.d(), new int[] {0, 3}), 0).toFloatArray(),
                "gather", "index 3 at position 1", "[0, 3)", "axis 0 of (3, 2)"),
        row("gather with float indices", IAE, c -> c.m23().gather(c.v3(), 0), "gather", "int32", "float32"),
        row("gather with null indices", NPE, c -> c.m23().gather(null, 0), "gather", "argument indices is null"),
        row("gather from a scalar", IAE, c -> Tensor.scalar(c.d(), 1f).gather(Tensor.arange(c.d(), 1), 0),
                "gather", "()"),
        row("oneHot with a negative depth", IAE, c -> Tensor.arange(c.d(), 3).oneHot(-1), "oneHot", "depth"),
        row("oneHot of float labels", IAE, c -> c.v3().oneHot(3), "oneHot", "int32", "float32"),

        // ---- Nabla -------------------------------------------------------------------------------------------
        row("concat of no tensors", IAE, c -> Nabla.concat(List.of(), 0), "concat"),
        row("concat of null", NPE, c -> Nabla.concat(null, 0), "concat", "argument tensors is null"),
        row("concat of a list holding null", NPE, c -> Nabla.concat(Arrays.asList(c.v3(), null), 0),
                "concat", "argument tensors[1] is null"),
        row("concat of shapes that differ outside the axis", IAE,
                c -> Nabla.concat(List.of(c.m23(), Tensor.zeros(c.d(), 3, 3)), 1), "concat", "(2, 3)", "(3, 3)"),
        row("concat along axis 2 of matrices", IAE, c -> Nabla.concat(List.of(c.m23(), c.m23()), 2),
                "concat", "axis 2"),
        row("stack of shapes that differ", IAE, c -> Nabla.stack(List.of(c.m23(), Tensor.zeros(c.d(), 2, 4)), 0),
                "stack", "(2, 3)", "(2, 4)"),
        row("stack of float32 and float64", IAE,
                c -> Nabla.stack(List.of(c.v3(), Tensor.zeros(c.d(), 3).to(DType.FLOAT64)), 0),
                "stack", "float32", "float64"),
        row("stack with a closed tensor", ISE, c -> Nabla.stack(List.of(c.v3(), c.closed()), 0),
                "stack", "after close()"),
        row("stack along axis -4 of matrices", IAE, c -> Nabla.stack(List.of(c.m23(), c.m23()), -4),
                "stack", "axis -4"),
        row("customGradient with null inputs", NPE, c -> Nabla.customGradient(null, in -> c.v3(),
                (in, out, g) -> List.of(g)), "customGradient", "argument inputs is null"),
        row("customGradient whose forward returns null", NPE, c -> Nabla.customGradient(List.of(c.v3()),
                in -> null, (in, out, g) -> List.of(g)), "customGradient", "forward returned null"),
        row("customGradient whose gradient has the wrong shape", IAE, c -> {
            Tensor x = c.v3();
            try (GradientTape tape = new GradientTape()) {
                tape.watch(x);
                Tensor y = Nabla.customGradient(List.of(x), in -> in.get(0).mul(2), (in, out, g) -> List.of(g.sum()));
                tape.gradient(y, x);
            }
        }, "customGradient", "()", "(3,)"),

        // ---- Variable ------------------------------------------------------------------------------------------
        row("Variable of null", NPE, c -> new Variable(null), "Variable", "argument initial is null"),
        row("Variable with a null name", NPE, c -> new Variable(c.v3(), null, true),
                "Variable", "argument name is null"),
        row("Variable of a closed tensor", ISE, c -> new Variable(c.closed()), "Variable", "after close()"),
        row("assign of another shape", IAE, c -> new Variable(c.v3()).assign(Tensor.zeros(c.d(), 2, 2)),
                "assign", "(3,)", "(2, 2)"),
        row("assign of another dtype", IAE, c -> new Variable(c.v3()).assign(c.v3().to(DType.FLOAT64)),
                "assign", "float32", "float64"),
        row("assign of null", NPE, c -> new Variable(c.v3()).assign(null), "assign", "argument value is null"),
        row("assignAdd of a shape that does not broadcast", IAE,
                c -> new Variable(c.v3()).assignAdd(Tensor.zeros(c.d(), 4)), "assignAdd", "(3,)", "(4,)"),
        row("assignSub of a closed tensor", ISE, c -> new Variable(c.v3()).assignSub(c.closed()),
                "assignSub", "after close()"),
        row("assign to a closed variable", ISE, c -> {
            Variable v = new Variable(c.v3());
            v.close();
            v.assign(c.v3());
        }, "assign", "after close()"),

        // ---- GradientTape --------------------------------------------------------------------------------------
        row("a second gradient from a non-persistent tape", ISE, c -> {
            Tensor x = c.v3();
            GradientTape tape = new GradientTape();
            tape.watch(x);
            Tensor y = x.square();
            tape.gradient(y, x);
            tape.gradient(y, x);
        }, "GradientTape.gradient", "non-persistent"),
        row("gradient of a null target", NPE, c -> {
            Tensor x = c.v3();
            try (GradientTape tape = new GradientTape()) {
                tape.watch(x);
                tape.gradient(null, x);
            }
        }, "gradient", "argument target is null"),
        row("gradient with respect to null", NPE, c -> {
            Tensor x = c.v3();
            try (GradientTape tape = new GradientTape()) {
                tape.watch(x);
                tape.gradient(x.square(), (Tensor) null);
            }
        }, "gradient", "argument source is null"),
        row("gradient with a null among the sources", NPE, c -> {
            Tensor x = c.v3();
            try (GradientTape tape = new GradientTape()) {
                tape.watch(x);
                tape.gradient(x.square(), Arrays.asList(x, null));
            }
        }, "gradient", "argument sources[1] is null"),
        row("gradient with an output gradient of another shape", IAE, c -> {
            Tensor x = c.v3();
            try (GradientTape tape = new GradientTape()) {
                tape.watch(x);
                tape.gradient(x.square(), x, Tensor.ones(c.d(), 2));
            }
        }, "gradient", "(2,)", "(3,)"),
        row("gradient with an output gradient of another dtype", IAE, c -> {
            Tensor x = c.v3();
            try (GradientTape tape = new GradientTape()) {
                tape.watch(x);
                tape.gradient(x.square(), x, Tensor.ones(c.d(), 3).to(DType.FLOAT64));
            }
        }, "gradient", "float64", "float32"),
        row("watch of null", NPE, c -> {
            try (GradientTape tape = new GradientTape()) {
                tape.watch(c.v3(), null);
            }
        }, "watch", "argument tensors[1] is null"),
        row("jacobian after release", ISE, c -> {
            Tensor x = c.v3();
            GradientTape tape = GradientTape.persistent();
            tape.watch(x);
            Tensor y = x.square();
            tape.release();
            tape.jacobian(y, x);
        }, "jacobian", "released"),
        row("batchJacobian with different batch sizes", IAE, c -> {
            Tensor x = Tensor.zeros(c.d(), 3, 3);
            try (GradientTape tape = GradientTape.persistent()) {
                tape.watch(x);
                tape.batchJacobian(x.slice(new long[] {0, 0}, new long[] {2, 3}), x);
            }
        }, "batchJacobian", "(2, 3)", "(3, 3)"),
        row("stopRecording of a null body", NPE, c -> {
            try (GradientTape tape = new GradientTape()) {
                tape.stopRecording(null);
            }
        }, "stopRecording", "argument body is null"),

        // ---- optimizers ----------------------------------------------------------------------------------------
        row("SGD with a negative learning rate", IAE, c -> new SGD(-0.1), "SGD", "learning rate", "-0.1"),
        row("Adam with a NaN learning rate", IAE, c -> new Adam(Double.NaN), "Adam", "learning rate", "NaN"),
        row("SGD with momentum above 1", IAE, c -> SGD.builder().momentum(1.5), "SGD", "momentum", "1.5"),
        row("Adam with beta1 of 1", IAE, c -> Adam.builder().beta1(1), "Adam", "beta1", "1.0"),
        row("AdamW with a negative beta2", IAE, c -> AdamW.builder().beta2(-0.5), "AdamW", "beta2", "-0.5"),
        row("Adam with a negative epsilon", IAE, c -> Adam.builder().epsilon(-1e-7), "Adam", "epsilon"),
        row("RMSprop with rho of 1", IAE, c -> RMSprop.builder().rho(1), "RMSprop", "rho"),
        row("Adagrad with a negative initial accumulator", IAE, c -> Adagrad.builder().initialAccumulatorValue(-1),
                "Adagrad", "initial accumulator"),
        row("SGD with a negative weight decay", IAE, c -> SGD.builder().weightDecay(-1), "SGD", "weightDecay"),
        row("Adam with two clipping modes", IAE, c -> Adam.builder().clipNorm(1).globalClipNorm(1).build(),
                "Adam", "clipNorm", "globalClipNorm"),
        row("SGD with a negative clipNorm", IAE, c -> SGD.builder().clipNorm(-1), "SGD", "clipNorm", "-1"),
        row("SGD with a null schedule", NPE, c -> SGD.builder().learningRate((LearningRateSchedule) null),
                "SGD", "argument schedule is null"),
        row("applyGradients with more gradients than variables", IAE,
                c -> new SGD(0.1).applyGradients(List.of(c.v3(), c.v3()), List.of(new Variable(c.v3()))),
                "applyGradients", "2 gradients for 1 variables"),
        row("applyGradients with a gradient of another shape", IAE,
                c -> new SGD(0.1).applyGradients(List.of(Tensor.zeros(c.d(), 2)), List.of(new Variable(c.v3()))),
                "applyGradients", "(2,)", "(3,)"),
        row("applyGradients of null", NPE, c -> new SGD(0.1).applyGradients(null, List.of(new Variable(c.v3()))),
                "applyGradients", "argument grads is null"),
        row("applyGradients with a null variable", NPE,
                c -> new SGD(0.1).applyGradients(List.of(c.v3()), Arrays.asList((Variable) null)),
                "applyGradients", "argument vars[0] is null"),
        row("applyGradients with a closed gradient", ISE,
                c -> SGD.builder().clipNorm(1).build().applyGradients(List.of(c.closed()),
                        List.of(new Variable(c.v3()))), "applyGradients", "after close()"),
        row("minimize of a null loss", NPE, c -> new SGD(0.1).minimize(null, List.of(new Variable(c.v3()))),
                "minimize", "argument loss is null"),
        row("minimize of a loss function returning null", NPE,
                c -> new SGD(0.1).minimize(() -> null, List.of(new Variable(c.v3()))), "minimize", "returned null"),
        row("exponentialDecay over 0 steps", IAE, c -> LearningRateSchedule.exponentialDecay(0.1, 0, 0.9, false),
                "exponentialDecay", "decaySteps"),
        row("piecewiseConstant with mismatched lists", IAE,
                c -> LearningRateSchedule.piecewiseConstant(new long[] {10, 20}, new double[] {1, 0.5}),
                "piecewiseConstant", "2 values for 2 boundaries"),
        row("piecewiseConstant with boundaries out of order", IAE,
                c -> LearningRateSchedule.piecewiseConstant(new long[] {20, 10}, new double[] {1, 0.5, 0.1}),
                "piecewiseConstant", "increasing"),

        // ---- nn ----------------------------------------------------------------------------------------------
        row("Dense with 0 units", IAE, c -> new Dense(4, 0, c.rng(), c.d()), "Dense", "0"),
        row("Dense with a null rng", NPE, c -> new Dense(4, 3, null, c.d()), "Dense", "argument rng is null"),
        row("Dense forward of the wrong width", IAE,
                c -> new Dense(4, 3, c.rng(), c.d()).forward(Tensor.zeros(c.d(), 2, 5)), "Dense", "(2, 5)", "4"),
        row("Conv2d with kernel size 0", IAE, c -> new Conv2d(1, 4, 0, 1, "same", c.rng(), c.d()),
                "Conv2d", "kernelSize"),
        row("Conv2d with padding \"full\"", IAE, c -> new Conv2d(1, 4, 3, 1, "full", c.rng(), c.d()),
                "Conv2d", "padding", "full"),
        row("conv2d with input and kernel channels that differ", IAE,
                c -> Functional.conv2d(Tensor.zeros(c.d(), 1, 3, 8, 8), Tensor.zeros(c.d(), 4, 2, 3, 3), null, 1,
                        "same"), "conv2d", "(1, 3, 8, 8)", "(4, 2, 3, 3)"),
        row("conv2d with a null padding", NPE,
                c -> Functional.conv2d(Tensor.zeros(c.d(), 1, 1, 8, 8), Tensor.zeros(c.d(), 4, 1, 3, 3), null, 1,
                        null), "conv2d", "argument padding is null"),
        row("conv2d with a bias of the wrong size", IAE,
                c -> Functional.conv2d(Tensor.zeros(c.d(), 1, 1, 8, 8), Tensor.zeros(c.d(), 4, 1, 3, 3), c.v3(), 1,
                        "same"), "conv2d", "bias", "(3,)"),
        row("conv2d with a kernel larger than the image", IAE,
                c -> Functional.conv2d(Tensor.zeros(c.d(), 1, 1, 2, 2), Tensor.zeros(c.d(), 4, 1, 3, 3), null, 1,
                        "valid"), "conv2d", "does not fit"),
        row("conv2d with stride 0", IAE,
                c -> Functional.conv2d(Tensor.zeros(c.d(), 1, 1, 8, 8), Tensor.zeros(c.d(), 4, 1, 3, 3), null, 0,
                        "same"), "conv2d", "stride"),
        row("conv2d of a float32 image with a float64 kernel", IAE,
                c -> Functional.conv2d(Tensor.zeros(c.d(), 1, 1, 8, 8), Tensor.zeros(c.d(), 4, 1, 3, 3)
                        .to(DType.FLOAT64), null, 1, "same"), "conv2d", "dtype", "(1, 1, 8, 8)", "(4, 1, 3, 3)"),
        row("conv2d with a float64 bias", IAE,
                c -> Functional.conv2d(Tensor.zeros(c.d(), 1, 1, 8, 8), Tensor.zeros(c.d(), 4, 1, 3, 3),
                        Tensor.zeros(c.d(), 4).to(DType.FLOAT64), 1, "same"), "conv2d", "dtype", "(4,)"),
        row("conv2d of a bool image", IAE,
                c -> Functional.conv2d(Tensor.zeros(c.d(), 1, 1, 8, 8).gt(0), Tensor.zeros(c.d(), 4, 1, 3, 3).gt(0),
                        null, 1, "same"), "conv2d", "bool"),
        row("maxPool2d of a 3-D tensor", IAE, c -> Functional.maxPool2d(Tensor.zeros(c.d(), 1, 4, 4), 2, 2),
                "maxPool2d", "(1, 4, 4)"),
        row("gelu of int32", IAE, c -> Functional.gelu(Tensor.of(c.d(), new int[] {1, 2}, 2)), "gelu", "int32"),
        row("meanSquaredError of bool", IAE,
                c -> Functional.meanSquaredError(c.v3().gt(0), c.v3().gt(1)), "meanSquaredError", "bool"),
        row("softmaxCrossEntropy of int32 logits", IAE,
                c -> Functional.softmaxCrossEntropy(Tensor.of(c.d(), new int[] {1, 2, 3, 4}, 2, 2),
                        Tensor.of(c.d(), new int[] {0, 1}, 2)), "softmaxCrossEntropy", "int32", "(2, 2)"),
        row("avgPool2d of a bool image", IAE, c -> Functional.avgPool2d(Tensor.zeros(c.d(), 1, 1, 4, 4).gt(0), 2, 2),
                "avgPool2d", "bool"),
        row("MaxPool2d of size 0", IAE, c -> new MaxPool2d(0), "MaxPool2d", "size"),
        row("avgPool2d with a window larger than the image", IAE,
                c -> Functional.avgPool2d(Tensor.zeros(c.d(), 1, 1, 2, 2), 3, 1), "avgPool2d", "does not fit"),
        row("Dropout with rate 1", IAE, c -> new Dropout(1, c.rng()), "Dropout", "rate"),
        row("dropout in training with a null rng", NPE, c -> Functional.dropout(c.v3(), 0.5, null, true),
                "dropout", "argument rng is null"),
        row("dropout of int32", IAE, c -> Functional.dropout(Tensor.arange(c.d(), 3), 0.5, c.rng(), true),
                "dropout", "int32", "(3,)"),
        row("dropout of int32 in evaluation", IAE,
                c -> Functional.dropout(Tensor.arange(c.d(), 3), 0.5, c.rng(), false), "dropout", "int32"),
        row("BatchNorm with 0 channels", IAE, c -> new BatchNorm(0, 0.99, 1e-3, c.d()), "BatchNorm", "channels"),
        row("BatchNorm forward with another channel count", IAE,
                c -> new BatchNorm(3, 0.99, 1e-3, c.d()).forward(Tensor.zeros(c.d(), 2, 4)), "BatchNorm", "(2, 4)"),
        row("softmaxCrossEntropy with labels of another batch size", IAE,
                c -> Functional.softmaxCrossEntropy(Tensor.zeros(c.d(), 2, 5), Tensor.arange(c.d(), 3)),
                "softmaxCrossEntropy", "(3,)", "(2, 5)"),
        row("softmaxCrossEntropy of 1-D logits", IAE,
                c -> Functional.softmaxCrossEntropy(Tensor.zeros(c.d(), 5), Tensor.arange(c.d(), 1)),
                "softmaxCrossEntropy", "(5,)"),
        row("softmaxCrossEntropy with a label past the classes", IAE,
                c -> Functional.softmaxCrossEntropy(Tensor.zeros(c.d(), 2, 5), Tensor.of(c.d(), new int[] {1, 5})),
                "softmaxCrossEntropy", "label 5", "position 1", "[0, 5)"),
        row("softmaxCrossEntropy with a negative label", IAE,
                c -> Functional.softmaxCrossEntropy(Tensor.zeros(c.d(), 2, 5), Tensor.of(c.d(), new int[] {-1, 0})),
                "softmaxCrossEntropy", "label -1", "position 0"),
        row("softmaxCrossEntropy of logits with no classes", IAE,
                c -> Functional.softmaxCrossEntropyWithProbabilities(Tensor.zeros(c.d(), 2, 0),
                        Tensor.zeros(c.d(), 2, 0)), "softmaxCrossEntropy", "(2, 0)", "at least one class"),
        row("softmaxCrossEntropy with null labels", NPE,
                c -> Functional.softmaxCrossEntropy(Tensor.zeros(c.d(), 2, 5), null),
                "softmaxCrossEntropy", "argument labels is null"),
        row("meanSquaredError of shapes that differ", IAE,
                c -> Functional.meanSquaredError(Tensor.zeros(c.d(), 3, 1), c.v3()),
                "meanSquaredError", "(3, 1)", "(3,)"),
        row("Sequential with a null layer", NPE, c -> new Sequential(new Relu(), null),
                "Sequential", "argument layers[1] is null"),
        row("loadStateDict with a missing entry", IAE,
                c -> new Dense(2, 2, c.rng(), c.d()).loadStateDict(Map.of("kernel", Tensor.zeros(c.d(), 2, 2))),
                "loadStateDict", "'bias'", "missing"),
        row("loadStateDict of null", NPE, c -> new Dense(2, 2, c.rng(), c.d()).loadStateDict(null),
                "loadStateDict", "argument state is null"),

        // ---- Checkpoint ----------------------------------------------------------------------------------------
        row("Checkpoint.save to a null path", NPE, c -> Checkpoint.save(null, Map.of("w", c.v3())),
                "save", "argument path is null"),
        row("Checkpoint.save of a null map", NPE, c -> Checkpoint.save(c.dir().resolve("a.safetensors"), null),
                "save", "argument tensors is null"),
        row("Checkpoint.save of a null tensor", NPE, c -> {
            Map<String, Tensor> m = new HashMap<>();
            m.put("w", null);
            Checkpoint.save(c.dir().resolve("a.safetensors"), m);
        }, "save", "argument tensors['w'] is null"),
        row("Checkpoint.save of a closed tensor", ISE,
                c -> Checkpoint.save(c.dir().resolve("a.safetensors"), Map.of("w", c.closed())),
                "save", "'w'", "after close()"),
        row("Checkpoint.save under the reserved name __metadata__", IAE,
                c -> Checkpoint.save(c.dir().resolve("a.safetensors"), Map.of("__metadata__", c.v3())),
                "save", "__metadata__"),
        row("Checkpoint.load onto a null device", NPE,
                c -> Checkpoint.load(c.dir().resolve("a.safetensors"), null), "load", "argument device is null"),
        row("Checkpoint.load of a file that is not safetensors", CheckpointFormatException.class, c -> {
            Path p = c.dir().resolve("junk.safetensors");
            Files.writeString(p, "not a checkpoint at all");
            Checkpoint.load(p, c.d());
        }, "checkpoint", "junk.safetensors"),

        // ---- SummaryWriter -------------------------------------------------------------------------------------
        row("SummaryWriter.create in a null folder", NPE, c -> SummaryWriter.create(null),
                "SummaryWriter.create", "argument logdir is null"),
        row("SummaryWriter.scalar with a null tag", NPE, c -> {
            try (SummaryWriter w = SummaryWriter.create(c.dir())) {
                w.scalar(null, 1, 0);
            }
        }, "SummaryWriter.scalar", "argument tag is null"),
        row("SummaryWriter.histogram of null", NPE, c -> {
            try (SummaryWriter w = SummaryWriter.create(c.dir())) {
                w.histogram("h", null, 0);
            }
        }, "SummaryWriter.histogram", "argument values is null"),
        row("SummaryWriter.histogram of a closed tensor", ISE, c -> {
            try (SummaryWriter w = SummaryWriter.create(c.dir())) {
                w.histogram("h", c.closed(), 0);
            }
        }, "SummaryWriter.histogram", "after close()"),
        row("SummaryWriter.histogram of NaN", IAE, c -> {
            try (SummaryWriter w = SummaryWriter.create(c.dir())) {
                w.histogram("h", Tensor.of(c.d(), new float[] {1, Float.NaN}), 0);
            }
        }, "SummaryWriter.histogram", "'h'", "NaN"),
        row("SummaryWriter.text after close", ISE, c -> {
            SummaryWriter w = SummaryWriter.create(c.dir());
            w.close();
            w.text("t", "hello", 0);
        }, "SummaryWriter", "after close()"),
        row("SummaryWriter.text of a null value", NPE, c -> {
            try (SummaryWriter w = SummaryWriter.create(c.dir())) {
                w.text("t", null, 0);
            }
        }, "SummaryWriter.text", "argument value is null"),

        // ---- GradientChecker -----------------------------------------------------------------------------------
        row("GradientChecker.check of a null function", NPE, c -> GradientChecker.check(null, List.of(c.v3())),
                "GradientChecker.check", "argument f is null"),
        row("GradientChecker.check with no floating input", IAE,
                c -> GradientChecker.check(in -> in.get(0).to(DType.FLOAT64), List.of(Tensor.arange(c.d(), 3))),
                "GradientChecker.check", "no float32 or float64 input"),
        row("GradientChecker.check with a closed input", ISE,
                c -> GradientChecker.check(in -> in.get(0).sum(), List.of(c.closed())),
                "GradientChecker.check", "after close()"),
        row("GradientChecker.check of a function returning null", NPE,
                c -> GradientChecker.check(in -> null, List.of(c.v3())), "GradientChecker.check", "f returned null"),
        row("GradientChecker.check of a function returning float32", IAE,
                c -> GradientChecker.check(in -> in.get(0).to(DType.FLOAT32), List.of(c.v3())),
                "GradientChecker", "float64", "float32"));

    @TempDir
    Path dir;

    static Stream<Arguments> rows() {
        List<Arguments> out = new ArrayList<>();
        for (Device d : TestDevices.all()) {
            for (Row r : ROWS) {
                out.add(Arguments.of(d, r));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "[{0}] {1}")
    @MethodSource("rows")
    @ExtendWith(SkipUnusableDevice.class)
    void badCallThrowsTheDocumentedException(Device d, Row row) {
        Class<? extends Throwable> type = d.isCuda() && row.cudaType() != null ? row.cudaType() : row.type();
        List<String> parts = d.isCuda() && row.cudaParts() != null ? row.cudaParts() : row.parts();
        Throwable thrown = null;
        try {
            row.call().run(new Ctx(d, dir));
        } catch (Throwable t) {
            thrown = t;
        }
        if (thrown == null) {
            fail(row.description() + ": expected " + type.getSimpleName() + ", nothing was thrown");
        }
        if (!type.isInstance(thrown)) {
            AssertionError e = new AssertionError(row.description() + ": expected " + type.getSimpleName() + ", got "
                    + thrown);
            e.initCause(thrown);
            throw e;
        }
        String message = thrown.getMessage();
        for (String p : parts) {
            assertTrue(message != null && message.contains(p),
                    row.description() + ": message \"" + message + "\" should contain \"" + p + "\"");
        }
    }

    @Test
    void catalogueHasAtLeastSixtyDistinctRows() {
        assertTrue(ROWS.size() >= 60, "only " + ROWS.size() + " rows");
        Set<String> seen = new HashSet<>();
        for (Row r : ROWS) {
            assertTrue(seen.add(r.description()), "repeated description: " + r.description());
            assertTrue(!r.parts().isEmpty(), r.description() + ": names no message part");
        }
        assertEquals(ROWS.size(), seen.size());
    }
}
