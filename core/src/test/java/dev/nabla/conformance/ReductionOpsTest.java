package dev.nabla.conformance;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.nabla.Device;
import dev.nabla.GradientTape;
import dev.nabla.Shape;
import dev.nabla.Tensor;
import dev.nabla.conformance.OpInfo.Family;

/** sum, mean, max, min (all axes, axes, keepDims, negative axes), argmax, logSumExp, softmax, logSoftmax. */
class ReductionOpsTest {
    @OnEachDevice
    void reductionsMatchScalarReference(Device d) {
        OpConformance.assertForward(d, Family.REDUCTION);
    }

    @OnEachDevice
    void reductionsOnLargeShapesMatchScalarReference(Device d) {
        OpConformance.assertForwardOnLargeShapes(d, Family.REDUCTION);
    }

    @OnEachDevice
    void reductionGradientsMatchFiniteDifferences(Device d) {
        OpConformance.assertGradients(d, Family.REDUCTION);
    }

    @OnEachDevice
    void argmaxPicksTheFirstOfTiedMaxima(Device d) {
        Tensor x = Tensor.of(d, new float[] {1, 3, 3, 0, 2, 2}, 2, 3);
        // row 0: 3 first at column 1; row 1: 2 first at column 1 of [0, 2, 2]
        assertArrayEquals(new int[] {1, 1}, x.argmax(-1).toIntArray());
        // column-wise: [1,0] -> 0, [3,2] -> 0, [3,2] -> 0
        assertArrayEquals(new int[] {0, 0, 0}, x.argmax(0).toIntArray());
    }

    @OnEachDevice
    void maxGradientIsSharedEquallyBetweenTies(Device d) {
        Tensor x = Tensor.of(d, new double[] {1, 4, 4, 2});
        try (GradientTape tape = new GradientTape()) {
            tape.watch(x);
            Tensor m = x.max();
            // TF's reduce_max gradient: 1 / (number of maxima) at each maximum
            assertArrayEquals(new double[] {0, 0.5, 0.5, 0}, tape.gradient(m, x).toDoubleArray());
        }
    }

    @OnEachDevice
    void sumOfEmptyAxisIsZeroAndKeepsShape(Device d) {
        Tensor x = Tensor.zeros(d, 0, 3);
        assertArrayEquals(new float[] {0, 0, 0}, x.sum(0).toFloatArray());
        assertEquals(Shape.of(1, 3), x.sum(new int[] {0}, true).shape());
        assertEquals(Shape.of(0), x.sum(1).shape());
        assertEquals(Shape.scalar(), x.sum().shape());
    }

    /** Found by DifferentialFuzzTest: these threw "max: cannot reduce over an empty dimension". */
    @OnEachDevice
    void softmaxFamilyOverAnEmptyAxisFollowsTf(Device d) {
        Tensor x = Tensor.zeros(d, 2, 0);
        assertArrayEquals(new double[] {Double.NEGATIVE_INFINITY, Double.NEGATIVE_INFINITY},
                x.logSumExp(1).toDoubleArray());
        assertEquals(Shape.of(2, 0), x.softmax(1).shape());
        assertEquals(Shape.of(2, 0), x.logSoftmax(-1).shape());
        assertEquals(Shape.of(0), x.logSumExp(0).shape());
    }

    @OnEachDevice
    void softmaxRowsSumToOne(Device d) {
        Tensor x = DeviceTensors.normal(d, new java.util.Random(7), 4, 5);
        double[] rowSums = x.softmax(1).sum(1).toDoubleArray();
        assertArrayEquals(new double[] {1, 1, 1, 1}, rowSums, 1e-12);
    }
}
