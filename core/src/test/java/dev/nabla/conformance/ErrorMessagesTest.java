package dev.nabla.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nabla.DType;
import dev.nabla.Device;
import dev.nabla.Nabla;
import dev.nabla.Rng;
import dev.nabla.Tensor;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.function.Executable;

/**
 * Bad inputs throw IllegalArgumentException (IllegalStateException for closed tensors and item()) whose message
 * names the op and the shapes as tuples, and never crash the JVM.
 */
class ErrorMessagesTest {
    private static void assertMessage(Class<? extends RuntimeException> type, Executable call, String... parts) {
        RuntimeException e = assertThrows(type, call);
        for (String p : parts) {
            assertTrue(e.getMessage() != null && e.getMessage().contains(p),
                    "message \"" + e.getMessage() + "\" should contain \"" + p + "\"");
        }
    }

    private static void assertIllegalArgument(Executable call, String... parts) {
        assertMessage(IllegalArgumentException.class, call, parts);
    }

    @OnEachDevice
    void binaryShapeMismatchNamesOpAndBothShapes(Device d) {
        Tensor a = Tensor.zeros(d, 2, 3);
        Tensor b = Tensor.zeros(d, 4);
        assertIllegalArgument(() -> a.add(b), "add: cannot broadcast (2, 3) with (4,)");
        assertIllegalArgument(() -> a.sub(b), "sub", "(2, 3)", "(4,)");
        assertIllegalArgument(() -> a.mul(b), "mul", "(2, 3)", "(4,)");
        assertIllegalArgument(() -> a.div(b), "div", "(2, 3)", "(4,)");
        assertIllegalArgument(() -> a.pow(b), "pow", "(2, 3)", "(4,)");
        assertIllegalArgument(() -> a.maximum(b), "maximum", "(2, 3)", "(4,)");
        assertIllegalArgument(() -> a.minimum(b), "minimum", "(2, 3)", "(4,)");
        assertIllegalArgument(() -> a.lt(b), "lt", "(2, 3)", "(4,)");
        assertIllegalArgument(() -> Tensor.zeros(d, 0).add(Tensor.zeros(d, 2)), "add", "(0,)", "(2,)");
    }

    @OnEachDevice
    void dtypeMismatchNamesBothDtypes(Device d) {
        Tensor f32 = Tensor.zeros(d, 3);
        Tensor f64 = Tensor.zeros(d, 3).to(DType.FLOAT64);
        assertIllegalArgument(() -> f32.add(f64), "add", "float32", "float64");
        assertIllegalArgument(() -> f32.eq(f64), "eq", "float32", "float64");
        assertIllegalArgument(() -> f32.reshape(1, 3).matmul(f64.reshape(3, 1)), "matmul", "float32", "float64");
        assertIllegalArgument(() -> Nabla.concat(List.of(f32, f64), 0), "concat", "float32", "float64");
        assertIllegalArgument(() -> Nabla.where(f32.gt(0), f32, f64), "where", "float32", "float64");
    }

    @OnEachDevice
    void dtypesAnOpDoesNotSupport(Device d) {
        Tensor ints = Tensor.of(d, new int[] {1, 2});
        assertIllegalArgument(ints::log, "log", "int32");
        assertIllegalArgument(() -> ints.softmax(0), "int32");
        Tensor bools = ints.gt(1);
        assertIllegalArgument(() -> bools.add(bools), "add", "bool");
        assertIllegalArgument(bools::sum, "sum", "bool");
        assertIllegalArgument(() -> Rng.seeded(1).normal(d, DType.INT32, 2), "int32");
        assertIllegalArgument(() -> Tensor.zeros(d, 2).oneHot(3), "oneHot", "int32", "float32");
    }

