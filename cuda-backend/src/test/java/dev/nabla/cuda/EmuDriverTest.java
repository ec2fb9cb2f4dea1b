package dev.nabla.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nabla.DType;
import dev.nabla.Device;
import dev.nabla.Rng;
import dev.nabla.Tensor;
import dev.nabla.backend.Backends;
import dev.nabla.kernels.PtxResources;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.Function;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The emulated driver itself, and the CUDA backend's driver-level behaviour that only it can observe without a GPU:
 * the context on every thread, uploads that never wait, one cuBLAS handle used from several threads, launch
 * arguments checked against the PTX, {@code close()}.
 */
class EmuDriverTest {
    static final Device EMU = EmuTests.EMU;

    @BeforeAll
    static void emulatorBuilds() {
        EmuTests.requireEmulator();
    }

    private static EmulatedDriver driver() {
        return EmulatedDriver.instance();
    }

    @Test
    void isAnOpenDeviceKindThatIsNeverTheDefault() {
        assertEquals(EMU, Device.parse("cuda-emu"));
        assertEquals(Device.of("cuda-emu", 0), Device.parse(" CUDA-EMU:0 "));
        assertEquals("cuda-emu:0", EMU.toString());
        assertTrue(EMU.isCuda(), "it runs the CUDA backend");
        String forced = System.getenv("NABLA_DEVICE");
        if (forced == null || forced.isBlank()) {
            assertNotEquals("cuda-emu", Device.defaultDevice().kind());
        }
        assertTrue(Backends.kinds().contains("cuda-emu"), Backends.kinds().toString());
    }

    @Test
    void diagnoseSaysEmulated() {
        Tensor.zeros(EMU, 3).close(); // the backend exists, so the report includes the device
        String report = Device.diagnose();
        assertTrue(report.contains("cuda-emu: available (emulated"), report);
        assertTrue(report.contains("cuda-emu:0: Nabla CUDA emulator"), report);
        assertTrue(report.contains("PTX modules: all 8 loaded"), report);
    }

    @Test
    void everyKernelLoadsWithItsSignatureMatchingThePtx() {
        // moduleLoad compares each kernel's C++ parameter sizes with its PTX .param list
        int kernels = 0;
        for (String module : Kernels.modules()) {
            driver().makeCurrent(driver().openContext(0));
            EmulatedDriver.Module m = (EmulatedDriver.Module) driver().moduleLoad(module, PtxResources.text(module));
            assertEquals(PtxInfo.entries(PtxResources.text(module)).size(), m.functions().size(), module);
            kernels += m.functions().size();
        }
        // the PTX's entries read once: reading them for each name took 10 s of the emulated suite
        List<String> all = EmulatedDriver.allKernels();
        Set<String> defined = new HashSet<>(all);
        assertEquals(all.size(), kernels);
        for (String name : Kernels.all()) {
            assertTrue(defined.contains(name), name);
        }
    }

    @Test
    void launchArgumentsAreCheckedAgainstThePtx() {
        driver().makeCurrent(driver().openContext(0));
        Object module = driver().moduleLoad("unary", PtxResources.text("unary"));
        Object exp = driver().moduleGetFunction(module, "unary_exp_float32");
        KernelArgs args = new KernelArgs();
        args.add(new KernelArgs.Ptr(0));
        args.add(new KernelArgs.Ptr(0));
        args.add(new KernelArgs.I32(3)); // the kernel's n is a 64-bit i64
        Object stream = driver().createStream();
        CudaException e = assertThrows(CudaException.class,
                () -> driver().launch(exp, 1, 1, 1, 32, 1, 1, stream, args));
        assertTrue(e.getMessage().contains("argument 2 is an int (4 bytes), the PTX parameter is 8 bytes"),
                e.getMessage());
        CudaException missing = assertThrows(CudaException.class,
                () -> driver().moduleGetFunction(module, "unary_nope_float32"));
        assertTrue(missing.getMessage().contains("CUDA_ERROR_NOT_FOUND"), missing.getMessage());
    }

