package dev.nabla.conformance.graph;

import static dev.nabla.conformance.graph.FusionTest.plan;
import static dev.nabla.conformance.graph.FusionTest.random;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nabla.DType;
import dev.nabla.Device;
import dev.nabla.GradientTape;
import dev.nabla.Tensor;
import dev.nabla.conformance.OnEachDevice;
import dev.nabla.graph.GraphFunction;
import dev.nabla.graph.TracedFunction;
import dev.nabla.nn.Functional;
import dev.nabla.ops.LinearAlgebra;
import java.util.List;
import java.util.Random;
import java.util.function.Function;

/**
 * A permute that only matrix products read is not copied in a replayed plan: the products read its source in place
 * (the plan's permuted-operand rewrite), with eager's bits. A permute read by anything else too, twice by one
 * product, or whose elements are no rows of runs keeps its copy.
 */
class PermutedOperandsTest {

    @OnEachDevice
    void productsReadAPermuteThatOnlyTheyReadInPlace(Device d) {
        Random r = new Random(21);
        for (DType t : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            Tensor x = random(d, t, r, 3, 4, 10);
            Tensor w = random(d, t, r, 30, 5);
            Tensor v = random(d, t, r, 6, 4);
            Tensor u = random(d, t, r, 7, 30);
            check(true, "A in runs", in -> permuted(in[0]).matmul(in[1]), x, w);
            check(true, "A in runs, transposed", in -> LinearAlgebra.matmul(permuted(in[0]), in[1], true, false), x,
                    random(d, t, r, 4, 3));
            check(true, "B in runs", in -> in[1].matmul(permuted(in[0])), x, v);
            check(true, "B in runs, transposed", in -> LinearAlgebra.matmul(in[1], permuted(in[0]), false, true), x,
                    random(d, t, r, 7, 30));
            check(true, "two products", in -> {
                Tensor p = permuted(in[0]);
                return p.matmul(in[1]).sum().add(in[2].matmul(p).sum());
            }, x, w, v);
            check(true, "one row of a slice", in -> in[0].slice(new long[] {0, 0}, new long[] {4, 5}).reshape(1, 20)
                    .matmul(in[1]), random(d, t, r, 4, 10), random(d, t, r, 20, 2));
            check(false, "one row of runs of runs", in -> in[0].permute(1, 0, 2).reshape(1, 120).matmul(in[1]), x,
                    random(d, t, r, 120, 2));
            check(false, "also added", in -> {
                Tensor p = permuted(in[0]);
                return p.matmul(in[1]).sum().add(p.sum());
            }, x, w);
            check(false, "both operands", in -> LinearAlgebra.matmul(permuted(in[0]), permuted(in[0]), false, true),
                    x);
            check(false, "no runs of stride 1", in -> in[0].permute(2, 1, 0).reshape(10, 12).matmul(in[1]), x,
                    random(d, t, r, 12, 3));
            check(false, "the result", in -> permuted(in[0]), x);
        }
    }

    /**
     * A convolution's traced gradients (kernel, bias, input) read the permuted output gradient in place, with
     * eager's bits: two layers, as W7, so that the second layer's input gradient reads it too.
     */
    @OnEachDevice
    void aConvolutionsTracedGradientsReadItsOutputGradientInPlace(Device d) {
        Random r = new Random(22);
        for (DType t : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            Tensor x = random(d, t, r, 3, 2, 9, 9);
            Tensor k1 = random(d, t, r, 4, 2, 3, 3);
            Tensor k2 = random(d, t, r, 5, 4, 3, 3);
            Tensor b2 = random(d, t, r, 5);
            Function<Tensor[], Tensor> body = in -> {
                try (GradientTape tape = new GradientTape()) {
                    tape.watch(in[1], in[2], in[3]);
                    Tensor h = Functional.conv2d(in[0], in[1], null, 1, "same").tanh();
                    Tensor y = Functional.conv2d(h, in[2], in[3], 1, "valid");
                    List<Tensor> g = tape.gradient(y.square().sum(), List.of(in[1], in[2], in[3]));
                    return g.get(0).sum().add(g.get(1).square().sum()).add(g.get(2).sum());
                }
            };
            TracedFunction f = GraphFunction.of("convolutions", 4, body);
            double[] eager = body.apply(new Tensor[] {x, k1, k2, b2}).toDoubleArray();
            for (int call = 0; call < 3; call++) {
                assertArrayEquals(eager, f.call(x, k1, k2, b2).toDoubleArray(), "call " + call + "\n" + f.listing());
            }
            // the forward products write NCHW, the backward ones read their permuted gradients in place (the
            // second layer's input gradient as the product of a matmulCol2im step)
            assertEquals(5, plan(f).lines().filter(l -> (l.contains("= matmul(") || l.contains("= matmulCol2im("))
                    && l.contains("runs(")).count(), f.listing());
            assertEquals(2, plan(f).lines().filter(l -> l.contains("out=runs(")).count(), f.listing());
            assertTrue(!plan(f).contains("permute("), f.listing());
        }
    }

    private static Tensor permuted(Tensor x) {
        return x.permute(1, 0, 2).reshape(4, 30);
    }

    private static void check(boolean absorbed, String name, Function<Tensor[], Tensor> body,
            Tensor... in) {
        TracedFunction f = GraphFunction.of(name, in.length, body);
        double[] eager = body.apply(in).toDoubleArray();
        for (int call = 0; call < 3; call++) {
            assertArrayEquals(eager, f.call(in).toDoubleArray(), name + ", call " + call + "\n" + f.listing());
        }
        String plan = plan(f);
        assertEquals(absorbed, !plan.contains("permute("), name + "\n" + f.listing());
        assertEquals(absorbed, plan.contains("runs("), name + "\n" + f.listing());
    }
}
