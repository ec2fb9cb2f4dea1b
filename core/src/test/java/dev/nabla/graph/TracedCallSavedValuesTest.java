package dev.nabla.graph;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nabla.Device;
import dev.nabla.GradientTape;
import dev.nabla.Nabla;
import dev.nabla.Scope;
import dev.nabla.Tensor;
import dev.nabla.conformance.OnEachDevice;
import java.util.List;
import java.util.function.Function;

/**
 * A replayed call recorded by a tape saves the forward values its traced backward reads (from the second gradient
 * on, once that backward was traced and split): the tape node holds them until the last tape that recorded it is
 * released, a memory scope around the call leaves them alone, and the gradients are the eager ones bit for bit.
 */
class TracedCallSavedValuesTest {
    /**
     * The rules of exp, mul and tanh read exp's and tanh's outputs: the two values saved (sin's rule reads x0, an
     * input; sum's none).
     */
    private static final Function<Tensor[], Tensor> BODY = x -> x[0].sin().exp().mul(x[1]).tanh().sum();

    private static Tensor[] inputs(Device d) {
        return new Tensor[] {Tensor.of(d, new float[] {0.5f, -1.25f, 2, 3}), Tensor.of(d, new float[] {1, 2, -3, 4})};
    }

    private static GraphGradient gradientOf(GraphFunction f, Tensor[] x) {
        return f.graphFor(x).gradient();
    }

    /** Calls f under a tape watching both inputs twice, so that the backward is traced and split. */
    private static GraphFunction warmedUp(Tensor[] x) {
        GraphFunction f = GraphFunction.of("f", 2, BODY);
        f.call(x);
        try (GradientTape tape = new GradientTape()) {
            tape.watch(x);
            tape.gradient(f.call(x), List.of(x));
        }
        return f;
    }

    private static float[][] eagerGradients(Tensor[] x) {
        try (GradientTape tape = new GradientTape()) {
            tape.watch(x);
            List<Tensor> g = tape.gradient(BODY.apply(x), List.of(x));
            return new float[][] {g.get(0).toFloatArray(), g.get(1).toFloatArray()};
        }
    }

    /** Both inputs' gradients equal the eager ones bit for bit. */
    private static void assertEagerGradients(float[][] eager, List<Tensor> g, String what) {
        assertArrayEquals(eager[0], g.get(0).toFloatArray(), what);
        assertArrayEquals(eager[1], g.get(1).toFloatArray(), what);
    }

    @OnEachDevice
    void aNonPersistentTapeClosesTheSavedValuesAtItsGradient(Device d) {
        Tensor[] x = inputs(d);
        GraphFunction f = warmedUp(x);
        float[][] eager = eagerGradients(x);
        GradientTape tape = new GradientTape();
        tape.watch(x);
        Tensor y = f.call(x);
        Tensor[] saved = gradientOf(f, x).lastSaved();
        assertNotNull(saved, "the call saved the values its backward reads");
        assertEquals(2, saved.length, "exp(sin(x0)) and tanh(...)");
        for (Tensor t : saved) {
            assertFalse(t.isClosed());
            assertNotSame(y, t);
        }
        List<Tensor> g = tape.gradient(y, List.of(x));
        assertEagerGradients(eager, g, "");
        for (Tensor t : saved) {
            assertTrue(t.isClosed(), "released with the tape's records");
        }
        assertFalse(y.isClosed(), "the call's result is the caller's");
        tape.close();
        assertEquals(1, f.backwardTraceCount());
    }