    @OnEachDevice
    void axisOutOfRange(Device d) {
        Tensor x = Tensor.zeros(d, 2, 3);
        assertIllegalArgument(() -> x.sum(2), "sum", "axis 2");
        assertIllegalArgument(() -> x.mean(new int[] {-3}, true), "mean", "axis -3");
        assertIllegalArgument(() -> x.max(5), "max", "axis 5");
        assertIllegalArgument(() -> x.argmax(2), "argmax", "axis 2");
        assertIllegalArgument(() -> x.softmax(-3), "axis -3");
        assertIllegalArgument(() -> x.expandDims(4), "expandDims", "axis 4");
        assertIllegalArgument(() -> x.squeeze(0), "squeeze", "(2, 3)");
        assertIllegalArgument(() -> x.sum(0, 0), "sum", "repeated axis");
        assertIllegalArgument(() -> Nabla.stack(List.of(x, x), 4), "stack", "axis 4");
    }

    @OnEachDevice
    void reshapeSizeMismatch(Device d) {
        Tensor x = Tensor.zeros(d, 2, 3);
        assertIllegalArgument(() -> x.reshape(4), "reshape", "(2, 3)", "(4,)");
        assertIllegalArgument(() -> x.reshape(4, -1), "reshape", "(2, 3)");
        assertIllegalArgument(() -> x.reshape(-1, -1), "reshape", "one -1");
        assertIllegalArgument(() -> x.broadcastTo(4, 3), "broadcastTo", "(2, 3)", "(4, 3)");
    }

    @OnEachDevice
    void matmulInnerDimensionAndRank(Device d) {
        assertIllegalArgument(() -> Tensor.zeros(d, 2, 3).matmul(Tensor.zeros(d, 4, 5)), "matmul", "(2, 3)",
                "(4, 5)");
        assertIllegalArgument(() -> Tensor.zeros(d, 3).matmul(Tensor.zeros(d, 3, 2)), "matmul", "(3,)", "rank");
        assertIllegalArgument(() -> Tensor.zeros(d, 2, 2, 3).matmul(Tensor.zeros(d, 3, 3, 1)), "matmul", "(2,)",
                "(3,)");
        assertIllegalArgument(() -> Tensor.zeros(d, 3).transpose(), "transpose", "(3,)");
    }

    @OnEachDevice
    void badHostData(Device d) {
        assertIllegalArgument(() -> Tensor.of(d, new float[][] {{1, 2}, {3}}), "ragged");
        assertIllegalArgument(() -> Tensor.of(d, new float[] {1, 2, 3, 4, 5}, 2, 3), "5", "(2, 3)");
        assertIllegalArgument(() -> Tensor.of(d, new int[] {1}, 2, -1), "negative");
    }

    @OnEachDevice
    void useAfterCloseSaysClosed(Device d) {
        Tensor x = Tensor.of(d, new float[] {1, 2, 3});
        Tensor y = Tensor.of(d, new float[] {1, 2, 3});
        x.close();
        x.close(); // idempotent
        assertTrue(x.isClosed());
        List<Consumer<Tensor>> uses = List.of(Tensor::toFloatArray, t -> t.add(y), t -> y.add(t), t -> t.add(1.0),
                Tensor::exp, Tensor::sum, t -> t.reshape(3, 1), t -> t.softmax(0), t -> t.to(DType.FLOAT64),
                t -> t.slice(new long[] {0}, new long[] {1}), t -> t.gather(Tensor.of(d, new int[] {0}), 0),
                t -> Nabla.concat(List.of(y, t), 0), Tensor::stopGradient);
        for (Consumer<Tensor> use : uses) {
            assertMessage(IllegalStateException.class, () -> use.accept(x), "after close()");
        }
        assertMessage(IllegalStateException.class, () -> x.add(1.0), "add:");
        assertTrue(x.toString().contains("closed"));
    }

    @OnEachDevice
    void itemNeedsExactlyOneElement(Device d) {
        assertMessage(IllegalStateException.class, () -> Tensor.zeros(d, 2, 3).item(), "item", "(2, 3)");
        assertMessage(IllegalStateException.class, () -> Tensor.zeros(d, 0).doubleItem(), "item", "(0,)");
        assertEquals(5f, Tensor.full(d, 5, DType.FLOAT32, 1, 1).item());
    }

