package dev.nabla.conformance.graph;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nabla.DType;
import dev.nabla.Device;
import dev.nabla.GradientTape;
import dev.nabla.Nabla;
import dev.nabla.Rng;
import dev.nabla.Tensor;
import dev.nabla.Variable;
import dev.nabla.conformance.OnEachDevice;
import dev.nabla.graph.TracedFunction;
import dev.nabla.optim.Adam;
import dev.nabla.optim.Optimizer;
import dev.nabla.optim.SGD;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/** tf.function's semantics for {@code Nabla.function}. */
class TracedFunctionTest {
    private static Variable var(Device d, String name, float... values) {
        try (Tensor t = Tensor.of(d, values)) {
            return new Variable(t, name, true);
        }
    }

    @OnEachDevice
    void theBodyRunsOncePerSignatureAndRetracesOnShapesAndDtypesNotValues(Device d) {
        AtomicInteger runs = new AtomicInteger();
        TracedFunction f = Nabla.function((Tensor x) -> {
            runs.incrementAndGet();
            return x.mul(x).add(1);
        });
        assertArrayEquals(new float[] {2, 5}, f.call(Tensor.of(d, new float[] {1, 2})).toFloatArray());
        assertArrayEquals(new float[] {10, 17}, f.call(Tensor.of(d, new float[] {3, 4})).toFloatArray());
        assertEquals(1, runs.get());
        assertEquals(1, f.traceCount());
        assertArrayEquals(new float[] {2, 5, 10}, f.call(Tensor.of(d, new float[] {1, 2, 3})).toFloatArray());
        assertEquals(2, f.traceCount());
        assertArrayEquals(new double[] {5}, f.call(Tensor.of(d, new double[] {2})).toDoubleArray());
        assertEquals(3, f.traceCount());
        f.call(Tensor.of(d, new float[] {7, 8}));
        assertEquals(3, f.traceCount());
        assertEquals(3, runs.get());
    }

    @OnEachDevice
    void variablesAreCapturedByReference(Device d) {
        Variable x = var(d, "x", 3);
        TracedFunction fx = Nabla.function(() -> x.square().add(x).sub(1));
        assertEquals(11f, fx.call().toFloatArray()[0]);
        x.assign(Tensor.of(d, new float[] {2}));
        assertEquals(5f, fx.get().toFloatArray()[0]);
        assertEquals(1, fx.traceCount());
    }

    @OnEachDevice
    void tensorsFromOutsideAreCapturedByValue(Device d) {
        Tensor c = Tensor.of(d, new float[] {1, 2});
        TracedFunction f = Nabla.function((Tensor x) -> x.add(c));
        assertArrayEquals(new float[] {2, 3}, f.call(Tensor.of(d, new float[] {1, 1})).toFloatArray());
        assertArrayEquals(new float[] {3, 4}, f.call(Tensor.of(d, new float[] {2, 2})).toFloatArray());
    }

    @OnEachDevice
    void assignsRunOnEveryCallInProgramOrder(Device d) {
        Variable v = var(d, "v", 1);
        TracedFunction f = Nabla.function(() -> {
            v.assignAdd(Tensor.of(d, new float[] {1}));     // v + 1
            Tensor read = v.mul(10);                         // reads the new value
            v.assign(v.mul(2));                              // then doubles it
            return read;
        });
        assertEquals(20f, f.call().toFloatArray()[0]);      // v: 1 -> 2 (read 20) -> 4
        assertArrayEquals(new float[] {4}, v.toFloatArray());
        assertEquals(50f, f.call().toFloatArray()[0]);      // v: 4 -> 5 (read 50) -> 10
        assertArrayEquals(new float[] {10}, v.toFloatArray());
        assertEquals(1, f.traceCount());
    }

