package dev.nabla.conformance;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nabla.DType;
import dev.nabla.Device;
import dev.nabla.GradientTape;
import dev.nabla.MemoryStats;
import dev.nabla.Nabla;
import dev.nabla.Scope;
import dev.nabla.Tensor;
import dev.nabla.Variable;
import dev.nabla.backend.AllocationTracker;
import dev.nabla.conformance.memory.Settle;
import dev.nabla.internal.TensorAccess;
import dev.nabla.ops.Deferral;
import dev.nabla.optim.Adam;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.BinaryOperator;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/**
 * Deferred element-wise chains ({@link Deferral}): the values are the bits the ops give one at a time, whatever
 * happens to the inputs before they are read; where a backend does not defer, the same calls must simply agree.
 * Every test defers from one element on.
 */
class DeferralTest {
    private long previous;

    @BeforeEach
    void deferEverything() {
        previous = Deferral.minElements(1);
    }

    @AfterEach
    void restore() {
        Deferral.minElements(previous);
    }

    private static boolean defers(Device d) {
        return TensorAccess.backend(Tensor.zeros(d, 1)).defersElementwise();
    }

    private static final List<UnaryOperator<Tensor>> UNARY = List.of(Tensor::exp, Tensor::neg, Tensor::tanh,
            Tensor::sigmoid, Tensor::relu, Tensor::abs, Tensor::square, Tensor::sqrt, Tensor::log, t -> t.mul(0.75),
            t -> t.pow(3));
    private static final List<BinaryOperator<Tensor>> BINARY = List.of(Tensor::add, Tensor::sub, Tensor::mul,
            Tensor::div, Tensor::maximum, Tensor::minimum, Tensor::pow);

    /** Random chains over random shapes (broadcasts, size 0 and 1, scalars): deferred bits equal eager bits. */
    @OnEachDevice
    void randomChainsGiveTheEagerBits(Device d) {
        Random r = new Random(11);
        long[][] shapes = {{}, {1}, {0}, {5}, {3, 4}, {1, 4}, {3, 1}, {2, 0, 3}, {2, 3, 4}, {1, 1, 4}, {64, 33}};
        int chained = 0;
        for (int trial = 0; trial < 300; trial++) {
            DType t = r.nextBoolean() ? DType.FLOAT32 : DType.FLOAT64;
            long[] shape = shapes[r.nextInt(shapes.length)];
            int inputs = 1 + r.nextInt(3);
            long[][] inputShapes = new long[inputs][];
            double[][] values = new double[inputs][];
            for (int i = 0; i < inputs; i++) {
                inputShapes[i] = broadcastable(r, shape);
                values[i] = new double[(int) dev.nabla.Shape.of(inputShapes[i]).size()];
                for (int k = 0; k < values[i].length; k++) {
                    values[i][k] = r.nextInt(10) == 0 ? 0 : r.nextGaussian() * 3;
                }
            }
            long seed = r.nextLong();
            Deferral.minElements(-1);
            double[] eager = chain(d, t, inputShapes, values, seed, new int[1]).toDoubleArray();
            Deferral.minElements(1);
            int[] longest = new int[1];
            Tensor deferred = chain(d, t, inputShapes, values, seed, longest);
            assertBitsEqual(eager, deferred.toDoubleArray(), "trial " + trial + " " + t + " " + deferred.shape());
            assertEquals(0, Deferral.pendingSteps(deferred), "computed once read");
            chained += longest[0] >= 2 ? 1 : 0;
        }
        if (defers(d)) {
            assertTrue(chained > 100, "chains of two or more deferred steps: " + chained);
        }
    }

