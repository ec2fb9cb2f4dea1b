package dev.nabla.conformance.tape;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nabla.DType;
import dev.nabla.Device;
import dev.nabla.Tensor;
import dev.nabla.Variable;
import dev.nabla.conformance.OnEachDevice;

/** Variables: in-place updates, copies, and errors that must leave the variable unchanged. */
class VariableTest {
    private static Variable var(Device d, float... values) {
        try (Tensor t = Tensor.of(d, values)) {
            return new Variable(t, "v", true);
        }
    }

    @OnEachDevice
    void constructorCopiesTheValue(Device d) {
        Tensor t = Tensor.of(d, new float[] {1, 2});
        Variable v = new Variable(t);
        t.close();
        assertArrayEquals(new float[] {1, 2}, v.toFloatArray());
    }

    @OnEachDevice
    void assignFamilyUpdatesInPlaceAndBumpsTheVersion(Device d) {
        Variable v = var(d, 1, 2);
        long v0 = v.version();
        v.assign(Tensor.of(d, new float[] {5, 6}));
        v.assignAdd(Tensor.of(d, new float[] {1, 1}));
        v.assignSub(Tensor.scalar(d, 2f));
        assertArrayEquals(new float[] {4, 5}, v.toFloatArray());
        assertEquals(v0 + 3, v.version());
    }

    @OnEachDevice
    void viewsOfAVariableDoNotChangeWhenItDoes(Device d) {
        Variable v = var(d, 1, 2, 3, 4);
        Tensor view = v.reshape(2, 2);
        Tensor stopped = v.stopGradient();
        v.assign(Tensor.of(d, new float[] {9, 9, 9, 9}));
        assertArrayEquals(new float[] {1, 2, 3, 4}, view.toFloatArray());
        assertArrayEquals(new float[] {1, 2, 3, 4}, stopped.toFloatArray());
    }

    @OnEachDevice
    void badAssignLeavesTheVariableUnchanged(Device d) {
        Variable v = var(d, 1, 2);
        IllegalArgumentException shape = assertThrows(IllegalArgumentException.class,
                () -> v.assign(Tensor.of(d, new float[] {1, 2, 3})));
        assertTrue(shape.getMessage().contains("(2,)") && shape.getMessage().contains("(3,)"), shape.getMessage());
        assertThrows(IllegalArgumentException.class, () -> v.assign(Tensor.of(d, new double[] {1, 2})));
        assertThrows(IllegalArgumentException.class, () -> v.assignAdd(Tensor.of(d, new float[] {1, 2, 3})));
        assertArrayEquals(new float[] {1, 2}, v.toFloatArray());
        assertEquals(0, v.version());
    }

    @OnEachDevice
    void useAfterCloseSaysSo(Device d) {
        Variable v = var(d, 1, 2);
        v.close();
        v.close(); // idempotent
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> v.add(1));
        assertTrue(e.getMessage().contains("close"), e.getMessage());
        assertThrows(IllegalStateException.class, v::toFloatArray);
    }

    @OnEachDevice
    void printsLikeTensorFlow(Device d) {
        Variable v = var(d, 1, 2);
        assertEquals("<Variable 'v' shape=(2,) dtype=float32, numpy=[1. 2.]>", v.toString());
        assertEquals(DType.FLOAT32, v.dtype());
    }
}
