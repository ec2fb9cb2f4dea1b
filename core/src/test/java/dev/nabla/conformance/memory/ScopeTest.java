package dev.nabla.conformance.memory;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nabla.DType;
import dev.nabla.Device;
import dev.nabla.GradientTape;
import dev.nabla.MemoryStats;
import dev.nabla.Nabla;
import dev.nabla.Rng;
import dev.nabla.Scope;
import dev.nabla.Tensor;
import dev.nabla.Variable;
import dev.nabla.conformance.OnEachDevice;
import dev.nabla.nn.Dense;
import dev.nabla.nn.Functional;
import dev.nabla.nn.Relu;
import dev.nabla.nn.Sequential;
import dev.nabla.optim.Adam;
import dev.nabla.optim.SGD;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Memory scopes close what was made inside them on their thread and nothing more: kept tensors (which move to the
 * enclosing scope), Variables, tensors made before the scope or on other threads, and tensors a live tape still needs
 * (until the tape is released) all survive.
 */
class ScopeTest {

    private static Tensor vec(Device d, float... v) {
        return Tensor.of(d, v);
    }

    @OnEachDevice
    void closesWhatWasMadeInsideAndNothingMadeBefore(Device d) {
        Tensor x = vec(d, 1, 2, 3);
        Tensor y;
        Tensor z;
        Tensor view;
        try (Scope s = Nabla.scope()) {
            y = x.mul(2);
            z = y.add(1);
            view = z.reshape(3, 1);
            assertFalse(y.isClosed());
        }
        assertTrue(y.isClosed());
        assertTrue(z.isClosed());
        assertTrue(view.isClosed());
        assertFalse(x.isClosed());
        assertArrayEquals(new float[] {1, 2, 3}, x.toFloatArray());
        assertThrows(IllegalStateException.class, () -> z.add(1));
        x.close();
    }

    @OnEachDevice
    void keptTensorsSurviveAndBelongToTheEnclosingScope(Device d) {
        Tensor x = vec(d, 1, 2);
        Tensor inner;
        Tensor innerTemp;
        Tensor kept;
        Tensor keptTwice;
        try (Scope outer = Nabla.scope()) {
            try (Scope s = Nabla.scope()) {
                innerTemp = x.add(1);
                inner = s.keep(innerTemp.mul(3));
                Tensor k = innerTemp.sub(1);
                keptTwice = s.keep(k);
                assertSame(k, keptTwice);
            }
            assertTrue(innerTemp.isClosed());
            assertFalse(inner.isClosed());
            assertArrayEquals(new float[] {6, 9}, inner.toFloatArray());
            kept = outer.keep(keptTwice);
        }
        assertTrue(inner.isClosed(), "kept by the inner scope only, so the outer one closes it");
        assertFalse(kept.isClosed(), "kept by both scopes");
        assertArrayEquals(new float[] {1, 2}, kept.toFloatArray());
        kept.close();
        x.close();
    }

    @OnEachDevice
    void aKeptViewKeepsItsStorageAlive(Device d) {
        Tensor view;
        try (Scope s = Nabla.scope()) {
            Tensor base = vec(d, 1, 2, 3, 4).mul(2);
            view = s.keep(base.reshape(2, 2));
        }
        assertArrayEquals(new float[] {2, 4, 6, 8}, view.toFloatArray());
        view.close();
    }

    @OnEachDevice
    void variablesAreNeverClosed(Device d) {
        Variable v;
        try (Scope s = Nabla.scope()) {
            v = new Variable(vec(d, 1, 2));
            v.assignAdd(vec(d, 1, 1));
        }
        assertFalse(v.isClosed());
        assertArrayEquals(new float[] {2, 3}, v.toFloatArray());
        v.close();
    }

    @OnEachDevice
    void scopedKeepsItsTensorOrListResult(Device d) {
        Tensor x = vec(d, 1, 2);
        Tensor[] temp = new Tensor[1];
        Tensor r = Nabla.scoped(() -> {
            temp[0] = x.add(1);
            return temp[0].mul(temp[0]);
        });
        assertTrue(temp[0].isClosed());
        assertArrayEquals(new float[] {4, 9}, r.toFloatArray());
        List<Tensor> both = Nabla.scoped(() -> {
            temp[0] = x.add(1);
            return List.of(temp[0].mul(2), temp[0].mul(3));
        });
        assertTrue(temp[0].isClosed());
        assertArrayEquals(new float[] {4, 6}, both.get(0).toFloatArray());
        assertArrayEquals(new float[] {6, 9}, both.get(1).toFloatArray());
        float plain = Nabla.scoped(() -> x.sum().item());
        assertEquals(3f, plain);
        r.close();
        both.forEach(Tensor::close);
        x.close();
    }

