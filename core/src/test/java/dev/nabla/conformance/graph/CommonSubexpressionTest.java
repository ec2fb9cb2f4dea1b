package dev.nabla.conformance.graph;

import static dev.nabla.conformance.graph.FusionTest.plan;
import static dev.nabla.conformance.graph.FusionTest.random;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.nabla.DType;
import dev.nabla.Device;
import dev.nabla.Tensor;
import dev.nabla.Variable;
import dev.nabla.conformance.OnEachDevice;
import dev.nabla.graph.GraphFunction;
import dev.nabla.graph.TracedFunction;
import java.util.Random;
import java.util.function.Function;

/**
 * A replayed plan computes a pure op once for equal inputs: inputs that are views of one buffer in one shape
 * (reshapes, stopGradient) are equal, so a loss's backward that recomputes {@code abs(stopGradient(max(x)))} through
 * a stopGradient of its own shares the forward's; an assign between two reads of a Variable keeps both. Eager's bits
 * either way.
 */
class CommonSubexpressionTest {

    @OnEachDevice
    void opsOnViewsOfOneBufferInOneShapeAreComputedOnce(Device d) {
        Random r = new Random(31);
        for (DType t : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            Tensor x = random(d, t, r, 6, 5);
            TracedFunction f = check("stopGradients", in -> {
                Tensor a = in[0].max(1).stopGradient().abs();
                Tensor b = in[0].max(1).stopGradient().abs();
                Tensor c = in[0].reshape(5, 6).reshape(6, 5).exp();
                return a.mul(b).sum().add(c.sum()).add(in[0].exp().sum());
            }, x);
            assertEquals(1, count(plan(f), "= max("), f.listing());
            assertEquals(1, count(plan(f), "abs("), f.listing());
            assertEquals(1, count(plan(f), "exp("), f.listing());
        }
    }

    @OnEachDevice
    void anAssignBetweenTwoReadsKeepsBoth(Device d) {
        Random r = new Random(32);
        Tensor x = random(d, DType.FLOAT32, r, 4, 3);
        Variable v = new Variable(random(d, DType.FLOAT32, r, 4, 3), "v", false);
        Variable e = new Variable(v, "e", false);
        TracedFunction f = GraphFunction.of("assign between", 1, in -> {
            Tensor before = v.abs().sum();
            v.assign(in[0]);
            return before.add(v.abs().sum());
        });
        for (int call = 0; call < 3; call++) {
            Tensor before = e.abs().sum();
            e.assign(x);
            float[] eager = before.add(e.abs().sum()).toFloatArray();
            assertArrayEquals(eager, f.call(x).toFloatArray(), "call " + call);
        }
        assertEquals(2, count(plan(f), "abs("), f.listing());
    }

    /**
     * {@code body} traced: three calls equal eager's bits; the function, for its plan. (The conformance tests of other
     * plan rewrites use it too.)
     */
    static TracedFunction check(String name, Function<Tensor[], Tensor> body, Tensor... in) {
        TracedFunction f = GraphFunction.of(name, in.length, body);
        double[] eager = body.apply(in).toDoubleArray();
        for (int call = 0; call < 3; call++) {
            assertArrayEquals(eager, f.call(in).toDoubleArray(), name + ", call " + call + "\n" + f.listing());
        }
        return f;
    }

    private static long count(String plan, String op) {
        return plan.lines().filter(l -> l.contains(op)).count();
    }
}
