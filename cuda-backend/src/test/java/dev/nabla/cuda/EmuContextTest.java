package dev.nabla.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.nabla.Device;
import dev.nabla.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The current context lives on the operating-system thread, in the emulator as in the driver (the first GPU run
 * failed with CUDA_ERROR_INVALID_CONTEXT when a virtual thread resumed on a carrier that had none): the backend makes
 * its context current for each call, whatever the thread did or had done to it in between.
 */
class EmuContextTest {
    static final Device EMU = EmuTests.EMU;

    @BeforeAll
    static void emulatorBuilds() {
        EmuTests.requireEmulator();
    }

    private static float[] step(float k) {
        Tensor a = Tensor.of(EMU, new float[] {1, 2, 3}, 3);
        return a.mul(k).add(1f).toFloatArray();
    }

    @Test
    void theEmulatorRefusesACallOnAThreadWithoutTheContext() throws InterruptedException {
        EmulatedDriver driver = EmulatedDriver.instance();
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        // a fresh platform thread: no context is current on it until the backend makes one
        Thread t = Thread.ofPlatform().start(() -> {
            try {
                driver.memAlloc(64);
            } catch (Throwable e) {
                thrown.set(e);
            }
        });
        t.join();
        CudaException e = (CudaException) thrown.get();
        assertEquals(201, e.code(), e.getMessage());
    }

    @Test
    void anOpAfterOtherCodeClearedTheContextOnThisThreadStillRuns() {
        assertArrayEquals(new float[] {3, 5, 7}, step(2));
        // what a virtual thread sees after it resumes on a carrier with no context, or a platform thread after
        // another library switched contexts: the OS thread's current context is gone
        EmulatedDriver.instance().makeCurrent(null);
        assertArrayEquals(new float[] {4, 7, 10}, step(3));
    }

    @Test
    void virtualThreadsThatParkBetweenOpsKeepRunning() throws InterruptedException {
        List<Thread> threads = new ArrayList<>();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        for (int i = 0; i < 16; i++) {
            threads.add(Thread.ofVirtual().start(() -> {
                try {
                    for (int s = 0; s < 20; s++) {
                        assertArrayEquals(new float[] {3, 5, 7}, step(2));
                        // clear the carrier's context, then park: the thread may resume anywhere
                        EmulatedDriver.instance().makeCurrent(null);
                        Thread.sleep(1);
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            }));
        }
        for (Thread t : threads) {
            t.join();
        }
        if (failure.get() != null) {
            throw new AssertionError("a virtual thread failed", failure.get());
        }
    }
}
