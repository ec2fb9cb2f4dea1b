package dev.nabla.conformance.memory;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.nabla.DType;
import dev.nabla.Device;
import dev.nabla.Rng;
import dev.nabla.Tensor;
import dev.nabla.Variable;
import dev.nabla.conformance.OnEachDevice;
import dev.nabla.nn.Dense;
import dev.nabla.nn.Functional;
import dev.nabla.nn.Relu;
import dev.nabla.nn.Sequential;
import dev.nabla.optim.Adam;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Threads share nothing they can see: 4 platform threads and 8 virtual threads, each training its own model with
 * its own seed at the same time (sharing the device, its buffer pool and its worker pool), end with the bits that the
 * same trainings give run one after another on this thread.
 */
class ConcurrentTrainingTest {
    private static final int PLATFORM = 4;
    private static final int VIRTUAL = 8;
    private static final int STEPS = 25;

    /** A small MLP trained with Adam from {@code seed}; the final weights as raw float bits. */
    static int[][] train(Device d, long seed) {
        Rng rng = Rng.seeded(seed);
        // the first layer's activations (96, 48) split across the worker pool where the grain allows
        Tensor x = rng.normal(d, DType.FLOAT32, 96, 32);
        Tensor labels = rng.uniform(d, 0, 5, DType.FLOAT32, 96).to(DType.INT32);
        Sequential model = new Sequential(new Dense(32, 48, rng, d), new Relu(), new Dense(48, 5, rng, d));
        List<Variable> params = model.parameters();
        Adam adam = new Adam(1e-2);
        for (int s = 0; s < STEPS; s++) {
            adam.minimize(() -> Functional.softmaxCrossEntropy(model.forward(x), labels).add(
                    model.parameters().get(0).square().sum().mul(1e-4)), params).close();
        }
        int[][] bits = new int[params.size()][];
        for (int i = 0; i < bits.length; i++) {
            float[] w = params.get(i).toFloatArray();
            bits[i] = new int[w.length];
            for (int j = 0; j < w.length; j++) {
                bits[i][j] = Float.floatToRawIntBits(w[j]);
            }
        }
        return bits;
    }

    @OnEachDevice
    void platformAndVirtualThreadsGiveTheSequentialBits(Device d) throws InterruptedException {
        int n = PLATFORM + VIRTUAL;
        int[][][] sequential = new int[n][][];
        for (int i = 0; i < n; i++) {
            sequential[i] = train(d, 1000 + i);
        }

        AtomicReferenceArray<int[][]> concurrent = new AtomicReferenceArray<>(n);
        AtomicReferenceArray<Throwable> failures = new AtomicReferenceArray<>(n);
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int k = i;
            Runnable body = () -> {
                try {
                    start.await();
                    concurrent.set(k, train(d, 1000 + k));
                } catch (Throwable t) {
                    failures.set(k, t);
                }
            };
            threads.add(k < PLATFORM ? Thread.ofPlatform().name("train-" + k).start(body)
                    : Thread.ofVirtual().name("train-virtual-" + k).start(body));
        }
        start.countDown();
        for (Thread t : threads) {
            t.join();
        }
        for (int i = 0; i < n; i++) {
            if (failures.get(i) != null) {
                throw new AssertionError(threads.get(i).getName() + " failed", failures.get(i));
            }
            int[][] got = concurrent.get(i);
            assertEquals(sequential[i].length, got.length);
            for (int p = 0; p < got.length; p++) {
                assertArrayEquals(sequential[i][p], got[p], threads.get(i).getName() + ", parameter " + p
                        + ": the bits differ from the sequential run");
            }
        }
        // different seeds really trained different models
        assertEquals(false, java.util.Arrays.equals(sequential[0][0], sequential[1][0]));
    }
}
