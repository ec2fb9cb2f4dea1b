package dev.nabla.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nabla.DType;
import dev.nabla.Device;
import dev.nabla.Tensor;
import dev.nabla.backend.Backend;
import dev.nabla.backend.Backends;
import dev.nabla.backend.Buffer;
import dev.nabla.backend.IndexCheck;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Out-of-range indices of gather and scatterAdd on CUDA (issue 11, defect 4): the op queues its index check and
 * returns without waiting for the device; the error surfaces at the next synchronization point (any read), naming
 * the op, the first bad index and its position, as the CPU's immediate error does; the first failing op wins; and the
 * backend works normally afterwards.
 */
class EmuIndexErrorsTest {
    static final Device EMU = EmuTests.EMU;

    @BeforeAll
    static void emulatorBuilds() {
        EmuTests.requireEmulator();
    }

    private static EmulatedDriver driver() {
        return EmulatedDriver.instance();
    }

    private static Backend backend() {
        return Backends.get(EMU);
    }

    /**
     * {@code scatterAdd} into zeros of {@code rows} x {@code cols} through the backend, as core's op calls it (the
     * op's public form is gather's gradient, which a bad index would stop at the gather).
     */
    private static Buffer scatterAdd(int rows, int cols, int[] indices, float[] updates) {
        Backend b = backend();
        Buffer dst = b.allocate(DType.FLOAT32, (long) rows * cols);
        b.fill(dst, 0);
        b.scatterAdd(dst, 1, rows, cols, b.upload(indices, DType.INT32), b.upload(updates, DType.FLOAT32),
                new IndexCheck("scatterAdd", "axis 0 of (" + rows + ", " + cols + ")"));
        return dst;
    }

    private static Tensor params() {
        return Tensor.of(EMU, new float[] {0, 1, 10, 11, 20, 21, 30, 31, 40, 41}, 5, 2);
    }

    @Test
    void gatherDoesNotWaitAndTheReadRaisesTheCpusError() {
        Tensor p = params();
        Tensor bad = Tensor.of(EMU, new int[] {0, 17, 2, -1});
        long waits = driver().hostWaits();
        Tensor out = p.gather(bad, 0);
        assertEquals(0, driver().hostWaits() - waits, "gather waited for the device");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, out::toFloatArray);
        String cpu = assertThrows(IllegalArgumentException.class, () -> Tensor.of(Device.cpu(),
                new float[10], 5, 2).gather(Tensor.of(Device.cpu(), new int[] {0, 17, 2, -1}), 0)).getMessage();
        assertEquals("gather: index 17 at position 1 is out of range [0, 5) for axis 0 of (5, 2)", cpu);
        assertTrue(e.getMessage().startsWith(cpu + " (checked on cuda-emu:0 without waiting"), e.getMessage());
    }

    @Test
    void scatterAddDoesNotWaitAndNamesItself() {
        Tensor.zeros(EMU, 1).close(); // the backend exists
        long waits = driver().hostWaits();
        Buffer out = scatterAdd(4, 1, new int[] {0, 1, 9}, new float[] {1, 2, 3});
        assertEquals(0, driver().hostWaits() - waits, "scatterAdd waited for the device");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> backend().readFloats(out));
        assertTrue(e.getMessage().startsWith("scatterAdd: index 9 at position 2 is out of range [0, 4) for axis 0 "
                + "of (4, 1)"), e.getMessage());
    }

    @Test
    void theFirstOfTwoBadOpsIsReportedOnce() {
        Tensor p = params();
        Tensor a = p.gather(Tensor.of(EMU, new int[] {1, 2, 6}), 0);                    // first: 6 at 2
        Buffer b = scatterAdd(5, 2, new int[] {-3}, new float[] {1, 1});                   // second: -3 at 0
        Tensor c = p.gather(Tensor.of(EMU, new int[] {5, 0}), 0);                       // third: 5 at 0
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> backend().readFloats(b));
        assertTrue(e.getMessage().startsWith("gather: index 6 at position 2 is out of range [0, 5)"), e.getMessage());
        // reported once: the failed ops' outputs read without error afterwards (their values are unspecified)
        assertEquals(6, a.toFloatArray().length);
        assertEquals(4, c.toFloatArray().length);

        Buffer d = scatterAdd(5, 2, new int[] {7}, new float[] {1, 1});
        p.gather(Tensor.of(EMU, new int[] {8}), 0);
        IllegalArgumentException again = assertThrows(IllegalArgumentException.class,
                () -> CudaDevices.synchronize(EMU));
        assertTrue(again.getMessage().startsWith("scatterAdd: index 7 at position 0"), again.getMessage());
        d.release();
        b.release();
    }

    @Test
    void theBackendWorksAfterAnError() {
        Tensor p = params();
        Tensor failed = p.gather(Tensor.of(EMU, new int[] {0, 99}), 0);
        assertThrows(IllegalArgumentException.class, failed::toFloatArray);
        // the same op with good indices, and a read of an unrelated tensor: no stale error
        assertArrayEquals(new float[] {40, 41, 0, 1, 20, 21}, p.gather(Tensor.of(EMU, new int[] {4, 0, 2}), 0)
                .toFloatArray());
        assertArrayEquals(new float[] {2, 0, 0, 1}, backend().readFloats(scatterAdd(4, 1, new int[] {0, 3, 0},
                new float[] {1.5f, 1, 0.5f})));
        CudaDevices.synchronize(EMU);
    }

    @Test
    void aBadScatterAddWritesNothingOutsideItsOutput() {
        // the kernel skips out-of-range indices: the neighbours of the output in the allocator keep their values
        Tensor[] around = new Tensor[8];
        for (int i = 0; i < around.length; i++) {
            around[i] = Tensor.full(EMU, 7, DType.FLOAT32, 128);
        }
        Buffer out = scatterAdd(128, 1, new int[] {1, 128, 129, 400, -1, -129}, new float[] {1, 1, 1, 1, 1, 1});
        assertThrows(IllegalArgumentException.class, () -> backend().readFloats(out));
        float[] result = backend().readFloats(out);
        assertEquals(1f, result[1]);
        for (Tensor t : around) {
            for (float v : t.toFloatArray()) {
                assertEquals(7f, v);
            }
        }
    }
}
