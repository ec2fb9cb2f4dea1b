package dev.nabla.conformance.graph;

import static dev.nabla.conformance.graph.CommonSubexpressionTest.check;
import static dev.nabla.conformance.graph.FusionTest.plan;
import static dev.nabla.conformance.graph.FusionTest.random;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.nabla.DType;
import dev.nabla.Device;
import dev.nabla.GradientTape;
import dev.nabla.Tensor;
import dev.nabla.conformance.OnEachDevice;
import dev.nabla.graph.TracedFunction;
import dev.nabla.nn.Functional;
import java.util.List;
import java.util.Random;
import java.util.function.Function;

/**
 * A replayed plan pools a convolution as it computes it (the product-max-pool rewrite: one step with the pooled values
 * and the indices as its results, the convolution's result never written) when only the pooling reads that result.
 * Traced results and gradients equal eager's bits: two blocks of convolution, bias, relu and 2 × 2 max pool as W7 has
 * them, with "same" windows (read in place) and "valid" ones (the backend's default), odd sizes whose last row and
 * column no window takes; and a convolution's result that the function also reads itself keeps its own steps.
 */
class ConvolutionPoolTest {

    @OnEachDevice
    void aTracedStepPoolsItsConvolutionsAsItComputesThem(Device d) {
        Random r = new Random(53);
        for (DType t : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            for (String padding : new String[] {"same", "valid"}) {
                Tensor x = random(d, t, r, 3, 2, 11, 10);
                Tensor k1 = random(d, t, r, 4, 2, 3, 3);
                Tensor b1 = random(d, t, r, 4);
                Tensor k2 = random(d, t, r, 7, 4, 3, 3);
                Tensor b2 = random(d, t, r, 7);
                String name = t + " " + padding;
                TracedFunction f = check(name, twoBlocks(padding, false), x, k1, b1, k2, b2);
                String plan = plan(f);
                assertEquals(2, count(plan, " = matmulMaxPool("), name + "\n" + plan);
                assertEquals(0, count(plan, " = maxPoolIndices("), name + "\n" + plan);
                assertEquals(0, count(plan, " = maxPool("), name + "\n" + plan);
            }
        }
    }

    @OnEachDevice
    void aConvolutionTheFunctionAlsoReadsIsPooledOnItsOwn(Device d) {
        Random r = new Random(54);
        Tensor x = random(d, DType.FLOAT32, r, 2, 2, 8, 8);
        Tensor k1 = random(d, DType.FLOAT32, r, 3, 2, 3, 3);
        Tensor b1 = random(d, DType.FLOAT32, r, 3);
        Tensor k2 = random(d, DType.FLOAT32, r, 4, 3, 3, 3);
        Tensor b2 = random(d, DType.FLOAT32, r, 4);
        TracedFunction f = check("first block read", twoBlocks("same", true), x, k1, b1, k2, b2);
        String plan = plan(f);
        assertEquals(1, count(plan, " = matmulMaxPool("), plan);
        assertEquals(1, count(plan, " = maxPoolIndices("), plan);
    }

    /**
     * A step of two blocks (conv, bias, relu, 2 × 2 max pool): the sum of all four gradients and the loss, and, with
     * {@code readFirst}, the first block's activations before pooling.
     */
    private static Function<Tensor[], Tensor> twoBlocks(String padding, boolean readFirst) {
        return in -> {
            try (GradientTape tape = new GradientTape()) {
                tape.watch(in[1], in[2], in[3], in[4]);
                Tensor a = Functional.conv2d(in[0], in[1], in[2], 1, padding).relu();
                Tensor h = Functional.maxPool2d(a, 2, 2);
                Tensor y = Functional.maxPool2d(Functional.conv2d(h, in[3], in[4], 1, "same").relu(), 2, 2);
                Tensor loss = y.square().sum();
                List<Tensor> g = tape.gradient(loss, List.of(in[1], in[2], in[3], in[4]));
                Tensor out = g.get(0).sum().add(g.get(1).square().sum()).add(g.get(2).sum()).add(g.get(3).sum())
                        .add(loss);
                return readFirst ? out.add(a.sum()) : out;
            }
        };
    }

    private static long count(String plan, String op) {
        return plan.lines().filter(l -> l.contains(op)).count();
    }
}
