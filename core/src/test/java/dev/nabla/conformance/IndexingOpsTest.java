package dev.nabla.conformance;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.nabla.DType;
import dev.nabla.Device;
import dev.nabla.GradientTape;
import dev.nabla.Shape;
import dev.nabla.Tensor;
import dev.nabla.conformance.OpInfo.Family;

/** gather (any axis, repeated indices, scalar indices) and oneHot. */
class IndexingOpsTest {
    @OnEachDevice
    void indexingOpsMatchScalarReference(Device d) {
        OpConformance.assertForward(d, Family.INDEXING);
    }

    @OnEachDevice
    void gatherGradientsMatchFiniteDifferences(Device d) {
        OpConformance.assertGradients(d, Family.INDEXING);
    }

    @OnEachDevice
    void gatherGradientAddsUpRepeatedIndices(Device d) {
        Tensor x = Tensor.of(d, new double[] {10, 20, 30});
        try (GradientTape tape = new GradientTape()) {
            tape.watch(x);
            Tensor y = x.gather(Tensor.of(d, new int[] {2, 0, 2, 2}), 0);
            // index 2 is picked three times, 0 once, 1 never
            assertArrayEquals(new double[] {1, 0, 3}, tape.gradient(y, x).toDoubleArray());
        }
    }

    @OnEachDevice
    void oneHotIsFloat32WithZeroRowsOutsideTheDepth(Device d) {
        Tensor h = Tensor.of(d, new int[] {1, -1, 3, 0}).oneHot(3);
        assertEquals(DType.FLOAT32, h.dtype());
        assertEquals(Shape.of(4, 3), h.shape());
        assertArrayEquals(new float[] {0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0}, h.toFloatArray());
    }
}