    @Test
    void driverCallsWithoutAContextFail() throws InterruptedException {
        Throwable[] thrown = new Throwable[1];
        Thread t = Thread.ofPlatform().start(() -> {
            try {
                driver().memAlloc(512);
            } catch (Throwable e) {
                thrown[0] = e;
            }
        });
        t.join();
        assertTrue(thrown[0] instanceof CudaException c && c.code() == 201, String.valueOf(thrown[0]));
    }

    /** Defect: kernels first looked up from another thread ran without a current context. */
    @Test
    void kernelsFirstUsedFromSeveralThreadsRunWithTheContextCurrent() throws InterruptedException {
        Backends.close(EMU); // a fresh backend: no kernel looked up yet
        List<Function<Device, double[]>> work = List.of(
                d -> Tensor.arange(d, 37).to(DType.FLOAT64).exp().toDoubleArray(),
                d -> Tensor.arange(d, 12).reshape(3, 4).to(DType.FLOAT64).sum(1).toDoubleArray(),
                d -> Tensor.arange(d, 6).reshape(2, 3).to(DType.FLOAT32)
                        .matmul(Tensor.ones(d, 3, 2)).to(DType.FLOAT64).toDoubleArray(),
                d -> Tensor.arange(d, 6).reshape(2, 3).add(Tensor.arange(d, 3)).to(DType.FLOAT64).toDoubleArray(),
                d -> Tensor.arange(d, 5).gather(Tensor.of(d, new int[] {4, 0, 2}), 0).to(DType.FLOAT64)
                        .toDoubleArray(),
                d -> Tensor.arange(d, 40).reshape(4, 10).to(DType.FLOAT64).max(0).toDoubleArray());
        AtomicReferenceArray<Object> results = new AtomicReferenceArray<>(work.size());
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < work.size(); i++) {
            int k = i;
            threads.add(Thread.ofPlatform().start(() -> {
                try {
                    start.await();
                    results.set(k, work.get(k).apply(EMU));
                } catch (Throwable e) {
                    results.set(k, e);
                }
            }));
        }
        start.countDown();
        for (Thread t : threads) {
            t.join();
        }
        for (int i = 0; i < work.size(); i++) {
            if (results.get(i) instanceof Throwable e) {
                throw new AssertionError("work " + i + " failed", e);
            }
            double[] want = work.get(i).apply(Device.cpu());
            double[] got = (double[]) results.get(i);
            assertEquals(want.length, got.length, "work " + i);
            for (int j = 0; j < want.length; j++) { // exp is the host's libm here, an ulp from StrictMath
                assertEquals(want[j], got[j], 1e-14 * Math.max(1, Math.abs(want[j])), "work " + i + " element " + j);
            }
        }
    }

    /** Defect: uploads under 1 MiB used the synchronous cuMemcpyHtoD, which waits for the GPU. */
    @Test
    void uploadsOfEverySizeNeverWaitAndArriveIntact() {
        Tensor.zeros(EMU, 1).close(); // the backend and its stream exist
        long waits = driver().hostWaits();
        long copies = driver().synchronousCopies();
        List<Tensor> small = new ArrayList<>();
        List<float[]> expected = new ArrayList<>();
        Rng rng = Rng.seeded(7);
        for (int i = 0; i < 200; i++) {
            float[] data = rng.normal(Device.cpu(), DType.FLOAT32, 1 + (i * 37) % 900).toFloatArray();
            expected.add(data);
            small.add(Tensor.of(EMU, data));
        }
        assertEquals(0, driver().synchronousCopies() - copies, "no synchronous copy");
        assertEquals(0, driver().hostWaits() - waits, "200 small uploads waited for the device");
        // more than the whole ring (4 x 4 MiB) in flight: slots are reused only after their copies completed
        for (int i = 0; i < 6; i++) {
            float[] data = rng.normal(Device.cpu(), DType.FLOAT32, (3 << 20) / 4 + i * 1001).toFloatArray();
            expected.add(data);
            small.add(Tensor.of(EMU, data));
        }
        for (int i = 0; i < small.size(); i++) {
            assertArrayEquals(expected.get(i), small.get(i).toFloatArray(), "upload " + i);
            small.get(i).close();
        }
    }

    /** Defect: one cuBLAS handle per device was used from any thread without a lock. */
    @Test
    void oneCublasHandleServesSeveralThreads() throws InterruptedException {
        int n = 6;
        AtomicReferenceArray<Object> results = new AtomicReferenceArray<>(n);
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int k = i;
            threads.add(Thread.ofPlatform().start(() -> {
                try {
                    start.await();
                    Tensor a = Rng.seeded(k).normal(EMU, DType.FLOAT64, 3, 17, 9);
                    Tensor b = Rng.seeded(k + 100).normal(EMU, DType.FLOAT64, 9, 5);
                    Tensor acc = Tensor.full(EMU, 0, DType.FLOAT64, 3, 17, 5);
                    for (int r = 0; r < 30; r++) {
                        acc = acc.add(a.matmul(b));
                    }
                    results.set(k, acc.toDoubleArray());
                } catch (Throwable e) {
                    results.set(k, e);
                }
            }));
        }
        start.countDown();
        for (Thread t : threads) {
            t.join();
        }
        for (int k = 0; k < n; k++) {
            if (results.get(k) instanceof Throwable e) {
                throw new AssertionError("thread " + k + " failed", e);
            }
            Tensor a = Rng.seeded(k).normal(Device.cpu(), DType.FLOAT64, 3, 17, 9);
            Tensor b = Rng.seeded(k + 100).normal(Device.cpu(), DType.FLOAT64, 9, 5);
            double[] want = a.matmul(b).mul(30).toDoubleArray();
            assertArrayEquals(want, (double[]) results.get(k), 1e-9, "thread " + k);
        }
    }

    /** Defect: a bias add went through the rank-8 strided kernel, dividing per dimension per element. */
    @Test
    void biasAndColumnBroadcastsTakeTheTwoDimensionalKernel() {
        Tensor x = Rng.seeded(3).normal(EMU, DType.FLOAT32, 64, 10);
        Tensor bias = Rng.seeded(4).normal(EMU, DType.FLOAT32, 10);
        Tensor column = Rng.seeded(5).normal(EMU, DType.FLOAT32, 64, 1);
        java.util.Map<String, Long> before = EmulatedDriver.launches();
        float[] biased = x.add(bias).toFloatArray();
        float[] scaled = x.mul(column).toFloatArray();
        java.util.Map<String, Long> after = EmulatedDriver.launches();
        assertEquals(before.getOrDefault("binary_2d_add_float32", 0L) + 1, after.get("binary_2d_add_float32"));
        assertEquals(before.getOrDefault("binary_2d_mul_float32", 0L) + 1, after.get("binary_2d_mul_float32"));
        assertEquals(before.get("binary_strided_add_float32"), after.get("binary_strided_add_float32"));
        float[] xs = x.toFloatArray();
        float[] bs = bias.toFloatArray();
        float[] cs = column.toFloatArray();
        for (int i = 0; i < 640; i++) {
            assertEquals(xs[i] + bs[i % 10], biased[i], "bias add element " + i);
            assertEquals(xs[i] * cs[i / 10], scaled[i], "column broadcast element " + i);
        }
    }

    @Test
    void closeGivesTheCacheBackAndANewBackendFollows() {
        Tensor t = Tensor.ones(EMU, 1000);
        t.close();
        long before = driver().freeMemory();
        assertTrue(Backends.close(EMU));
        assertTrue(driver().freeMemory() > before, "the cached blocks went back to the driver");
        assertFalse(Backends.close(EMU), "already closed");
        assertArrayEquals(new float[] {2, 2}, Tensor.ones(EMU, 2).mul(2.0).toFloatArray());
    }
}