    /**
     * An index out of range raises at the op on the CPU, and at the latest at the next read of a result on an
     * asynchronous device (CUDA checks indices on the device without waiting), so those calls read the result.
     */
    @OnEachDevice
    void gatherIndices(Device d) {
        Tensor x = Tensor.zeros(d, 3, 2);
        assertIllegalArgument(() -> x.gather(Tensor.of(d, new int[] {0, 3}), 0).toFloatArray(), "gather", "index 3",
                "(3, 2)");
        assertIllegalArgument(() -> x.gather(Tensor.of(d, new int[] {-1}), 0).toFloatArray(), "gather", "-1");
        assertIllegalArgument(() -> x.gather(Tensor.of(d, new int[] {2}), 1).toFloatArray(), "gather", "index 2",
                "axis 1 of (3, 2)");
        assertIllegalArgument(() -> x.gather(Tensor.of(d, new float[] {0}), 0), "gather", "int32", "float32");
        assertIllegalArgument(() -> x.gather(Tensor.of(d, new int[] {0}), 2), "gather", "axis 2");
    }

    @OnEachDevice
    void sliceOutOfBounds(Device d) {
        Tensor x = Tensor.zeros(d, 3, 4);
        assertIllegalArgument(() -> x.slice(new long[] {2, 0}, new long[] {2, 4}), "slice", "(3, 4)");
        assertIllegalArgument(() -> x.slice(new long[] {-1, 0}, new long[] {1, 1}), "slice", "(3, 4)");
        assertIllegalArgument(() -> x.slice(new long[] {4, 0}, new long[] {-1, 1}), "slice", "(3, 4)");
        assertIllegalArgument(() -> x.slice(new long[] {0}, new long[] {1}), "slice", "(3, 4)");
    }

    @OnEachDevice
    void permuteNeedsAPermutation(Device d) {
        Tensor x = Tensor.zeros(d, 2, 3, 4);
        assertIllegalArgument(() -> x.permute(0, 0, 1), "permute", "(2, 3, 4)");
        assertIllegalArgument(() -> x.permute(0, 1), "permute", "(2, 3, 4)");
        assertIllegalArgument(() -> x.permute(0, 1, 3), "permute", "(2, 3, 4)");
        assertIllegalArgument(() -> x.permute(0, 1, 2, 3), "permute", "(2, 3, 4)");
    }

    @OnEachDevice
    void concatAndStackShapes(Device d) {
        Tensor a = Tensor.zeros(d, 2, 3);
        Tensor b = Tensor.zeros(d, 2, 4);
        assertIllegalArgument(() -> Nabla.concat(List.of(a, b), 0), "concat", "(2, 3)", "(2, 4)");
        assertIllegalArgument(() -> Nabla.concat(List.of(a, Tensor.zeros(d, 6)), 0), "concat", "(2, 3)", "(6,)");
        assertIllegalArgument(() -> Nabla.concat(List.of(), 0), "concat");
        assertIllegalArgument(() -> Nabla.stack(List.of(a, b), 0), "stack", "(2, 3)", "(2, 4)");
    }

    @OnEachDevice
    void whereConditionMustBeBool(Device d) {
        Tensor a = Tensor.zeros(d, 3);
        assertIllegalArgument(() -> Nabla.where(a, a, a), "where", "condition", "bool", "float32");
        assertIllegalArgument(() -> Nabla.where(a.gt(0), a, Tensor.zeros(d, 2)), "where", "(3,)", "(2,)");
    }

    @OnEachDevice
    void uniformNeedsLoBelowHi(Device d) {
        assertIllegalArgument(() -> Rng.seeded(1).uniform(d, 1, 1, DType.FLOAT32, 2), "uniform");
    }
}
