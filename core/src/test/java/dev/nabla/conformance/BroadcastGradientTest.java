package dev.nabla.conformance;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nabla.Device;
import dev.nabla.GradientTape;
import dev.nabla.Nabla;
import dev.nabla.Tensor;
import dev.nabla.graph.TracedFunction;
import java.util.List;

/**
 * A sum's gradient is its upstream gradient over the kept dimensions: the tape gives it as it is to element-wise unary
 * rules (which broadcast it) and broadcasts it for every other rule and for the gradients it returns. The traced
 * listings show which ops the walk ran, since tracing records exactly those.
 */
class BroadcastGradientTest {
    private static Tensor values(Device d) {
        return Tensor.of(d, new float[] {0.5f, -1.25f, 2f, 3.5f, -0.75f, 1f}, 2, 3);
    }

    /** The gradient of {@code sum(x²)} reaches square's rule as one value: no copy the size of x is made. */
    @OnEachDevice
    void aSumsGradientReachesAUnaryRuleUnbroadcast(Device d) {
        Tensor x = values(d);
        TracedFunction f = Nabla.function((Tensor in) -> {
            Tensor y;
            GradientTape tape = new GradientTape();
            try (tape) {
                tape.watch(in);
                y = in.square().sum();
            }
            return tape.gradient(y, in);
        });
        Tensor g = f.call(x);
        assertEquals(x.shape(), g.shape());
        float[] v = x.toFloatArray();
        float[] expected = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            expected[i] = 2 * v[i];                 // exact: (1·2)·x
        }
        assertArrayEquals(expected, g.toFloatArray());
        assertFalse(f.listing().contains("broadcastTo"), f.listing());
    }

    /** matmul's rule reads its gradient as a matrix: the tape broadcasts a sum's gradient for it. */
    @OnEachDevice
    void aRuleThatNeedsTheFullShapeGetsIt(Device d) {
        Tensor x = values(d);
        Tensor w = Tensor.of(d, new float[] {1, 2, 3, 4, 5, 6}, 3, 2);
        TracedFunction f = Nabla.function((Tensor in) -> {
            Tensor y;
            GradientTape tape = new GradientTape();
            try (tape) {
                tape.watch(w);
                y = in.matmul(w).sum(1).sum();
            }
            return tape.gradient(y, w);
        });
        Tensor g = f.call(x);
        assertEquals(w.shape(), g.shape());
        float[] v = x.toFloatArray();
        float[] expected = new float[6];
        for (int k = 0; k < 3; k++) {
            for (int j = 0; j < 2; j++) {
                expected[k * 2 + j] = v[k] + v[3 + k];   // column sums of x
            }
        }
        assertArrayEquals(expected, g.toFloatArray());
        assertTrue(f.listing().contains("broadcastTo"), f.listing());
    }

    /** Gradients come back in their sources' shapes, also straight from a sum, through neg, and twice over. */
    @OnEachDevice
    void everyReturnedGradientHasItsSourcesShape(Device d) {
        Tensor x = values(d);
        try (GradientTape tape = GradientTape.persistent()) {
            tape.watch(x);
            Tensor all = x.sum();
            Tensor rows = x.sum(0);
            Tensor negated = x.neg().sum();
            assertArrayEquals(new float[] {1, 1, 1, 1, 1, 1}, tape.gradient(all, x).toFloatArray());
            Tensor g = tape.gradient(rows.sum(), x);
            assertEquals(x.shape(), g.shape());
            assertArrayEquals(new float[] {1, 1, 1, 1, 1, 1}, g.toFloatArray());
            List<Tensor> twice = tape.gradient(negated, List.of(x, x));
            for (Tensor t : twice) {
                assertEquals(x.shape(), t.shape());
                assertArrayEquals(new float[] {-1, -1, -1, -1, -1, -1}, t.toFloatArray());
            }
        }
    }
}