    @OnEachDevice
    void aTapeAroundACallGivesTheEagerGradients(Device d) {
        Variable w = var(d, "w", 1, -2, 3);
        TracedFunction f = Nabla.function((Tensor x) -> x.mul(w).sin().sum());
        Tensor x = Tensor.of(d, new float[] {0.5f, 0.25f, -1});
        for (int call = 0; call < 3; call++) {
            float[] traced;
            float[] eager;
            try (GradientTape tape = new GradientTape()) {
                traced = tape.gradient(f.call(x), w).toFloatArray();
            }
            try (GradientTape tape = new GradientTape()) {
                eager = tape.gradient(x.mul(w).sin().sum(), w).toFloatArray();
            }
            assertArrayEquals(eager, traced, "call " + call);
        }
        assertEquals(1, f.traceCount());
    }

    @OnEachDevice
    void aTrainingStepIsOneGraphAndUpdatesSlotsAndIterationsEachCall(Device d) {
        // eager and traced Adam on the same problem print the same bits
        Variable a = var(d, "a", 3, -1);
        Variable b = var(d, "b", 3, -1);
        Optimizer eagerAdam = new Adam(0.1);
        Optimizer tracedAdam = new Adam(0.1);
        TracedFunction step = Nabla.function(() -> {
            try (GradientTape tape = new GradientTape()) {
                Tensor loss = b.square().add(b).sum();
                tracedAdam.applyGradients(List.of(tape.gradient(loss, b)), List.of(b));
                return loss;
            }
        });
        float first = 0;
        float last = 0;
        for (int i = 0; i < 150; i++) {
            Tensor eagerLoss;
            try (GradientTape tape = new GradientTape()) {
                eagerLoss = a.square().add(a).sum();
                eagerAdam.applyGradients(List.of(tape.gradient(eagerLoss, a)), List.of(a));
            }
            Tensor tracedLoss = step.call();
            assertArrayEquals(eagerLoss.toFloatArray(), tracedLoss.toFloatArray(), "step " + i);
            assertArrayEquals(a.toFloatArray(), b.toFloatArray(), "step " + i);
            last = tracedLoss.toFloatArray()[0];
            first = i == 0 ? last : first;
        }
        assertEquals(1, step.traceCount());
        assertEquals(150, tracedAdam.iterations());
        // it converges: x^2 + x is least (-0.25) at x = -0.5, so the sum over two elements tends to -0.5
        assertTrue(last < first - 1, first + " -> " + last);
        assertEquals(-0.5f, last, 0.02f);
    }

    @OnEachDevice
    void minimizeInsideTheBodyIsAStepPerCall(Device d) {
        Variable v = var(d, "v", 3);
        Variable u = var(d, "u", 3);
        Optimizer sgdEager = new SGD(0.1);
        Optimizer sgdTraced = new SGD(0.1);
        TracedFunction step = Nabla.function(() -> sgdTraced.minimize(() -> u.square().add(u).sub(1), List.of(u)));
        for (int epoch = 0; epoch < 30; epoch++) {
            Tensor eager = sgdEager.minimize(() -> v.square().add(v).sub(1), List.of(v));
            Tensor traced = step.call();
            assertEquals(eager.toFloatArray()[0], traced.toFloatArray()[0], 0f, "epoch " + epoch);
            assertEquals(v.toFloatArray()[0], u.toFloatArray()[0], 0f, "epoch " + epoch);
        }
        assertEquals(30, sgdTraced.iterations());
    }

    @OnEachDevice
    void readingValuesInsideATraceThrowsNamingTheCall(Device d) {
        Tensor x = Tensor.of(d, new float[] {1, 2});
        IllegalStateException item = assertThrows(IllegalStateException.class,
                () -> Nabla.function(() -> Tensor.scalar(d, x.sum().item())).call());
        assertTrue(item.getMessage().startsWith("item: "), item.getMessage());
        assertTrue(item.getMessage().contains("traced function"), item.getMessage());
        IllegalStateException array = assertThrows(IllegalStateException.class,
                () -> Nabla.function((Tensor t) -> Tensor.of(d, t.toFloatArray())).call(x));
        assertTrue(array.getMessage().startsWith("toFloatArray: "), array.getMessage());
        // after a failed trace, eager reads work again on this thread
        assertEquals(3f, x.sum().item());
    }

