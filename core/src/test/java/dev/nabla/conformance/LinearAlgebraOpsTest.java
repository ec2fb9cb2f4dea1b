package dev.nabla.conformance;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.nabla.Device;
import dev.nabla.GradientTape;
import dev.nabla.Shape;
import dev.nabla.Tensor;
import dev.nabla.conformance.OpInfo.Family;

/** matmul (2-D, batched, broadcast batch dimensions, empty dimensions) and transpose. */
class LinearAlgebraOpsTest {
    @OnEachDevice
    void matmulAndTransposeMatchScalarReference(Device d) {
        OpConformance.assertForward(d, Family.LINEAR_ALGEBRA);
    }

    @OnEachDevice
    void matmulOnLargeShapesMatchesScalarReference(Device d) {
        OpConformance.assertForwardOnLargeShapes(d, Family.LINEAR_ALGEBRA);
    }

    @OnEachDevice
    void matmulAndTransposeGradientsMatchFiniteDifferences(Device d) {
        OpConformance.assertGradients(d, Family.LINEAR_ALGEBRA);
    }

    @OnEachDevice
    void smallProductByHand(Device d) {
        Tensor a = Tensor.of(d, new float[][] {{1, 2}, {3, 4}});
        Tensor b = Tensor.of(d, new float[][] {{5, 6}, {7, 8}});
        // [[1*5+2*7, 1*6+2*8], [3*5+4*7, 3*6+4*8]]
        assertArrayEquals(new float[] {19, 22, 43, 50}, a.matmul(b).toFloatArray());
    }

    @OnEachDevice
    void emptyInnerDimensionGivesZeros(Device d) {
        Tensor c = Tensor.zeros(d, 2, 0).matmul(Tensor.zeros(d, 0, 3));
        assertEquals(Shape.of(2, 3), c.shape());
        assertArrayEquals(new float[6], c.toFloatArray());
    }

    @OnEachDevice
    void gradientOfABroadcastOperandSumsOverTheBatch(Device d) {
        Tensor a = Tensor.of(d, new double[] {1, 2, 3, 4, 5, 6, 7, 8}, 2, 2, 2);
        Tensor w = Tensor.of(d, new double[] {1, 0, 0, 1}, 2, 2);
        try (GradientTape tape = new GradientTape()) {
            tape.watch(w);
            Tensor y = a.matmul(w);
            // d sum(A_b W)/dW = sum_b A_bᵀ 1 : entry (p, j) = sum_b sum_i A_b[i, p]
            // p=0: (1+3) + (5+7) = 16; p=1: (2+4) + (6+8) = 20
            Tensor g = tape.gradient(y, w);
            assertEquals(Shape.of(2, 2), g.shape());
            assertArrayEquals(new double[] {16, 16, 20, 20}, g.toDoubleArray());
        }
    }
}
