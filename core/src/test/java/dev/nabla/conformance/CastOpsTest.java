package dev.nabla.conformance;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.nabla.DType;
import dev.nabla.Device;
import dev.nabla.GradientTape;
import dev.nabla.Tensor;
import dev.nabla.conformance.OpInfo.Family;

/** to(DType) between FLOAT32, FLOAT64, INT32 and BOOL, and the gradient through float casts. */
class CastOpsTest {
    @OnEachDevice
    void castsMatchScalarReference(Device d) {
        OpConformance.assertForward(d, Family.CAST);
    }

    @OnEachDevice
    void floatToIntTruncatesTowardZero(Device d) {
        Tensor x = Tensor.of(d, new double[] {2.9, -2.9, 0.5, -0.5});
        assertArrayEquals(new int[] {2, -2, 0, 0}, x.to(DType.INT32).toIntArray());
    }

    @OnEachDevice
    void float64ToFloat32RoundsToNearest(Device d) {
        double v = 1 + Math.ulp(1.0f) * 0.75;   // closer to 1 + ulp than to 1
        assertEquals(1 + Math.ulp(1.0f), Tensor.of(d, new double[] {v}).to(DType.FLOAT32).toFloatArray()[0]);
    }

    @OnEachDevice
    void gradientFlowsThroughFloatCastsInTheSourceDtype(Device d) {
        Tensor x = Tensor.of(d, new double[] {1, 2});
        try (GradientTape tape = GradientTape.persistent()) {
            tape.watch(x);
            Tensor y = x.to(DType.FLOAT32).mul(Tensor.of(d, new float[] {3, 4}));
            Tensor g = tape.gradient(y, x);
            // d(3 x0 + 4 x1)/dx = [3, 4], as FLOAT64 like its source
            assertEquals(DType.FLOAT64, g.dtype());
            assertArrayEquals(new double[] {3, 4}, g.toDoubleArray());
            assertNull(tape.gradient(x.to(DType.INT32).to(DType.FLOAT64), x));
        }
    }

    @OnEachDevice
    void castToOwnDtypeIsIdentity(Device d) {
        Tensor x = Tensor.of(d, new float[] {1});
        assertSame(x, x.to(DType.FLOAT32));
    }
}