    @OnEachDevice
    void randomDrawsTakeNewNumbersOnEachCall(Device d) {
        Rng rng = Rng.seeded(7);
        TracedFunction f = Nabla.function(() -> rng.normal(d, DType.FLOAT32, 4));
        float[] first = f.call().toFloatArray();
        float[] second = f.call().toFloatArray();
        assertNotEquals(first[0], second[0]);
        Rng same = Rng.seeded(7);
        same.normal(d, DType.FLOAT32, 4);
        assertArrayEquals(same.normal(d, DType.FLOAT32, 4).toFloatArray(), second);
    }

    @OnEachDevice
    void aTracedFunctionCalledInsideAnotherIsInlined(Device d) {
        Variable v = var(d, "v", 1);
        TracedFunction inner = Nabla.function((Tensor x) -> {
            v.assignAdd(x);
            return v.mul(2);
        });
        TracedFunction outer = Nabla.function((Tensor x) -> inner.call(x).add(1));
        Tensor one = Tensor.of(d, new float[] {1});
        assertEquals(5f, outer.call(one).toFloatArray()[0]);     // v = 2
        assertEquals(7f, outer.call(one).toFloatArray()[0]);     // v = 3
        assertArrayEquals(new float[] {3}, v.toFloatArray());
        assertEquals(1, outer.traceCount());
        assertEquals(1, inner.traceCount());
    }

    @OnEachDevice
    void listingAndDotShowTheOpsWithShapesAndDtypes(Device d) {
        Variable w = var(d, "w", 1, 2, 3);
        TracedFunction f = Nabla.function((Tensor x) -> x.mul(w).relu().sum());
        assertThrows(IllegalStateException.class, f::listing);
        f.call(Tensor.of(d, new float[] {1, 2, 3}));
        String listing = f.listing();
        assertTrue(listing.startsWith("function(%0: (3,) float32) -> () float32\n"), listing);
        assertTrue(listing.contains("= variable 'w' : (3,) float32"), listing);
        assertTrue(listing.contains("= mul(%0, %1) : (3,) float32"), listing);
        assertTrue(listing.contains("= relu(%2) : (3,) float32"), listing);
        assertTrue(listing.contains("= sum(%3) {axes=(0)} : () float32"), listing);
        String dot = f.toDot();
        assertTrue(dot.startsWith("digraph \"function\" {"), dot);
        assertTrue(dot.contains("label=\"relu\\n(3,) float32\""), dot);
    }

    @OnEachDevice
    void aRetraceLogsItsNewSignature(Device d) {
        java.util.logging.Logger logger = java.util.logging.Logger.getLogger("dev.nabla");
        List<String> messages = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.logging.Handler handler = new java.util.logging.Handler() {
            @Override public void publish(java.util.logging.LogRecord r) { messages.add(r.getMessage()); }
            @Override public void flush() { }
            @Override public void close() { }
        };
        logger.addHandler(handler);
        try {
            TracedFunction f = Nabla.function((Tensor x) -> x.add(1));
            f.call(Tensor.of(d, new float[] {1}));
            f.call(Tensor.of(d, new float[] {2}));
            assertTrue(messages.stream().noneMatch(m -> m.contains("retracing")), messages.toString());
            f.call(Tensor.of(d, new float[] {1, 2}));
            assertEquals(2, f.traceCount());
            assertTrue(messages.stream().anyMatch(m -> m.contains("retracing for the new input signature ((2,) float32 on "
                    + d + ") (trace 2)")), messages.toString());
        } finally {
            logger.removeHandler(handler);
        }
    }
}