    /** Up to eight random ops over the inputs; {@code longest[0]} the longest deferred chain met before the read. */
    private static Tensor chain(Device d, DType t, long[][] shapes, double[][] values, long seed, int[] longest) {
        Random r = new Random(seed);
        List<Tensor> live = new ArrayList<>();
        for (int i = 0; i < shapes.length; i++) {
            live.add(DeviceTensors.of(d, t, shapes[i], values[i]));
        }
        Tensor last = live.get(0);
        int ops = 1 + r.nextInt(8);
        for (int k = 0; k < ops; k++) {
            Tensor x = r.nextInt(3) > 0 ? last : live.get(r.nextInt(live.size()));
            if (r.nextBoolean()) {
                last = UNARY.get(r.nextInt(UNARY.size())).apply(x);
            } else {
                Tensor y = live.get(r.nextInt(live.size()));
                last = r.nextBoolean() ? BINARY.get(r.nextInt(BINARY.size())).apply(x, y)
                        : BINARY.get(r.nextInt(BINARY.size())).apply(y, x);
            }
            live.add(last);
            longest[0] = Math.max(longest[0], Deferral.pendingSteps(last));
        }
        return last;
    }

    /** {@code shape} with some dimensions set to 1 or dropped from the front (broadcasting back to it). */
    private static long[] broadcastable(Random r, long[] shape) {
        int drop = shape.length == 0 ? 0 : r.nextInt(shape.length + 1) / 2;
        long[] s = new long[shape.length - drop];
        for (int i = 0; i < s.length; i++) {
            long dim = shape[i + drop];
            s[i] = r.nextInt(4) == 0 ? 1 : dim;
        }
        return s;
    }