    @OnEachDevice
    void aPersistentTapeKeepsThemForEveryGradientUntilReleased(Device d) {
        Tensor[] x = inputs(d);
        GraphFunction f = warmedUp(x);
        float[][] eager = eagerGradients(x);
        GradientTape tape = GradientTape.persistent();
        tape.watch(x);
        Tensor y = f.call(x);
        Tensor[] saved = gradientOf(f, x).lastSaved();
        for (int i = 0; i < 3; i++) {
            List<Tensor> g = tape.gradient(y, List.of(x));
            assertEagerGradients(eager, g, "gradient " + i);
            for (Tensor t : saved) {
                assertFalse(t.isClosed(), "gradient " + i);
            }
        }
        Tensor eagerJacobian;
        try (GradientTape e = new GradientTape()) {
            e.watch(x[1]);
            eagerJacobian = e.jacobian(BODY.apply(x), x[1]);
        }
        for (int i = 0; i < 2; i++) {                          // recomputing (a new backward), then saved
            assertArrayEquals(eagerJacobian.toFloatArray(), tape.jacobian(y, x[1]).toFloatArray(), "jacobian " + i);
        }
        assertTrue(!f.backwardListing().contains("= sin("), f.backwardListing());
        tape.close();
        for (Tensor t : saved) {
            assertFalse(t.isClosed(), "closing a persistent tape stops it; release drops its records");
        }
        tape.release();
        for (Tensor t : saved) {
            assertTrue(t.isClosed());
        }
    }

    @OnEachDevice
    void aScopeClosedAroundTheCallLeavesTheSavedValuesToTheTape(Device d) {
        Tensor[] x = inputs(d);
        GraphFunction f = warmedUp(x);
        float[][] eager = eagerGradients(x);
        GradientTape tape = new GradientTape();
        tape.watch(x);
        Tensor y;
        Tensor[] saved;
        try (Scope s = Nabla.scope()) {
            y = s.keep(f.call(x));
            saved = gradientOf(f, x).lastSaved();
        }
        for (Tensor t : saved) {
            assertFalse(t.isClosed(), "the tape still needs it");
        }
        List<Tensor> g = tape.gradient(y, List.of(x));
        assertEagerGradients(eager, g, "");
        for (Tensor t : saved) {
            assertTrue(t.isClosed());
        }
        tape.close();
    }

    @OnEachDevice
    void aCallNoTapeRecordsSavesNothingAndNestedTapesRecompute(Device d) {
        Tensor[] x = inputs(d);
        GraphFunction f = warmedUp(x);
        GraphGradient gradient = gradientOf(f, x);
        try (GradientTape tape = new GradientTape()) {
            tape.watch(x);
            tape.gradient(f.call(x), List.of(x));
        }
        Tensor[] before = gradient.lastSaved();
        assertNotNull(before);
        try (GradientTape tape = new GradientTape()) {
            Tensor other = Tensor.of(d, new float[] {1});
            tape.watch(other);
            f.call(x);                                         // a tape records, but watches no input
        }
        assertTrue(before == gradient.lastSaved(), "no new saved values");
        // nested: the inner gradient runs while the outer tape records, which must see the forward's ops
        try (GradientTape outer = new GradientTape()) {
            outer.watch(x[0]);
            Tensor first;
            try (GradientTape inner = new GradientTape()) {
                inner.watch(x[0]);
                first = inner.gradient(f.call(x), x[0]);
            }
            assertTrue(before == gradient.lastSaved(), "two tapes record the call: nothing saved");
            assertNotNull(outer.gradient(first.sum(), x[0]));
        }
        assertTrue(gradient.listing().contains("= sin("), "recomputed: " + gradient.listing());
    }

    @OnEachDevice
    void aGradientForFewerInputsThanTheTapeWatchesReadsTheSavedValues(Device d) {
        Tensor[] x = inputs(d);
        GraphFunction f = warmedUp(x);
        GraphGradient gradient = gradientOf(f, x);
        float[][] eager = eagerGradients(x);
        for (int i = 0; i < 2; i++) {
            try (GradientTape tape = new GradientTape()) {
                tape.watch(x);
                Tensor g = tape.gradient(f.call(x), x[1]);     // the node's other input needs none
                assertArrayEquals(eager[1], g.toFloatArray(), "gradient " + i);
            }
        }
        assertEquals(2, f.backwardTraceCount(), "one backward for both inputs, one for the second only");
        assertFalse(gradient.listing().contains("= sin("), gradient.listing());
    }
}
