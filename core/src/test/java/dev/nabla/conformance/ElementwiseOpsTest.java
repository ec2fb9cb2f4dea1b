package dev.nabla.conformance;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.nabla.DType;
import dev.nabla.Device;
import dev.nabla.GradientTape;
import dev.nabla.Tensor;
import dev.nabla.conformance.OpInfo.Family;
import java.util.List;

/** Element-wise unary, binary (with broadcasting and number operands) and comparison ops, from the op table. */
class ElementwiseOpsTest {
    @OnEachDevice
    void unaryOpsMatchScalarReference(Device d) {
        OpConformance.assertForward(d, Family.UNARY);
    }

    @OnEachDevice
    void unaryOpsOnLargeShapesMatchScalarReference(Device d) {
        OpConformance.assertForwardOnLargeShapes(d, Family.UNARY);
    }

    @OnEachDevice
    void binaryOpsOnLargeShapesMatchScalarReference(Device d) {
        OpConformance.assertForwardOnLargeShapes(d, Family.BINARY);
    }

    @OnEachDevice
    void comparisonsOnLargeShapesMatchScalarReference(Device d) {
        OpConformance.assertForwardOnLargeShapes(d, Family.COMPARISON);
    }

    @OnEachDevice
    void binaryOpsMatchScalarReference(Device d) {
        OpConformance.assertForward(d, Family.BINARY);
    }

    @OnEachDevice
    void comparisonsMatchScalarReference(Device d) {
        OpConformance.assertForward(d, Family.COMPARISON);
    }

    @OnEachDevice
    void unaryGradientsMatchFiniteDifferences(Device d) {
        OpConformance.assertGradients(d, Family.UNARY);
    }

    @OnEachDevice
    void binaryGradientsMatchFiniteDifferences(Device d) {
        OpConformance.assertGradients(d, Family.BINARY);
    }

    @OnEachDevice
    void int32DivisionTruncatesTowardZero(Device d) {
        Tensor a = Tensor.of(d, new int[] {7, -7, 6, -1});
        // 7/2 = 3.5 -> 3, -7/2 = -3.5 -> -3, 6/2 = 3, -1/2 = -0.5 -> 0
        assertArrayEquals(new int[] {3, -3, 3, 0}, a.div(Tensor.scalar(d, 2)).toIntArray());
        assertEquals(DType.INT32, a.div(2).dtype());
    }

    @OnEachDevice
    void reluGradientIsZeroAtZero(Device d) {
        Tensor x = Tensor.of(d, new double[] {-1, 0, 2});
        try (GradientTape tape = new GradientTape()) {
            tape.watch(x);
            Tensor y = x.relu();
            // d relu/dx = 1 for x > 0, else 0 (TF takes 0 at the kink)
            assertArrayEquals(new double[] {0, 0, 1}, tape.gradient(y, x).toDoubleArray());
        }
    }

    @OnEachDevice
    void maximumAndMinimumTiesSendTheGradientToTheFirstOperand(Device d) {
        Tensor a = Tensor.of(d, new double[] {1, 2, 3});
        Tensor b = Tensor.of(d, new double[] {1, 5, 0});
        try (GradientTape tape = GradientTape.persistent()) {
            tape.watch(a, b);
            Tensor max = a.maximum(b);
            Tensor min = a.minimum(b);
            // max: a wins at 0 (tie) and 2; b at 1
            assertArrayEquals(new double[] {1, 0, 1}, tape.gradient(max, a).toDoubleArray());
            assertArrayEquals(new double[] {0, 1, 0}, tape.gradient(max, b).toDoubleArray());
            // min: a wins at 0 (tie) and 1; b at 2
            List<Tensor> g = tape.gradient(min, List.of(a, b));
            assertArrayEquals(new double[] {1, 1, 0}, g.get(0).toDoubleArray());
            assertArrayEquals(new double[] {0, 0, 1}, g.get(1).toDoubleArray());
        }
    }

    @OnEachDevice
    void broadcastGradientSumsOverTheBroadcastAxes(Device d) {
        Tensor a = Tensor.of(d, new double[] {1, 2, 3, 4, 5, 6}, 2, 3);
        Tensor b = Tensor.of(d, new double[] {10, 20, 30});
        try (GradientTape tape = GradientTape.persistent()) {
            tape.watch(a, b);
            Tensor y = a.mul(b);
            // d sum(a*b)/db_j = sum_i a_ij = [1+4, 2+5, 3+6]; d/da_ij = b_j
            assertArrayEquals(new double[] {5, 7, 9}, tape.gradient(y, b).toDoubleArray());
            assertArrayEquals(new double[] {10, 20, 30, 10, 20, 30}, tape.gradient(y, a).toDoubleArray());
            assertEquals(b.shape(), tape.gradient(y, b).shape());
        }
    }

    @OnEachDevice
    void numberOperandTakesTheTensorsDtype(Device d) {
        assertEquals(DType.FLOAT32, Tensor.of(d, new float[] {1}).add(2.5).dtype());
        assertEquals(DType.FLOAT64, Tensor.of(d, new double[] {1}).mul(2).dtype());
        assertEquals(DType.INT32, Tensor.of(d, new int[] {1}).sub(1).dtype());
        assertEquals(DType.BOOL, Tensor.of(d, new int[] {1}).lt(1).dtype());
    }
}
