package dev.nabla.conformance;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.nabla.Device;
import dev.nabla.GradientTape;
import dev.nabla.Nabla;
import dev.nabla.Shape;
import dev.nabla.Tensor;
import dev.nabla.conformance.OpInfo.Family;
import java.util.List;

/**
 * permute, reshape (with -1), flatten, expandDims, squeeze, broadcastTo, slice, stopGradient, and Nabla's concat,
 * stack and where.
 */
class ShapeOpsTest {
    @OnEachDevice
    void shapeOpsMatchScalarReference(Device d) {
        OpConformance.assertForward(d, Family.SHAPE);
    }

    @OnEachDevice
    void shapeOpGradientsMatchFiniteDifferences(Device d) {
        OpConformance.assertGradients(d, Family.SHAPE);
    }

    @OnEachDevice
    void stopGradientBlocksTheGradient(Device d) {
        Tensor x = Tensor.of(d, new double[] {1, 2, 3});
        try (GradientTape tape = GradientTape.persistent()) {
            tape.watch(x);
            Tensor y = x.stopGradient().mul(x);
            // y = c * x with c = x held constant: dy/dx = c = x (not 2x)
            assertArrayEquals(new double[] {1, 2, 3}, tape.gradient(y, x).toDoubleArray());
            assertNull(tape.gradient(x.stopGradient(), x));
        }
    }

    @OnEachDevice
    void whereHasNoGradientForTheCondition(Device d) {
        Tensor a = Tensor.of(d, new double[] {1, 2});
        Tensor b = Tensor.of(d, new double[] {3, 4});
        try (GradientTape tape = new GradientTape()) {
            tape.watch(a, b);
            Tensor y = Nabla.where(a.gt(1.5), a, b).mul(Tensor.of(d, new double[] {10, 20}));
            // element 0 takes b (1 > 1.5 is false), element 1 takes a
            List<Tensor> g = tape.gradient(y, List.of(a, b));
            assertArrayEquals(new double[] {0, 20}, g.get(0).toDoubleArray());
            assertArrayEquals(new double[] {10, 0}, g.get(1).toDoubleArray());
        }
    }

    @OnEachDevice
    void reshapeInfersMinusOne(Device d) {
        Tensor x = Tensor.zeros(d, 2, 3, 4);
        assertEquals(Shape.of(6, 4), x.reshape(-1, 4).shape());
        assertEquals(Shape.of(2, 12), x.reshape(2, -1).shape());
        assertEquals(Shape.of(24), x.flatten().shape());
        assertEquals(Shape.scalar(), Tensor.zeros(d, 1, 1).reshape().shape());
    }
}
