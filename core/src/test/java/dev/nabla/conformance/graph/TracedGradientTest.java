package dev.nabla.conformance.graph;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.nabla.DType;
import dev.nabla.Device;
import dev.nabla.GradientTape;
import dev.nabla.Nabla;
import dev.nabla.Rng;
import dev.nabla.Scope;
import dev.nabla.Tensor;
import dev.nabla.Variable;
import dev.nabla.check.GradientChecker;
import dev.nabla.conformance.OnEachDevice;
import dev.nabla.graph.GraphFunction;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.Function;

/**
 * A replayed call under a tape is one tape node whose gradient is a traced backward function: its gradients equal the
 * eager body's bit for bit (accumulation order included), it is traced once per signature, and the calls it cannot
 * take (effects, random draws) still give the eager gradients op by op.
 */
class TracedGradientTest {
    /**
     * A body of {@code shapes.length} inputs and the Variables it reads; {@code outside} also uses the inputs
     * outside the call ({@code y = f(x...) + outside(x...)}), so the tape adds gradient terms from both sides.
     */
    private record Body(String name, long[][] shapes, int variables, Function<Tensor[], Tensor> fn,
            Function<Tensor[], Tensor> outside, int[] sameAs) {
        Body(String name, long[][] shapes, int variables, Function<Tensor[], Tensor> fn) {
            this(name, shapes, variables, fn, null, null);
        }

        Body outside(Function<Tensor[], Tensor> o) {
            return new Body(name + " (also used outside)", shapes, variables, fn, o, sameAs);
        }

        /** Input i is passed as the same tensor as input sameAs[i]. */
        Body same(int... s) {
            return new Body(name + " (same tensor twice)", shapes, variables, fn, outside, s);
        }
    }

    private static long[][] shapes(long[]... s) {
        return s;
    }

    /** Bodies over FLOAT32 inputs; {@code v} gives the Variables, made per device by {@link #variables}. */
    private static List<Body> bodies(Variable[] v) {
        List<Body> b = new ArrayList<>();
        b.add(new Body("element-wise chain", shapes(new long[] {5}, new long[] {5}), 0,
                x -> x[0].mul(x[1]).add(x[0].exp()).tanh().mul(x[0]).sum()));
        b.add(new Body("broadcasting", shapes(new long[] {3, 4}, new long[] {4}), 0,
                x -> x[0].add(x[1]).square().mul(x[1]).mean()));
        b.add(new Body("matmul", shapes(new long[] {2, 3}, new long[] {3, 4}), 0,
                x -> x[0].matmul(x[1]).relu().add(x[0].sum(new int[] {1}, true)).sum()));
        b.add(new Body("reductions", shapes(new long[] {3, 4}), 0,
                x -> x[0].max(1).add(x[0].logSumExp(0).sum()).add(x[0].softmax(1).mul(x[0]).sum())));
        b.add(new Body("Variables by reference", shapes(new long[] {2, 3}), 2,
                x -> x[0].matmul(v[0]).add(v[1]).sigmoid().mul(v[1]).sum()));
        b.add(new Body("non-scalar result", shapes(new long[] {4}, new long[] {4}), 0,
                x -> x[0].div(x[1].abs().add(1)).sin()));
        b.add(new Body("unconnected input", shapes(new long[] {3}, new long[] {3}), 0,
                x -> x[0].square().sum()));
        b.add(new Body("two inputs, one tensor", shapes(new long[] {4}, new long[] {4}), 0,
                x -> x[0].mul(x[1]).add(x[1].exp()).sum()).same(0, 0));
        b.add(new Body("element-wise chain", shapes(new long[] {5}, new long[] {5}), 0,
                x -> x[0].mul(x[1]).add(x[0].exp()).tanh().mul(x[0]).sum())
                .outside(x -> x[0].square().sum().add(x[1].mul(x[0]).sum())));
        b.add(new Body("Variables by reference", shapes(new long[] {2, 3}), 2,
                x -> x[0].matmul(v[0]).add(v[1]).sigmoid().mul(v[1]).sum())
                .outside(x -> v[1].square().sum().add(v[0].sum())));
        return b;
    }

