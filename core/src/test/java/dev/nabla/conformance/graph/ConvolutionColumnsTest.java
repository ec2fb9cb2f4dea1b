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
 * A replayed plan never writes a convolution's column matrices: the products read the columns from the image (the
 * image-columns rewrite), and the input gradient's product is summed into the image by col2im a group of images at a
 * time (the product-col2im rewrite). Traced results and gradients equal eager's bits, for "same" windows (read in
 * place), "valid" and strided ones (through the backend's computed columns), a first layer whose input gradient
 * nobody asks for, and two layers as W7 has them.
 */
class ConvolutionColumnsTest {

    @OnEachDevice
    void aTracedTrainingStepWritesNoColumnMatrix(Device d) {
        Random r = new Random(41);
        for (DType t : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            Tensor x = random(d, t, r, 3, 2, 9, 9);
            Tensor k1 = random(d, t, r, 4, 2, 3, 3);
            Tensor b1 = random(d, t, r, 4);
            Tensor k2 = random(d, t, r, 5, 4, 3, 3);
            Tensor b2 = random(d, t, r, 5);
            for (String padding : new String[] {"same", "valid"}) {
                for (int stride : new int[] {1, 2}) {
                    String name = t + " " + padding + " stride " + stride;
                    TracedFunction f = check(name, twoLayers(padding, stride), x, k1, b1, k2, b2);
                    String plan = plan(f);
                    assertEquals(0, plan.lines().filter(l -> l.contains(" im2col ")).count(), name + "\n" + plan);
                    // the second layer's input gradient; the first layer's input gradient is not asked for
                    assertEquals(1, plan.lines().filter(l -> l.contains("matmulCol2im")).count(), name + "\n" + plan);
                    assertEquals(0, plan.lines().filter(l -> l.contains(" col2im ")).count(), name + "\n" + plan);
                }
            }
        }
    }

    /** The input's gradient too: every layer's input gradient is one matmulCol2im step. */
    @OnEachDevice
    void theInputsGradientIsSummedFromItsProduct(Device d) {
        Random r = new Random(42);
        for (DType t : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            Tensor x = random(d, t, r, 2, 3, 7, 6);
            Tensor k = random(d, t, r, 4, 3, 3, 2);
            Function<Tensor[], Tensor> body = in -> {
                try (GradientTape tape = new GradientTape()) {
                    tape.watch(in[0], in[1]);
                    Tensor y = Functional.conv2d(in[0], in[1], null, 1, "same").tanh();
                    List<Tensor> g = tape.gradient(y.sum(), List.of(in[0], in[1]));
                    return g.get(0).square().sum().add(g.get(1).sum());
                }
            };
            TracedFunction f = check(t + " dx", body, x, k);
            assertEquals(1, plan(f).lines().filter(l -> l.contains("matmulCol2im")).count(), f.listing());
        }
    }

    /** A step of two convolution blocks (conv, bias, relu), the sum of all four gradients and the loss. */
    private static Function<Tensor[], Tensor> twoLayers(String padding, int stride) {
        return in -> {
            try (GradientTape tape = new GradientTape()) {
                tape.watch(in[1], in[2], in[3], in[4]);
                Tensor h = Functional.conv2d(in[0], in[1], in[2], stride, padding).relu();
                Tensor y = Functional.conv2d(h, in[3], in[4], 1, "same").relu();
                Tensor loss = y.square().sum();
                List<Tensor> g = tape.gradient(loss, List.of(in[1], in[2], in[3], in[4]));
                return g.get(0).sum().add(g.get(1).square().sum()).add(g.get(2).sum()).add(g.get(3).sum()).add(loss);
            }
        };
    }
}
