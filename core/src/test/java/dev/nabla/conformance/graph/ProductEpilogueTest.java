package dev.nabla.conformance.graph;

import static dev.nabla.conformance.graph.FusionTest.plan;
import static dev.nabla.conformance.graph.FusionTest.random;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.nabla.DType;
import dev.nabla.Device;
import dev.nabla.GradientTape;
import dev.nabla.Tensor;
import dev.nabla.conformance.OnEachDevice;
import dev.nabla.graph.GraphFunction;
import dev.nabla.graph.TracedFunction;
import dev.nabla.nn.Functional;
import java.util.List;
import java.util.Random;
import java.util.function.Function;

/**
 * A bias add and relu after a matrix product are done by the product in a replayed plan (the plan's product-epilogue
 * rewrite), with eager's bits: a dense layer's bias per column, a bias per row, either order of the add, with and
 * without relu, a narrow and a transposed product, a convolution's bias per channel (its product written in NCHW), NaNs and signed zeros among the
 * values, and a whole training step. A product whose result is read elsewhere too, a bias that varies along both
 * the rows and the columns or along neither, or another op after the add keeps its separate pass.
 */
class ProductEpilogueTest {

    @OnEachDevice
    void aBiasAddAndReluAfterAProductAreDoneByTheProduct(Device d) {
        Random r = new Random(31);
        for (DType t : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            Tensor x = special(random(d, t, r, 37, 50));
            Tensor w = random(d, t, r, 50, 45);
            Tensor columns = special(random(d, t, r, 45));
            Tensor rows = random(d, t, r, 37, 1);
            check(true, "relu(x·w + b)", in -> in[0].matmul(in[1]).add(in[2]).relu(), x, w, columns);
            check(true, "relu(b + x·w)", in -> in[2].add(in[0].matmul(in[1])).relu(), x, w, columns);
            check(true, "x·w + b", in -> in[0].matmul(in[1]).add(in[2]), x, w, columns);
            check(true, "a bias per row", in -> in[0].matmul(in[1]).add(in[2]).relu(), x, w, rows);
            check(true, "one row", in -> in[0].matmul(in[1]).add(in[2]).relu(), random(d, t, r, 1, 50), w,
                    columns);
            check(true, "a narrow result", in -> in[0].matmul(in[1]).add(in[2]).relu(), x,
                    random(d, t, r, 50, 3), random(d, t, r, 3));
            check(true, "a transposed product", in -> in[0].matmul(in[1].transpose()).add(in[2]).relu(), x,
                    random(d, t, r, 45, 50), columns);
            check(false, "the product read twice", in -> {
                Tensor p = in[0].matmul(in[1]);
                return p.add(in[2]).relu().sum().add(p.sum());
            }, x, w, columns);
            check(false, "a bias of the whole matrix", in -> in[0].matmul(in[1]).add(in[2]).relu(), x, w,
                    random(d, t, r, 37, 45));
            check(false, "a bias of one value for all", in -> in[0].matmul(in[1]).add(in[2]).relu(), x, w,
                    random(d, t, r, 1));
            check(false, "another op after the add", in -> in[0].matmul(in[1]).add(in[2]).tanh(), x, w, columns);
        }
    }

    /**
     * A convolution with a bias and relu, as W7's layers: its product writes NCHW and adds each channel's bias;
     * traced forward and gradients equal eager's.
     */
    @OnEachDevice
    void aConvolutionsBiasAndReluAreDoneByItsProduct(Device d) {
        Random r = new Random(32);
        for (DType t : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            Tensor x = special(random(d, t, r, 3, 2, 9, 9));
            Tensor k1 = random(d, t, r, 4, 2, 3, 3);
            Tensor b1 = random(d, t, r, 4);
            Tensor k2 = random(d, t, r, 5, 4, 3, 3);
            Tensor b2 = random(d, t, r, 5);
            check(true, "conv2d + bias, relu", in -> Functional.conv2d(in[0], in[1], in[2], 1, "same").relu(), x, k1,
                    b1);
            Function<Tensor[], Tensor> step = in -> {
                try (GradientTape tape = new GradientTape()) {
                    tape.watch(in[1], in[2], in[3], in[4]);
                    Tensor h = Functional.conv2d(in[0], in[1], in[2], 1, "same").relu();
                    Tensor y = Functional.conv2d(h, in[3], in[4], 1, "valid").relu();
                    List<Tensor> g = tape.gradient(y.square().sum(), List.of(in[1], in[2], in[3], in[4]));
                    return g.get(0).sum().add(g.get(1).square().sum()).add(g.get(2).sum()).add(g.get(3).sum());
                }
            };
            TracedFunction f = check(true, "a training step", step, x, k1, b1, k2, b2);
            assertEquals(2, plan(f).lines().filter(l -> l.contains("then=relu(")).count(), f.listing());
        }
    }

    /** Some NaNs, signed zeros and values that round to zero with a bias, among the first elements. */
    private static Tensor special(Tensor x) {
        double[] v = x.toDoubleArray();
        double[] s = {Double.NaN, -0.0, 0.0, -1e-30, Double.NEGATIVE_INFINITY};
        for (int i = 0; i < s.length && i < v.length; i++) {
            v[i * 7 % v.length] = s[i];
        }
        Tensor y = Tensor.of(x.device(), v, x.shape().dims());
        return x.dtype() == DType.FLOAT64 ? y : y.to(x.dtype());
    }

    private static TracedFunction check(boolean done, String name, Function<Tensor[], Tensor> body, Tensor... in) {
        TracedFunction f = GraphFunction.of(name, in.length, body);
        double[] eager = body.apply(in).toDoubleArray();
        for (int call = 0; call < 3; call++) {
            assertArrayEquals(eager, f.call(in).toDoubleArray(), name + ", call " + call + "\n" + f.listing());
        }
        assertEquals(done, plan(f).contains("then="), name + "\n" + f.listing());
        return f;
    }
}