    private static Variable[] variables(Device d, Random r) {
        return new Variable[] {
                new Variable(random(d, r, 3, 4), "w", true), new Variable(random(d, r, 4), "b", true)};
    }

    private static Tensor random(Device d, Random r, long... shape) {
        float[] v = new float[Math.toIntExact(Arrays.stream(shape).reduce(1, (a, b) -> a * b))];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (r.nextDouble() * 4 - 2);
        }
        return Tensor.of(d, v, shape);
    }

    private static Tensor[] inputs(Device d, Random r, Body b) {
        Tensor[] x = new Tensor[b.shapes().length];
        for (int i = 0; i < x.length; i++) {
            x[i] = b.sameAs() != null && b.sameAs()[i] != i ? x[b.sameAs()[i]] : random(d, r, b.shapes()[i]);
        }
        return x;
    }

    /** The gradients of the body's result (plus its outside use) for every input and Variable, as doubles. */
    private static List<double[]> gradients(Body b, Function<Tensor[], Tensor> call, Tensor[] x, Variable[] v) {
        List<Tensor> sources = new ArrayList<>(List.of(x));
        sources.addAll(List.of(v).subList(0, b.variables()));
        try (GradientTape tape = new GradientTape()) {
            tape.watch(x);
            Tensor y = call.apply(x);
            if (b.outside() != null) {
                y = y.add(b.outside().apply(x));
            }
            List<double[]> r = new ArrayList<>();
            r.add(y.toDoubleArray());
            for (Tensor g : tape.gradient(y, sources)) {
                r.add(g == null ? null : g.toDoubleArray());
            }
            return r;
        }
    }

    @OnEachDevice
    void replayedCallsUnderATapeGiveTheEagerGradientsBitForBit(Device d) {
        Random r = new Random(10);
        Variable[] v = variables(d, r);
        List<String> failures = new ArrayList<>();
        for (Body b : bodies(v)) {
            GraphFunction f = GraphFunction.of(b.name(), b.shapes().length, b.fn());
            for (int call = 0; call < 4; call++) {
                Tensor[] x = inputs(d, r, b);
                List<double[]> eager = gradients(b, b.fn(), x, v);
                List<double[]> traced = gradients(b, f::call, x, v);
                for (int i = 0; i < eager.size(); i++) {
                    if (!Arrays.equals(eager.get(i), traced.get(i))) {
                        failures.add(b.name() + " call " + call + (i == 0 ? " result" : " gradient " + (i - 1))
                                + ": traced " + Arrays.toString(traced.get(i)) + ", eager "
                                + Arrays.toString(eager.get(i)));
                    }
                }
            }
            if (f.traceCount() != 1 || f.backwardTraceCount() != 1) {
                failures.add(b.name() + ": " + f.traceCount() + " forward and " + f.backwardTraceCount()
                        + " backward traces, expected 1 and 1");
            }
        }
        if (!failures.isEmpty()) {
            fail(failures.size() + " mismatch(es):\n" + String.join("\n", failures));
        }
    }

    @OnEachDevice
    void anUnconnectedInputGetsNullAsInEagerMode(Device d) {
        GraphFunction f = GraphFunction.of("f", 2, x -> x[0].square().sum());
        Tensor a = Tensor.of(d, new float[] {1, 2});
        Tensor b = Tensor.of(d, new float[] {3, 4});
        f.call(a, b);
        try (GradientTape tape = new GradientTape()) {
            tape.watch(a, b);
            List<Tensor> g = tape.gradient(f.call(a, b), List.of(a, b));
            assertArrayEquals(new float[] {2, 4}, g.get(0).toFloatArray());
            assertNull(g.get(1));
        }
        assertEquals(1, f.backwardTraceCount());
    }

    @OnEachDevice
    void gradientsThroughTheTracedBackwardMatchCentralDifferences(Device d) {
        Random r = new Random(3);
        List<Function<List<Tensor>, Tensor>> bodies = List.of(
                x -> x.get(0).mul(x.get(1)).add(x.get(0).exp()).tanh().mul(x.get(0)).sum(),
                x -> x.get(0).matmul(x.get(1)).sigmoid().add(x.get(1).sum(new int[] {0}, true)).logSumExp(1),
                x -> x.get(0).add(x.get(1).sum(new int[] {0})).square().softmax(1));
        for (Function<List<Tensor>, Tensor> body : bodies) {
            List<Tensor> in = List.of(random(d, r, 4, 4).to(DType.FLOAT64), random(d, r, 4, 4).to(DType.FLOAT64));
            GraphFunction f = GraphFunction.of("f", 2, x -> body.apply(List.of(x)));
            f.call(in.toArray(new Tensor[0]));                   // traced here: the checker's calls replay
            GradientChecker.check(x -> f.call(x.toArray(new Tensor[0])), in).assertWithin(1e-6);
            assertTrue(f.backwardTraceCount() >= 1, "the checker's tape went through the traced backward");
        }
    }

    @OnEachDevice
    void theBackwardIsTracedOncePerSignatureAndReplayed(Device d) {
        GraphFunction f = GraphFunction.of("f", 1, x -> x[0].exp().mul(x[0]).sum());
        Random r = new Random(5);
        for (int call = 0; call < 5; call++) {
            Tensor x = random(d, r, 3);
            try (GradientTape tape = new GradientTape()) {
                tape.watch(x);
                Tensor g = tape.gradient(f.call(x), x);
                float[] xs = x.toFloatArray();
                float[] gs = g.toFloatArray();
                for (int i = 0; i < xs.length; i++) {
                    double expected = Math.exp(xs[i]) * (1 + xs[i]);
                    assertEquals(expected, gs[i], 1e-5 * Math.max(1, Math.abs(expected)));
                }
            }
        }
        assertEquals(1, f.traceCount());
        assertEquals(1, f.backwardTraceCount());
        assertTrue(f.backwardListing().startsWith("gradient of f("), f.backwardListing());
        try (GradientTape tape = new GradientTape()) {
            Tensor x = random(d, r, 2, 2);
            tape.watch(x);
            f.call(x);                                           // a new signature traces the forward
            tape.gradient(f.call(x), x);
        }
        try (GradientTape tape = new GradientTape()) {
            Tensor x = random(d, r, 2, 2);
            tape.watch(x);
            tape.gradient(f.call(x), x);
        }
        assertEquals(2, f.traceCount());
        assertEquals(2, f.backwardTraceCount());
    }

    /** The ops of a backward listing's trace, one name per line ({@code %4 = sin(%0) : ...} gives sin). */
    private static List<String> tracedOps(String listing) {
        List<String> ops = new ArrayList<>();
        for (String line : listing.substring(0, listing.indexOf("  return ")).split("\n")) {
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("^ +%\\d+ = ([a-zA-Z]+)\\(").matcher(line);
            if (m.find()) {
                ops.add(m.group(1));
            }
        }
        return ops;
    }

    @OnEachDevice
    void fromTheSecondGradientOnTheForwardSavesWhatTheBackwardReadsInsteadOfItsRecomputing(Device d) {
        Function<Tensor[], Tensor> body = in -> in[0].sin().exp().mul(in[1]).tanh().sum();
        GraphFunction f = GraphFunction.of("f", 2, body);
        Random r = new Random(12);
        Tensor[] x = {random(d, r, 2, 3), random(d, r, 3)};
        f.call(x);
        List<String> forwardOps = List.of("sin", "exp", "mul", "tanh", "sum");
        for (int step = 1; step <= 3; step++) {
            float[][] eager = new float[2][];
            try (GradientTape tape = new GradientTape()) {
                tape.watch(x);
                List<Tensor> g = tape.gradient(body.apply(x), List.of(x));
                eager[0] = g.get(0).toFloatArray();
                eager[1] = g.get(1).toFloatArray();
            }
            try (GradientTape tape = new GradientTape()) {
                tape.watch(x);
                List<Tensor> g = tape.gradient(f.call(x), List.of(x));
                assertArrayEquals(eager[0], g.get(0).toFloatArray(), "step " + step);
                assertArrayEquals(eager[1], g.get(1).toFloatArray(), "step " + step);
            }
            List<String> ops = tracedOps(f.backwardListing());
            if (step == 1) {
                // the first gradient traces the backward: the forward replayed, then the rules' ops
                assertEquals(forwardOps, ops.subList(0, forwardOps.size()), f.backwardListing());
            } else {
                // then the forward hands exp's and tanh's outputs over: only the rules' ops run (cos is sin's)
                for (String op : List.of("sin", "exp", "tanh")) {
                    assertTrue(!ops.contains(op), op + " ran again in\n" + f.backwardListing());
                }
                assertTrue(ops.contains("cos"), f.backwardListing());
                assertTrue(f.backwardListing().startsWith("gradient of f(%"), f.backwardListing());
            }
        }
        assertEquals(1, f.traceCount());
        assertEquals(1, f.backwardTraceCount());
    }

    @OnEachDevice
    void bodiesWithEffectsOrRandomDrawsReplayOpByOpAndStillGiveTheirGradients(Device d) {
        Variable counter = new Variable(Tensor.of(d, new float[] {0}), "counter", false);
        GraphFunction withAssign = GraphFunction.of("assigns", 1, x -> {
            counter.assignAdd(Tensor.of(d, new float[] {1}));
            return x[0].square().mul(counter).sum();
        });
        Tensor x = Tensor.of(d, new float[] {1, -2, 3});
        withAssign.call(x);                                      // counter 1
        for (int call = 2; call <= 3; call++) {
            try (GradientTape tape = new GradientTape()) {
                tape.watch(x);
                Tensor g = tape.gradient(withAssign.call(x), x);   // 2 x counter, counter = call
                assertArrayEquals(new float[] {2 * call, -4 * call, 6 * call}, g.toFloatArray());
            }
        }
        assertEquals(0, withAssign.backwardTraceCount());

        Rng rng = Rng.seeded(7);
        GraphFunction withDraw = GraphFunction.of("draws", 1,
                in -> in[0].mul(rng.uniform(d, 0, 1, DType.FLOAT32, 4)));
        Tensor ones = Tensor.ones(d, 4);
        withDraw.call(ones);
        float[] previous = null;
        for (int call = 0; call < 3; call++) {
            try (GradientTape tape = new GradientTape()) {
                tape.watch(ones);
                Tensor y = withDraw.call(ones);                  // y is this call's draw
                Tensor g = tape.gradient(y, ones);               // d sum(x * u) / dx = u, the same draw
                assertArrayEquals(y.toFloatArray(), g.toFloatArray(), "call " + call);
                assertTrue(previous == null || !Arrays.equals(previous, y.toFloatArray()), "new numbers each call");
                previous = y.toFloatArray();
            }
        }
        assertEquals(0, withDraw.backwardTraceCount());
    }

    /** d/dx of d/dx of the body with nested tapes, traced and eager; the same bits. */
    private static double[][] secondDerivative(Function<Tensor[], Tensor> call, Tensor x) {
        try (GradientTape outer = new GradientTape()) {
            outer.watch(x);
            Tensor first;
            try (GradientTape inner = new GradientTape()) {
                inner.watch(x);
                first = inner.gradient(call.apply(new Tensor[] {x}), x);
            }
            return new double[][] {first.toDoubleArray(), outer.gradient(first, x).toDoubleArray()};
        }
    }

    @OnEachDevice
    void nestedTapesGiveTheEagerSecondDerivatives(Device d) {
        List<Function<Tensor[], Tensor>> bodies = List.of(
                x -> x[0].mul(x[0]).mul(x[0]).sum(),                    // x^3: its backward has three terms
                x -> x[0].sin().sum(),                                   // one term: the backward call is a node
                x -> x[0].exp().mul(x[0]).tanh().sum());
        Tensor x = Tensor.of(d, new float[] {0.5f, -1.25f, 2});
        for (int b = 0; b < bodies.size(); b++) {
            GraphFunction f = GraphFunction.of("f" + b, 1, bodies.get(b));
            f.call(x);
            for (int call = 0; call < 3; call++) {
                double[][] eager = secondDerivative(bodies.get(b), x);
                double[][] traced = secondDerivative(f::call, x);
                assertArrayEquals(eager[0], traced[0], "body " + b + " call " + call + " first derivative");
                assertArrayEquals(eager[1], traced[1], "body " + b + " call " + call + " second derivative");
            }
            assertEquals(1, f.backwardTraceCount(), "body " + b);
        }
        GraphFunction cube = GraphFunction.of("cube", 1, in -> in[0].mul(in[0]).mul(in[0]));
        cube.call(x);
        assertArrayEquals(new double[] {3, -7.5, 12}, secondDerivative(cube::call, x)[1], 1e-6);     // 6x
        assertEquals(1, cube.backwardTraceCount());
    }

    @OnEachDevice
    void aTapeAroundACallInAMemoryScopeUsesNothingClosed(Device d) {
        GraphFunction f = GraphFunction.of("f", 1, in -> in[0].exp().mul(in[0]).sum());
        Tensor x = Tensor.of(d, new float[] {0.5f, 1, -2});
        float[] eager;
        try (GradientTape tape = new GradientTape()) {
            tape.watch(x);
            eager = tape.gradient(x.exp().mul(x).sum(), x).toFloatArray();
        }
        Tensor kept;
        try (Scope s = Nabla.scope()) {
            f.call(x);                                           // traced inside the scope
            try (GradientTape tape = new GradientTape()) {
                tape.watch(x);
                kept = s.keep(tape.gradient(f.call(x), x));     // the backward traced inside the scope
            }
        }
        assertArrayEquals(eager, kept.toFloatArray());
        // the tape spans a scope: the call inside, the gradient after it closed
        GradientTape tape = new GradientTape();
        tape.watch(x);
        Tensor y;
        try (Scope s = Nabla.scope()) {
            y = f.call(x);
        }
        assertArrayEquals(eager, tape.gradient(y, x).toFloatArray());
        tape.close();
        // and after the scope, the plans made inside it still run
        try (GradientTape t = new GradientTape()) {
            t.watch(x);
            assertArrayEquals(eager, t.gradient(f.call(x), x).toFloatArray());
        }
        assertEquals(1, f.backwardTraceCount());
    }

    @OnEachDevice
    void aPersistentTapeRunsTheBackwardAgainAndTheJacobianThroughIt(Device d) {
        GraphFunction f = GraphFunction.of("f", 1, in -> in[0].square().mul(in[0].sin()));
        Tensor x = Tensor.of(d, new float[] {0.5f, 1, -2});
        f.call(x);
        GradientTape eager = GradientTape.persistent();
        eager.watch(x);
        Tensor ye = x.square().mul(x.sin());
        GradientTape traced = GradientTape.persistent();
        traced.watch(x);
        Tensor yt = f.call(x);
        for (int i = 0; i < 2; i++) {
            assertArrayEquals(eager.gradient(ye, x).toFloatArray(), traced.gradient(yt, x).toFloatArray());
        }
        Tensor je = eager.jacobian(ye, x);
        Tensor jt = traced.jacobian(yt, x);
        assertNotNull(jt);
        assertArrayEquals(je.toFloatArray(), jt.toFloatArray());
        eager.close();
        traced.close();
        assertEquals(1, f.backwardTraceCount());
    }

    @OnEachDevice
    void changingACapturedVariableBeforeTheGradientThrowsRatherThanRecomputingWithTheNewValue(Device d) {
        Variable w = new Variable(Tensor.of(d, new float[] {2, 3}), "w", true);
        GraphFunction f = GraphFunction.of("f", 1, in -> in[0].add(w).exp().sum());
        Tensor x = Tensor.of(d, new float[] {0.5f, -1});
        f.call(x);
        try (GradientTape tape = new GradientTape()) {
            Tensor y = f.call(x);
            w.assign(Tensor.of(d, new float[] {0, 0}));     // the backward would recompute exp(x + w) with these
            IllegalStateException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                    () -> tape.gradient(y, w));
            assertTrue(e.getMessage().contains("'w'") && e.getMessage().contains("call f"), e.getMessage());
        }
    }

    @OnEachDevice
    void aNonFloatResultReplaysOpByOp(Device d) {
        GraphFunction f = GraphFunction.of("f", 1, in -> in[0].square().argmax(0));
        Tensor x = Tensor.of(d, new float[] {0.5f, -3, 2});
        f.call(x);
        try (GradientTape tape = new GradientTape()) {
            tape.watch(x);
            assertArrayEquals(new int[] {1}, f.call(x).reshape(1).toIntArray());
            assertNull(tape.gradient(f.call(x), x));
        }
        assertEquals(0, f.backwardTraceCount());
    }
}
