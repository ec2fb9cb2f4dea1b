package dev.nabla.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nabla.DType;
import dev.nabla.Device;
import dev.nabla.GradientTape;
import dev.nabla.Nabla;
import dev.nabla.Tensor;
import dev.nabla.Variable;
import dev.nabla.backend.Backends;
import dev.nabla.backend.Buffer;
import dev.nabla.backend.Replay;
import dev.nabla.backend.UnaryOp;
import dev.nabla.graph.TracedFunction;
import dev.nabla.optim.Adam;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiFunction;
import java.util.function.Supplier;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Replayed traced functions as CUDA graphs (issue 10, section 3) on the emulated driver: the plan's runs of pure
 * primitives are captured once, at the plan's second run, and each later call launches one graph per run; results
 * are the bits of eager execution and of replay without graphs.
 *
 * <p>What the emulator cannot see about real CUDA graphs: the launch overhead a graph saves (it runs the same
 * kernels one after another on one host thread), the driver's own rules for which calls a capture tolerates beyond
 * the ones the backend refuses itself, cuBLAS inside a capture (its workspace allocation), and graph-instantiation
 * failures of a real driver. {@code scripts/gpu-check.sh} runs these tests on a GPU.
 */
class EmuCudaGraphTest {
    static final Device EMU = EmuTests.EMU;

    @BeforeAll
    static void emulatorBuilds() {
        EmuTests.requireEmulator();
    }

    private static EmulatedDriver driver() {
        return EmulatedDriver.instance();
    }