    private static void assertBitsEqual(double[] expected, double[] actual, String what) {
        assertEquals(expected.length, actual.length, what);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(Double.doubleToLongBits(expected[i]), Double.doubleToLongBits(actual[i]),
                    what + " element " + i + ": " + expected[i] + " vs " + actual[i]);
        }
    }

    /**
     * A sum over the last axes of a deferred chain runs with it in one pass, with the bits of the chain's values
     * summed; the chain itself stays deferred and gives its bits when read. Other axes sum its computed values.
     */
    @OnEachDevice
    void sumsOfChainsGiveTheEagerBits(Device d) {
        Random r = new Random(12);
        int[][] axesChoices = {{2}, {1, 2}, {0, 1, 2}, {0}, {1}, {0, 2}};
        for (int trial = 0; trial < 60; trial++) {
            DType t = trial % 2 == 0 ? DType.FLOAT32 : DType.FLOAT64;
            long[] shape = {1 + r.nextInt(3), r.nextInt(4), 1 + r.nextInt(300)};
            double[] x = new double[(int) (shape[0] * shape[1] * shape[2])];
            double[] y = new double[x.length];
            for (int k = 0; k < x.length; k++) {
                x[k] = r.nextGaussian() * 1e3;
                y[k] = r.nextGaussian();
            }
            int[] axes = axesChoices[trial % axesChoices.length];
            Tensor a = DeviceTensors.of(d, t, shape, x);
            Tensor b = DeviceTensors.of(d, t, shape, y);
            Deferral.minElements(-1);
            double[] eagerChain = a.mul(b).sub(a.square()).toDoubleArray();
            double[] eagerSum = a.mul(b).sub(a.square()).sum(axes).toDoubleArray();
            Deferral.minElements(1);
            Tensor chain = a.mul(b).sub(a.square());
            Tensor sum = chain.sum(axes);
            String what = "trial " + trial + " " + t + " " + chain.shape() + " axes " + java.util.Arrays.toString(axes);
            if (defers(d) && chain.size() > 0 && axes[axes.length - 1] == 2
                    && axes.length == axes[axes.length - 1] - axes[0] + 1) {
                assertEquals(3, Deferral.pendingSteps(chain), what + ": the chain is not computed by its sum");
            }
            assertBitsEqual(eagerSum, sum.toDoubleArray(), what + " sum");
            assertBitsEqual(eagerChain, chain.toDoubleArray(), what + " chain");
        }
    }

    /**
     * A softmax's pattern: a sum over the last axes of a chain with a transcendental, whose values are read next. The
     * sum materializes the chain in its own pass (one exp, not two), with the bits of the chain's values summed and
     * the chain's own bits; shapes of short rows (several a block) and long ones (several blocks a row).
     */
    @OnEachDevice
    void aCostlyChainIsMaterializedByItsSumWithTheEagerBits(Device d) {
        Random r = new Random(13);
        long[][] shapes = {{3, 700}, {40, 10}, {900, 10}, {2, 3, 9000}, {1, 1}, {5, 1}};
        for (DType t : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            for (long[] shape : shapes) {
                double[] x = new double[(int) java.util.Arrays.stream(shape).reduce(1, (p, q) -> p * q)];
                for (int k = 0; k < x.length; k++) {
                    x[k] = r.nextGaussian() * 3;
                }
                Tensor a = DeviceTensors.of(d, t, shape, x);
                Tensor m = a.max(new int[] {shape.length - 1}, true);
                Deferral.minElements(-1);
                double[] eagerExp = a.sub(m).exp().toDoubleArray();
                double[] eagerSum = a.sub(m).exp().sum(shape.length - 1).toDoubleArray();
                double[] eagerSoftmax = a.softmax(shape.length - 1).toDoubleArray();
                Deferral.minElements(1);
                Tensor e = a.sub(m).exp();
                Tensor sum = e.sum(shape.length - 1);
                String what = t + " " + e.shape();
                if (defers(d)) {
                    assertEquals(0, Deferral.pendingSteps(e), what + ": exp is materialized by its sum");
                }
                assertBitsEqual(eagerSum, sum.toDoubleArray(), what + " sum");
                assertBitsEqual(eagerExp, e.toDoubleArray(), what + " exp");
                assertBitsEqual(eagerSoftmax, a.softmax(shape.length - 1).toDoubleArray(), what + " softmax");
            }
        }
    }

    @OnEachDevice
    void aChainRunsAsOneStepListAndItsInputsMayBeClosedFirst(Device d) {
        Tensor a = DeviceTensors.of(d, DType.FLOAT32, new long[] {2, 3}, new double[] {1, 2, 3, 4, 5, 6});
        Tensor b = DeviceTensors.of(d, DType.FLOAT32, new long[] {3}, new double[] {0.5, -1, 2});
        Tensor y = a.mul(b).add(a).relu();
        if (defers(d)) {
            assertEquals(3, Deferral.pendingSteps(y), "a * b + a, relu: three steps, nothing computed");
        }
        a.close();
        b.close();
        assertArrayEquals(new float[] {1.5f, 0, 9, 6, 0, 18}, y.toFloatArray());
    }

    @OnEachDevice
    void aChainReadByTwoOpsIsTakenOverOnceThenComputed(Device d) {
        Tensor a = DeviceTensors.of(d, DType.FLOAT64, new long[] {4}, new double[] {1, 2, 3, 4});
        Tensor t = a.exp();
        Tensor u = t.add(1);
        Tensor v = t.add(2);
        if (defers(d)) {
            assertEquals(2, Deferral.pendingSteps(u), "u took over t's step");
            assertEquals(0, Deferral.pendingSteps(t), "a second reader computes t: exp is not computed twice");
            assertEquals(1, Deferral.pendingSteps(v), "v reads t's values");
        }
        Deferral.minElements(-1);
        double[] e = a.exp().toDoubleArray();         // the device's exp, one op at a time
        Deferral.minElements(1);
        assertArrayEquals(new double[] {e[0] + 1, e[1] + 1, e[2] + 1, e[3] + 1}, u.toDoubleArray());
        assertArrayEquals(new double[] {e[0] + 2, e[1] + 2, e[2] + 2, e[3] + 2}, v.toDoubleArray());
        assertArrayEquals(e, t.toDoubleArray());
        Tensor w = t.mul(t);                       // one input read twice: one leaf
        assertArrayEquals(new double[] {e[0] * e[0], e[1] * e[1], e[2] * e[2], e[3] * e[3]}, w.toDoubleArray());
    }

    /**
     * A chain of one-instruction steps over inputs no larger than it is computed again by each of up to four readers
     * rather than stored; one over a larger input (two full-size operands) or of a transcendental is taken over once.
     */
    @OnEachDevice
    void cheapChainsAreTakenOverByUpToFourReaders(Device d) {
        Tensor a = DeviceTensors.of(d, DType.FLOAT64, new long[] {4}, new double[] {1, 2, 3, 4});
        Tensor row = DeviceTensors.of(d, DType.FLOAT64, new long[] {1}, new double[] {0.5});
        Tensor t = a.add(row).square();
        Tensor[] readers = new Tensor[5];
        for (int k = 0; k < readers.length; k++) {
            readers[k] = t.mul(k + 1);
            if (defers(d)) {
                assertEquals(k < Deferral.MAX_TAKEOVERS ? 3 : 1, Deferral.pendingSteps(readers[k]), "reader " + k);
                assertEquals(k < Deferral.MAX_TAKEOVERS ? 2 : 0, Deferral.pendingSteps(t), "after reader " + k);
            }
        }
        for (int k = 0; k < readers.length; k++) {
            double[] want = new double[4];
            for (int i = 0; i < 4; i++) {
                want[i] = (i + 1.5) * (i + 1.5) * (k + 1);
            }
            assertArrayEquals(want, readers[k].toDoubleArray(), "reader " + k);
        }
        Tensor b = DeviceTensors.of(d, DType.FLOAT64, new long[] {4}, new double[] {4, 3, 2, 1});
        Tensor wide = a.add(b);                    // reads twice its size: stored rather than read twice
        Tensor first = wide.mul(2);
        Tensor second = wide.mul(3);
        if (defers(d)) {
            assertEquals(2, Deferral.pendingSteps(first));
            assertEquals(0, Deferral.pendingSteps(wide), "a second reader computes it");
            assertEquals(1, Deferral.pendingSteps(second));
        }
        assertArrayEquals(new double[] {10, 10, 10, 10}, first.toDoubleArray());
        assertArrayEquals(new double[] {15, 15, 15, 15}, second.toDoubleArray());
    }

    @OnEachDevice
    void reshapedAndBroadcastChainsAreComputedBeforeTheyAreRead(Device d) {
        Tensor a = DeviceTensors.of(d, DType.FLOAT32, new long[] {2, 3}, new double[] {1, 2, 3, 4, 5, 6});
        Tensor c = DeviceTensors.of(d, DType.FLOAT32, new long[] {6}, new double[] {10, 20, 30, 40, 50, 60});
        // the chain's steps index (2, 3); read as (6) they would be read with the wrong strides
        Tensor flat = a.mul(2).reshape(6).add(c);
        assertArrayEquals(new float[] {12, 24, 36, 48, 60, 72}, flat.toFloatArray());
        Tensor row = c.reshape(2, 3).sub(1).sum(0);          // not element-wise: computes its input
        Tensor broadcast = a.add(row.mul(0.5f));              // (3,) chain broadcast over (2, 3): computed first
        assertArrayEquals(new float[] {25, 36, 47, 28, 39, 50}, broadcast.toFloatArray());
        Tensor transposed = a.add(1).transpose().mul(2);      // a strided copy of a chain computes it
        assertArrayEquals(new float[] {4, 10, 6, 12, 8, 14}, transposed.toFloatArray());
    }

    @OnEachDevice
    void longChainsStartOverAtTheStepLimit(Device d) {
        Tensor x = DeviceTensors.of(d, DType.FLOAT32, new long[] {3}, new double[] {1, 2, 4});
        float[] expected = {1, 2, 4};
        for (int i = 0; i < 1000; i++) {
            x = x.mul(0.999f).add(0.001f);
            for (int k = 0; k < 3; k++) {
                expected[k] = expected[k] * 0.999f + 0.001f;
            }
            assertTrue(Deferral.pendingSteps(x) <= 32, "step " + i + ": " + Deferral.pendingSteps(x));
        }
        assertArrayEquals(expected, x.toFloatArray());
    }

    @OnEachDevice
    void variablesAndOptimizerSlotsAreReadWhenTheOpRuns(Device d) {
        Variable v = new Variable(DeviceTensors.of(d, DType.FLOAT32, new long[] {2}, new double[] {1, 2}));
        Tensor y = v.mul(3);
        assertEquals(0, Deferral.pendingSteps(y), "an op on a Variable is computed at once");
        double[] rows = new double[32];
        Tensor wide = DeviceTensors.of(d, DType.FLOAT32, new long[] {16, 2}, rows);
        Tensor biased = wide.add(v);               // v a sixteenth of the output: copied now, the add deferred
        if (defers(d)) {
            assertEquals(1, Deferral.pendingSteps(biased), "a small Variable is copied and the op deferred");
        }
        v.assign(DeviceTensors.of(d, DType.FLOAT32, new long[] {2}, new double[] {10, 20}));
        assertArrayEquals(new float[] {3, 6}, y.toFloatArray());
        float[] expected = new float[32];
        for (int i = 0; i < 32; i++) {
            expected[i] = 1 + i % 2;                // v's values when the add ran
        }
        assertArrayEquals(expected, biased.toFloatArray());

        Adam adam = Adam.builder().learningRate(0.1).build();
        adam.applyGradients(List.of(Tensor.onesLike(v)), List.of(v));
        Tensor m = adam.state().get("0/Variable/m");
        Tensor firstMoment = m.mul(1);
        assertEquals(0, Deferral.pendingSteps(firstMoment), "an op on an optimizer slot is computed at once");
        float[] before = m.toFloatArray();
        adam.applyGradients(List.of(Tensor.onesLike(v)), List.of(v));
        assertArrayEquals(before, firstMoment.toFloatArray());
    }

    /**
     * Under a recording tape only cheap chains are taken over (a gradient rule may read what a reader took over, and
     * it is then computed again), and the gradients are the bits of the ops run one at a time.
     */
    @OnEachDevice
    void underATapeOnlyCheapChainsAreTakenOverAndGradientsAgree(Device d) {
        Tensor x = DeviceTensors.of(d, DType.FLOAT64, new long[] {3}, new double[] {0.5, 1, 2});
        Tensor c = DeviceTensors.of(d, DType.FLOAT64, new long[] {3}, new double[] {1, 2, 3});
        Tensor b = DeviceTensors.of(d, DType.FLOAT64, new long[] {1}, new double[] {0.25});
        double[][] eager = gradients(x, c, b);
        if (defers(d)) {
            try (GradientTape tape = new GradientTape()) {
                tape.watch(x);
                Tensor e = x.mul(c).exp();
                Tensor read = e.mul(c);
                assertEquals(1, Deferral.pendingSteps(read), "exp is stored, as the tape will read it");
                Tensor s = x.add(b).square().mul(c);
                assertEquals(3, Deferral.pendingSteps(s), "add, square and mul taken over under the tape");
            }
        }
        Deferral.minElements(-1);
        double[][] unfused = gradients(x, c, b);
        Deferral.minElements(1);
        for (int k = 0; k < eager.length; k++) {
            assertBitsEqual(unfused[k], eager[k], "gradient " + k);
        }
        double[] xs = {0.5, 1, 2};
        for (int i = 0; i < 3; i++) {
            double want = (i + 1) * Math.exp(xs[i] * (i + 1)) + 2 * (xs[i] + 0.25) * (i + 1);
            assertEquals(want, eager[0][i], 1e-12 * Math.abs(want));
        }
    }

    /** d/dx and d/db of {@code sum(exp(x c)) + sum((x + b)^2 c)}, and the value, as double arrays. */
    private static double[][] gradients(Tensor x, Tensor c, Tensor b) {
        try (GradientTape tape = new GradientTape()) {
            tape.watch(x, b);
            Tensor y = x.mul(c).exp().sum().add(x.add(b).square().mul(c).sum());
            List<Tensor> g = tape.gradient(y, List.of(x, b));
            return new double[][] {g.get(0).toDoubleArray(), g.get(1).toDoubleArray(), y.toDoubleArray()};
        }
    }

    /** A deferred buffer, allocated when first read, is listed in the leak report under the line that ran its op. */
    @OnEachDevice
    void aDeferredBufferIsTrackedWhereItsOpRan(Device d) {
        boolean was = AllocationTracker.enabled();
        AllocationTracker.setEnabled(true);
        try {
            Tensor a = Tensor.zeros(d, 4096);
            int line = new Throwable().getStackTrace()[0].getLineNumber() + 1;
            Tensor y = a.add(1);
            readLater(y);
            String site = "DeferralTest.aDeferredBufferIsTrackedWhereItsOpRan(DeferralTest.java:" + line + ")";
            assertTrue(d.leakReport().sites().stream()
                    .anyMatch(s -> s.site().endsWith(site) && s.op().equals("Tensor.add") && s.bytes() >= 4 * 4096),
                    site + " in\n" + d.leakReport());
            y.close();
            a.close();
        } finally {
            AllocationTracker.setEnabled(was);
        }
    }

    private static void readLater(Tensor t) {
        assertEquals(1f, t.toFloatArray()[4095]);
    }

    @OnEachDevice
    void aScopeClosesTheChainsItTookOverAndKeepsTheResult(Device d) {
        Tensor a = DeviceTensors.of(d, DType.FLOAT32, new long[] {3}, new double[] {1, 2, 3});
        Tensor kept;
        try (Scope s = Nabla.scope()) {
            Tensor b = a.add(1);
            kept = s.keep(b.mul(b).sub(a));
        }
        assertArrayEquals(new float[] {3, 7, 13}, kept.toFloatArray());
    }

    @OnEachDevice
    void threadsReadingOneChainSeeTheSameValues(Device d) throws Exception {
        double[] values = new double[4096];
        for (int i = 0; i < values.length; i++) {
            values[i] = i * 0.01;
        }
        Tensor a = DeviceTensors.of(d, DType.FLOAT32, new long[] {values.length}, values);
        Deferral.minElements(-1);
        float[] expected = a.sin().mul(a).add(a).toFloatArray();
        Deferral.minElements(1);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            for (int round = 0; round < 20; round++) {
                Tensor y = a.sin().mul(a).add(a);
                List<Future<float[]>> reads = new ArrayList<>();
                for (int k = 0; k < 4; k++) {
                    reads.add(pool.submit(y::toFloatArray));
                }
                for (Future<float[]> f : reads) {
                    assertArrayEquals(expected, f.get());
                }
            }
        } finally {
            pool.shutdown();
        }
    }

    /**
     * A deferred chain keeps its closed inputs' buffers until it is closed itself, then gives everything back; its
     * own buffer is allocated only when computed, and a taken-over chain's never.
     */
    @OnEachDevice
    void closingAChainGivesItsInputsBack(Device d) throws InterruptedException {
        MemoryStats base = Settle.settled(d);
        double[] values = new double[8192];                  // 32 KiB: pooled, counted
        Tensor a = DeviceTensors.of(d, DType.FLOAT32, new long[] {values.length}, values);
        Tensor b = DeviceTensors.of(d, DType.FLOAT32, new long[] {values.length}, values);
        Tensor y = a.mul(b).add(a);
        long bytes = 4L * values.length;
        a.close();
        b.close();
        if (defers(d)) {
            assertEquals(base.allocated() + 2 * bytes, Settle.settled(d).allocated(), "the inputs y reads, only");
            y.evaluate();
            assertEquals(base.allocated() + bytes, Settle.settled(d).allocated(), "y, computed");
        }
        y.close();
        MemoryStats after = Settle.backTo(d, base, 3000);
        assertEquals(base.allocated(), after.allocated(), base + " -> " + after);
    }
}
