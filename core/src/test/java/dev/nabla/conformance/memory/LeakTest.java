package dev.nabla.conformance.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nabla.DType;
import dev.nabla.Device;
import dev.nabla.MemoryStats;
import dev.nabla.Rng;
import dev.nabla.Tensor;
import dev.nabla.Variable;
import dev.nabla.conformance.OnEachDevice;
import dev.nabla.nn.Dense;
import dev.nabla.nn.Functional;
import dev.nabla.nn.Relu;
import dev.nabla.nn.Sequential;
import dev.nabla.optim.Adam;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * Training leaks nothing: {@value #DEFAULT_STEPS} Adam steps of a Dense MLP through {@code Optimizer.minimize},
 * closing only the loss each step returns (every intermediate, gradient and tape node is left to the Cleaners), end
 * with exactly the live buffers and bytes of the step before them, and dropping the model and the optimizer returns
 * the device to where it was before they existed.
 *
 * <p>Exact where exact is deterministic: live bytes and buffers, once a collection let the Cleaners run. Reserved
 * bytes (the pool) and the peak depend on when the collector happened to run, so they are only bounded. The step
 * count is {@code -Dnabla.test.leakSteps} (the build's forced-width runs use fewer).
 */
class LeakTest {
    static final int DEFAULT_STEPS = 10_000;
    private static final int STEPS = Integer.getInteger("nabla.test.leakSteps", DEFAULT_STEPS);

    @OnEachDevice
    void adamTrainingStepsReturnToTheBaseline(Device d) throws InterruptedException {
        MemoryStats empty = Settle.settled(d);
        long t0 = System.nanoTime();
        MemoryStats[] marks = trainAndDrop(d);
        long trained = System.nanoTime();
        MemoryStats end = Settle.backTo(d, empty, 10_000);
        long settledAt = System.nanoTime();
        System.out.printf(Locale.ROOT, "LeakTest %s: %d steps in %.1f s (settling %.2f s)%n  before the model: %s%n"
                + "  after step 1:     %s%n  after step %d: %s%n  model dropped:    %s%n", d, STEPS,
                (trained - t0) / 1e9, (settledAt - trained) / 1e9, empty, marks[0], STEPS, marks[1], end);
        assertEquals(empty.allocated(), end.allocated(), "model and optimizer dropped: " + empty + " -> " + end);
        assertEquals(empty.buffers(), end.buffers(), "model and optimizer dropped: " + empty + " -> " + end);
    }

    /** Trains; returns the settled counters after the first step and after the last. */
    private static MemoryStats[] trainAndDrop(Device d) throws InterruptedException {
        Rng rng = Rng.seeded(7);
        // 64x64 inputs and 64x128 activations are 16 KiB and more, so the CPU counts them too
        Tensor x = rng.normal(d, DType.FLOAT32, 64, 64);
        Tensor labels = rng.uniform(d, 0, 10, DType.FLOAT32, 64).to(DType.INT32);
        Sequential model = new Sequential(new Dense(64, 128, rng, d), new Relu(), new Dense(128, 10, rng, d));
        List<Variable> params = model.parameters();
        Adam adam = new Adam(1e-3);
        Supplier<Tensor> loss = () -> Functional.softmaxCrossEntropy(model.forward(x), labels);

        float first;
        try (Tensor l = adam.minimize(loss, params)) { // the first step creates Adam's slots
            first = l.item();
        }
        MemoryStats base = Settle.settled(d);
        float last = first;
        for (int s = 1; s < STEPS; s++) {
            try (Tensor l = adam.minimize(loss, params)) {
                if (s == STEPS - 1) {
                    last = l.item();
                }
            }
        }
        MemoryStats after = Settle.backTo(d, base, 10_000);
        assertEquals(base.allocated(), after.allocated(), "live bytes after " + STEPS + " steps: " + base + " -> "
                + after);
        assertEquals(base.buffers(), after.buffers(), "live buffers after " + STEPS + " steps: " + base + " -> "
                + after);
        assertTrue(after.allocated() <= after.reserved() && after.peak() >= base.peak(), after.toString());
        assertTrue(STEPS < 10 || last < first, "it trains: loss " + first + " -> " + last);
        assertEquals(STEPS + 0L, adam.iterations());
        return new MemoryStats[] {base, after};
    }
}