    private static Tensor random(Random r, long... shape) {
        long n = 1;
        for (long s : shape) {
            n *= s;
        }
        float[] v = new float[(int) n];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) r.nextGaussian();
        }
        return Tensor.of(EMU, v, shape);
    }

    /** {@code make} run with graph capture off for the plans it builds. */
    private static <T> T withoutCapture(Supplier<T> make) {
        System.setProperty("nabla.graph.capture", "false");
        try {
            return make.get();
        } finally {
            System.clearProperty("nabla.graph.capture");
        }
    }

    /** Calls {@code f} twice with capture off, so that its plan (built at the second call) never records. */
    private static TracedFunction uncaptured(BiFunction<Tensor, Tensor, Tensor> body, Tensor x, Tensor y) {
        return withoutCapture(() -> {
            TracedFunction f = Nabla.function(body);
            f.call(x, y).close();
            f.call(x, y).close();
            return f;
        });
    }

    @Test
    void aReplayedGraphGivesTheBitsOfEagerAndOfReplayWithoutGraphs() {
        Random r = new Random(3);
        Variable w = new Variable(random(r, 16, 8), "w", true);
        Tensor bias = random(r, 8);
        BiFunction<Tensor, Tensor, Tensor> body = (x, idx) -> x.matmul(w).add(bias).relu().gather(idx, 0)
                .tanh().mul(x.sum(1).expandDims(1).gather(idx, 0)).sum(0).neg();
        Tensor idx = Tensor.of(EMU, new int[] {3, 0, 3, 5, 1});
        TracedFunction graphs = Nabla.function(body);
        TracedFunction plain = uncaptured(body, random(r, 6, 16), idx);
        for (int call = 0; call < 6; call++) {
            Tensor x = random(r, 6, 16);
            float[] eager = body.apply(x, idx).toFloatArray();
            assertArrayEquals(eager, graphs.call(x, idx).toFloatArray(), "call " + call);
            assertArrayEquals(eager, plain.call(x, idx).toFloatArray(), "call " + call);
        }
        assertTrue(graphs.listing().contains("steps recorded as device graphs"), graphs.listing());
        assertFalse(plain.listing().contains("recorded"), plain.listing());
    }

    @Test
    void afterCaptureOneReplayIsOneGraphLaunch() {
        Random r = new Random(4);
        Variable w = new Variable(random(r, 32, 32), "w", true);
        TracedFunction f = Nabla.function((Tensor x) -> x.matmul(w).tanh().matmul(w).relu().sum(0).mul(0.5));
        for (int i = 0; i < 3; i++) { // trace, plan (run normally), capture
            f.call(random(r, 4, 32)).close();
        }
        Tensor x = random(r, 4, 32);
        long kernels = driver().kernelLaunches();
        long graphs = driver().graphLaunches();
        long waits = driver().hostWaits();
        Tensor y = f.call(x);
        assertEquals(0, driver().kernelLaunches() - kernels, "kernel launches of one replay");
        assertEquals(1, driver().graphLaunches() - graphs, "graph launches of one replay");
        assertEquals(0, driver().hostWaits() - waits, "a replay waited for the device");
        assertArrayEquals(x.matmul(w).tanh().matmul(w).relu().sum(0).mul(0.5).toFloatArray(), y.toFloatArray());
    }

    @Test
    void aTrainingStepWithAdamTrainsIdenticallyWithGraphs() {
        Random r = new Random(5);
        Tensor w1init = random(r, 24, 16).mul(0.3);
        Tensor w2init = random(r, 16, 4).mul(0.3);
        List<Tensor> xs = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            xs.add(random(r, 8, 24));
        }
        long graphs = driver().graphLaunches();
        float[][] captured = train(w1init, w2init, xs, true);
        assertTrue(driver().graphLaunches() - graphs >= 10, "graph launches " + (driver().graphLaunches() - graphs));
        float[][] eager = train(w1init, w2init, xs, false);
        float[][] plain = withoutCapture(() -> train(w1init, w2init, xs, true));
        for (int i = 0; i < eager.length; i++) {
            assertArrayEquals(eager[i], captured[i], "row " + i + " (losses, then weights)");
            assertArrayEquals(eager[i], plain[i], "row " + i + " (losses, then weights)");
        }
        assertTrue(eager[0][0] > eager[0][eager[0].length - 1], "the loss fell");
    }

    /** 12 Adam steps over {@code xs} in turn: the losses, then the trained weights. */
    private static float[][] train(Tensor w1init, Tensor w2init, List<Tensor> xs, boolean traced) {
        Variable w1 = new Variable(w1init, "w1", true);
        Variable w2 = new Variable(w2init, "w2", true);
        Adam adam = new Adam(0.01);
        java.util.function.Function<Tensor, Tensor> step = x -> {
            try (GradientTape tape = new GradientTape()) {
                Tensor loss = x.matmul(w1).tanh().matmul(w2).logSoftmax(1).mean().neg();
                adam.applyGradients(tape.gradient(loss, List.of(w1, w2)), List.of(w1, w2));
                return loss;
            }
        };
        TracedFunction f = Nabla.function(step);
        float[] losses = new float[12];
        for (int i = 0; i < losses.length; i++) {
            Tensor x = xs.get(i % xs.size());
            try (Tensor loss = traced ? f.call(x) : step.apply(x)) {
                losses[i] = loss.toFloatArray()[0];
            }
        }
        return new float[][] {losses, w1.toFloatArray(), w2.toFloatArray()};
    }

    @Test
    void aVariableAssignedBetweenCallsIsReadAgainAndAClosedOneFailsAsWithoutGraphs() {
        Random r = new Random(6);
        Variable v = new Variable(random(r, 5, 3), "v", true);
        Tensor x = random(r, 5, 3);
        TracedFunction f = Nabla.function(() -> x.mul(v).exp().sum(0));
        for (int i = 0; i < 3; i++) {
            f.call().close();
        }
        for (int i = 0; i < 3; i++) {
            v.assign(random(r, 5, 3));
            assertArrayEquals(x.mul(v).exp().sum(0).toFloatArray(), f.call().toFloatArray(), "after assign " + i);
        }
        Variable u = new Variable(random(r, 5, 3), "u", true);
        TracedFunction g = Nabla.function(() -> x.mul(u).exp().sum(0));
        for (int i = 0; i < 3; i++) {
            g.call().close();
        }
        u.close();
        RuntimeException e = assertThrows(RuntimeException.class, g::call);
        Variable plainU = new Variable(random(r, 5, 3), "u", true);
        TracedFunction plain = withoutCapture(() -> {
            TracedFunction p = Nabla.function(() -> x.mul(plainU).exp().sum(0));
            p.call().close();
            p.call().close();
            return p;
        });
        plainU.close();
        RuntimeException without = assertThrows(RuntimeException.class, plain::call);
        assertEquals(without.getClass(), e.getClass());
        assertEquals(without.getMessage(), e.getMessage());
    }

    @Test
    void aStepThatCannotBeCapturedRunsWithoutAGraph() {
        Random r = new Random(7);
        // moving a CPU input to the device uploads it: not capturable, so the run falls back to plain replay
        BiFunction<Tensor, Tensor, Tensor> body = (host, y) -> host.to(EMU).mul(y).tanh().sum();
        TracedFunction f = Nabla.function(body);
        long graphs = driver().graphLaunches();
        for (int call = 0; call < 5; call++) {
            Tensor host = Tensor.of(Device.cpu(), new float[] {(float) r.nextGaussian(), 2, 3});
            Tensor y = random(r, 3);
            assertArrayEquals(body.apply(host, y).toFloatArray(), f.call(host, y).toFloatArray(), "call " + call);
        }
        assertEquals(0, driver().graphLaunches() - graphs);
        assertFalse(f.listing().contains("recorded"), f.listing());
    }

    @Test
    void aFailedCaptureRunsNothingAndTheNextCaptureWorks() {
        CudaBackend b = (CudaBackend) Backends.get(EMU);
        Buffer in = b.upload(new float[] {0, 1, 2}, DType.FLOAT32);
        Buffer out = b.upload(new float[] {7, 7, 7}, DType.FLOAT32);
        assertNull(b.capture(() -> {
            b.unary(UnaryOp.EXP, in, out);
            b.readFloats(out); // a host read cannot be replayed by a graph
        }));
        assertArrayEquals(new float[] {7, 7, 7}, b.readFloats(out), "the failed capture ran its body");
        Replay replay = b.capture(() -> b.unary(UnaryOp.NEG, in, out));
        assertNotNull(replay);
        assertArrayEquals(new float[] {7, 7, 7}, b.readFloats(out), "capturing ran the body");
        replay.launch();
        assertArrayEquals(new float[] {-0f, -1, -2}, b.readFloats(out));
        replay.close();
        assertThrows(IllegalStateException.class, replay::launch);
        in.release();
        out.release();
    }

    /** The capture stream is the capturing thread's only: another thread's work meanwhile runs, unrecorded. */
    @Test
    void anotherThreadsWorkDuringACaptureRunsAndIsNotRecorded() throws Exception {
        CudaBackend b = (CudaBackend) Backends.get(EMU);
        Buffer in = b.upload(new float[] {1, 2, 3}, DType.FLOAT32);
        Buffer out = b.upload(new float[] {0, 0, 0}, DType.FLOAT32);
        CountDownLatch inside = new CountDownLatch(1);
        CountDownLatch done = new CountDownLatch(1);
        AtomicReference<Object> other = new AtomicReference<>();
        Thread t = Thread.ofPlatform().start(() -> {
            try {
                inside.await();
                Tensor x = Tensor.of(EMU, new float[] {4, 5, 6});
                other.set(x.mul(2).add(x).toFloatArray()); // uploads, kernels, a synchronizing read
            } catch (Throwable e) {
                other.set(e);
            } finally {
                done.countDown();
            }
        });
        Replay replay = b.capture(() -> {
            b.unary(UnaryOp.NEG, in, out);
            inside.countDown();
            try {
                done.await();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
            b.unary(UnaryOp.NEG, out, out);
            b.unary(UnaryOp.EXP, out, out);
        });
        t.join();
        assertArrayEquals(new float[] {12, 15, 18}, (float[]) other.get());
        assertNotNull(replay);
        assertArrayEquals(new float[] {0, 0, 0}, b.readFloats(out));
        long kernels = driver().kernelLaunches();
        replay.launch();
        assertArrayEquals(new float[] {(float) Math.exp(1), (float) Math.exp(2), (float) Math.exp(3)},
                b.readFloats(out), 1e-6f);
        assertEquals(0, driver().kernelLaunches() - kernels, "the other thread's kernels were recorded");
        replay.close();
        in.release();
        out.release();
    }

    @Test
    void aBadIndexInsideAGraphIsRaisedAtTheReadNamingTheOp() {
        Tensor params = Tensor.of(EMU, new float[] {1, 2, 3, 4});
        TracedFunction f = Nabla.function((Tensor idx) -> params.gather(idx, 0).mul(2).add(1));
        for (int i = 0; i < 3; i++) {
            f.call(Tensor.of(EMU, new int[] {3, 0})).close();
        }
        long graphs = driver().graphLaunches();
        Tensor bad = f.call(Tensor.of(EMU, new int[] {1, 4}));
        assertEquals(1, driver().graphLaunches() - graphs);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, bad::toFloatArray);
        assertTrue(e.getMessage().startsWith("gather: index 4 at position 1 is out of range [0, 4) for axis 0 of "
                + "(4,)"), e.getMessage());
        assertArrayEquals(new float[] {7, 3}, f.call(Tensor.of(EMU, new int[] {2, 0})).toFloatArray());
    }

    @Test
    void theDriverRefusesToWaitForACapturingStream() {
        EmulatedDriver d = driver();
        d.makeCurrent(d.openContext(0));
        Object stream = d.createNonBlockingStream();
        d.streamBeginCapture(stream);
        CudaException wait = assertThrows(CudaException.class, () -> d.streamSynchronize(stream));
        assertEquals(900, wait.code());
        CudaException end = assertThrows(CudaException.class, () -> d.streamEndCapture(stream));
        assertEquals(901, end.code(), "the capture was invalidated");
        d.streamBeginCapture(stream); // the stream left capture mode: it can capture again
        Object graph = d.streamEndCapture(stream);
        d.graphLaunch(d.graphInstantiate(graph), stream);
        d.streamSynchronize(stream);
    }
}