    @OnEachDevice
    void anExceptionInsideScopedClosesEverythingAndEndsTheScope(Device d) {
        Tensor x = vec(d, 1, 2);
        List<Tensor> made = new ArrayList<>();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Nabla.scoped(() -> {
            made.add(x.add(1));
            made.add(x.mul(2));
            return made.get(0).add(vec(d, 1, 2, 3));                   // add: cannot broadcast (2,) with (3,)
        }));
        assertTrue(e.getMessage().contains("add"), e.getMessage());
        assertEquals(2, made.size());
        made.forEach(t -> assertTrue(t.isClosed()));
        // the scope ended with the exception: a tensor made now belongs to no scope, and outlives a new one
        Tensor after = x.add(5);
        try (Scope s = Nabla.scope()) {
            s.keep(x.add(0)).close();
        }
        assertFalse(after.isClosed());
        after.close();
        x.close();
    }

    @OnEachDevice
    void tensorsOfOtherThreadsAreUntouched(Device d) throws Exception {
        Tensor x = vec(d, 1, 2);
        AtomicReference<Tensor> theirs = new AtomicReference<>();
        CountDownLatch made = new CountDownLatch(1);
        CountDownLatch closed = new CountDownLatch(1);
        Thread other = new Thread(() -> {
            theirs.set(x.mul(10));
            made.countDown();
            try {
                closed.await();
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
            }
        });
        Tensor mine;
        try (Scope s = Nabla.scope()) {
            other.start();
            made.await();
            mine = x.mul(2);
        }
        closed.countDown();
        other.join();
        assertTrue(mine.isClosed());
        assertFalse(theirs.get().isClosed());
        assertArrayEquals(new float[] {10, 20}, theirs.get().toFloatArray());
        theirs.get().close();
        x.close();
    }

    @OnEachDevice
    void aScopeBelongsToItsThread(Device d) throws Exception {
        Scope s = Nabla.scope();
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        Thread other = new Thread(() -> {
            try {
                s.close();
            } catch (Throwable t) {
                thrown.set(t);
            }
        });
        other.start();
        other.join();
        assertTrue(thrown.get() instanceof IllegalStateException, String.valueOf(thrown.get()));
        s.close();
        Tensor t = vec(d, 1);
        assertThrows(IllegalStateException.class, () -> s.keep(t));
        t.close();
    }

    @OnEachDevice
    void closingAnOuterScopeClosesInnerOnesLeftOpen(Device d) {
        Tensor x = vec(d, 1, 2);
        Tensor inInner;
        Scope outer = Nabla.scope();
        Scope inner = Nabla.scope();
        inInner = x.add(1);
        outer.close();
        assertTrue(inner.isClosed());
        assertTrue(inInner.isClosed());
        Tensor after = x.add(2);
        assertFalse(after.isClosed());
        after.close();
        x.close();
    }

    /** A tape opened outside the scope still needs what the scope made: kept alive until its gradient. */
    @OnEachDevice
    void storageALiveTapeSavedOutlivesTheScopeUntilTheTapeIsReleased(Device d) {
        Variable w = new Variable(vec(d, 1, 2, 3));
        Tensor[] inside = new Tensor[2];
        Tensor y;
        try (GradientTape tape = new GradientTape()) {
            // max's gradient rule saves a tensor that is neither its input nor its output
            y = Nabla.scoped(() -> {
                inside[0] = w.mul(w);
                inside[1] = inside[0].max();
                return inside[1].add(w.sum());
            });
            assertFalse(inside[0].isClosed(), "recorded on the live tape");
            assertFalse(inside[1].isClosed());
            tape.close();
            Tensor g = tape.gradient(y, w);
            assertArrayEquals(new float[] {1, 1, 7}, g.toFloatArray());
            g.close();
        }
        assertTrue(inside[0].isClosed(), "closed once the non-persistent tape released its records");
        assertTrue(inside[1].isClosed());
        assertFalse(y.isClosed());
        y.close();
        w.close();
    }

    @OnEachDevice
    void aTapeMadeInsideTheScopeMayTakeItsGradientAfterIt(Device d) {
        Variable w = new Variable(vec(d, 1, 2, 3));
        GradientTape tape;
        Tensor y;
        Tensor temp;
        try (Scope s = Nabla.scope()) {
            tape = GradientTape.persistent();
            temp = w.mul(w);
            y = s.keep(temp.sum());
            tape.close();
        }
        assertFalse(temp.isClosed());
        Tensor g = tape.gradient(y, w);
        assertArrayEquals(new float[] {2, 4, 6}, g.toFloatArray());
        tape.release();
        assertTrue(temp.isClosed());
        g.close();
        y.close();
        w.close();
    }

    @OnEachDevice
    void minimizeKeepsOnlyTheLossAndItsOptimizerState(Device d) throws InterruptedException {
        Rng rng = Rng.seeded(3);
        Tensor x = rng.normal(d, DType.FLOAT32, 64, 64);
        Variable w = new Variable(rng.normal(d, DType.FLOAT32, 64, 64));
        Adam adam = new Adam(1e-3);
        Tensor[] seen = new Tensor[1];
        Tensor first;
        try (Scope s = Nabla.scope()) {                     // Adam's slots are made in the user's scope
            first = adam.minimize(() -> {
                seen[0] = x.matmul(w);
                return seen[0].square().mean();
            }, List.of(w));
        }
        assertTrue(first.isClosed(), "the returned loss belongs to the enclosing scope");
        assertTrue(seen[0].isClosed());
        MemoryStats base = Settle.settled(d);
        for (int i = 0; i < 5; i++) {                         // the slots survived the scope
            adam.minimize(() -> x.matmul(w).square().mean(), List.of(w)).close();
        }
        MemoryStats after = d.memoryStats();                  // no collection needed
        assertEquals(base.allocated(), after.allocated(), base + " -> " + after);
        assertEquals(base.buffers(), after.buffers(), base + " -> " + after);
        assertEquals(5 + 1, adam.iterations());
        x.close();
        w.close();
    }

    /** A training loop in scopes takes every buffer from the pool and gives it back by the end of each step. */
    @OnEachDevice
    void fiveHundredStepsInScopesHoldAllocatedFlat(Device d) throws InterruptedException {
        Rng rng = Rng.seeded(7);
        // 64x64 inputs and 64x128 activations are 16 KiB and more, so the CPU counts them too
        Tensor x = rng.normal(d, DType.FLOAT32, 64, 64);
        Tensor labels = rng.uniform(d, 0, 10, DType.FLOAT32, 64).to(DType.INT32);
        Sequential model = new Sequential(new Dense(64, 128, rng, d), new Relu(), new Dense(128, 10, rng, d));
        SGD sgd = SGD.builder().learningRate(0.05).momentum(0.9).build();
        float firstLoss = 0;
        float lastLoss = 0;
        MemoryStats base = null;
        for (int step = 0; step < 500; step++) {
            try (Scope s = Nabla.scope()) {
                // written by hand rather than through minimize, which has its own scope
                Tensor loss;
                List<Tensor> grads;
                try (GradientTape tape = new GradientTape()) {
                    loss = Functional.softmaxCrossEntropy(model.forward(x), labels);
                    tape.close();
                    grads = tape.gradient(loss, model.parameters());
                }
                sgd.applyGradients(grads, model.parameters());
                float l = loss.item();
                if (step == 0) {
                    firstLoss = l;
                }
                lastLoss = l;
            }
            if (step == 1) {
                base = Settle.settled(d);                    // after the first step made the momentum slots
            } else if (step > 1) {
                MemoryStats now = d.memoryStats();
                assertEquals(base.allocated(), now.allocated(), "step " + step + ": " + base + " -> " + now);
                assertEquals(base.buffers(), now.buffers(), "step " + step + ": " + base + " -> " + now);
            }
        }
        assertNotNull(base);
        assertTrue(lastLoss < firstLoss, firstLoss + " -> " + lastLoss);
        x.close();
        labels.close();
    }
}
