package dev.nabla.conformance;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nabla.DType;
import dev.nabla.Device;
import dev.nabla.Nabla;
import dev.nabla.Rng;
import dev.nabla.Tensor;
import dev.nabla.Variable;
import dev.nabla.backend.WindowGeometry;
import dev.nabla.graph.TracedFunction;
import dev.nabla.nn.AvgPool2d;
import dev.nabla.nn.Conv2d;
import dev.nabla.nn.Dense;
import dev.nabla.nn.Flatten;
import dev.nabla.nn.Functional;
import dev.nabla.nn.Layer;
import dev.nabla.nn.MaxPool2d;
import dev.nabla.nn.Relu;
import dev.nabla.nn.Sequential;
import dev.nabla.ops.Convolution;
import dev.nabla.optim.Adam;
import dev.nabla.optim.SGD;
import java.util.List;

/**
 * The im2col and col2im primitives at the sizes where the CPU's direct kernels run in parallel (the op table's
 * rows check small random geometries, every dtype and the gradients): the definition, col2im's summation order
 * (specified, so the CPU gives its bits exactly), the adjoint identity, and a convolutional training step traced
 * against eager, bit for bit.
 */
class WindowPrimitivesTest {
    /**
     * The convolutions of the MNIST CNN and their relatives: stride 2, "valid", one channel, pooling windows, and
     * "same" at stride 1 (the CPU's shifted-image path) with images narrower and wider than a vector, TF's uneven
     * padding of an even kernel, and padding along one axis only.
     */
    private static final List<WindowGeometry> LARGE = List.of(
            new WindowGeometry(8, 1, 28, 28, 3, 3, 1, 1, 1, 28, 28),
            new WindowGeometry(8, 16, 14, 14, 3, 3, 1, 1, 1, 14, 14),
            new WindowGeometry(3, 5, 31, 17, 3, 3, 2, 0, 0, 15, 8),
            new WindowGeometry(2, 4, 29, 30, 5, 4, 2, 2, 1, 15, 15),
            new WindowGeometry(4, 3, 9, 9, 5, 5, 1, 2, 2, 9, 9),
            new WindowGeometry(2, 3, 20, 37, 4, 4, 1, 1, 1, 20, 37),
            new WindowGeometry(3, 2, 6, 40, 1, 7, 1, 0, 3, 6, 40),
            new WindowGeometry(128, 1, 28, 28, 2, 2, 2, 0, 0, 14, 14));

    private static Tensor random(Device d, long seed, DType t, long... shape) {
        return Rng.seeded(seed).normal(d, t, shape);
    }

    @OnEachDevice
    void largeImagesMatchTheDefinition(Device d) {
        for (DType t : List.of(DType.FLOAT32, DType.FLOAT64)) {
            for (WindowGeometry g : LARGE) {
                String what = g + " " + t;
                Tensor x = random(d, 1, t, Convolution.inputShape(g).dims());
                Tensor cols = Convolution.im2col(x, g);
                assertArrayEquals(NnReference.im2col(HostTensor.of(x), g).data(), cols.toDoubleArray(), what);

                Tensor c = random(d, 2, t, Convolution.columnsShape(g).dims());
                double[] back = Convolution.col2im(c, g).toDoubleArray();
                double[] inOrder = NnReference.col2im(HostTensor.of(c), g, t == DType.FLOAT32).data();
                // the terms in row order on every device (a GPU's atomic adds matched only within 1e-5)
                assertArrayEquals(inOrder, back, what);
            }
        }
    }

    /** {@code <im2col(x), c> = <x, col2im(c)>}: the gradient of one is the other. */
    @OnEachDevice
    void col2imIsTheAdjointOfIm2col(Device d) {
        for (WindowGeometry g : LARGE) {
            for (DType t : List.of(DType.FLOAT32, DType.FLOAT64)) {
                Tensor x = random(d, 3, t, Convolution.inputShape(g).dims());
                Tensor c = random(d, 4, t, Convolution.columnsShape(g).dims());
                double left = dot(Convolution.im2col(x, g).toDoubleArray(), c.toDoubleArray());
                double right = dot(x.toDoubleArray(), Convolution.col2im(c, g).toDoubleArray());
                assertEquals(left, right, 1e-4 * Math.sqrt(g.rows() * g.columns()), g + " " + t);
            }
        }
    }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }

    /**
     * Max pooling's indices on large images with many ties (+0 and -0 among them), NaNs and infinities, against the
     * definition (first maximum, the first NaN winning), in both float dtypes; and the pooled gradient goes to
     * exactly that element of each window.
     */
    @OnEachDevice
    void maxPoolIndicesChooseTheFirstMaximumAndTheFirstNaN(Device d) {
        // the first as maxPool2d meets MNIST's first pooling (a channel per image: windows of four elements)
        // (and the CPU's row-wise 2 x 2 path: rows shorter and longer than a vector, an odd width and height)
        List<WindowGeometry> unpadded = List.of(new WindowGeometry(64 * 16, 1, 28, 28, 2, 2, 2, 0, 0, 14, 14),
                new WindowGeometry(64 * 32, 1, 14, 14, 2, 2, 2, 0, 0, 7, 7),
                new WindowGeometry(3, 1, 6, 70, 2, 2, 2, 0, 0, 3, 35),
                new WindowGeometry(5, 1, 9, 11, 2, 2, 2, 0, 0, 4, 5),
                new WindowGeometry(64, 16, 28, 28, 2, 2, 2, 0, 0, 14, 14),
                new WindowGeometry(3, 5, 31, 17, 3, 3, 2, 0, 0, 15, 8), new WindowGeometry(2, 2, 9, 9, 3, 2, 1, 0, 0,
                        7, 8));
        java.util.Random r = new java.util.Random(8);
        for (WindowGeometry g : unpadded) {
            for (DType t : List.of(DType.FLOAT32, DType.FLOAT64)) {
                double[] v = new double[(int) g.inputSize()];
                // ties of +0 and -0 too, and infinities of both signs (whose sums are NaN without a NaN)
                double[] others = {-0.0, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY};
                for (int i = 0; i < v.length; i++) {
                    int pick = r.nextInt(40);
                    v[i] = pick < 2 ? Double.NaN : pick < 5 ? others[pick - 2] : r.nextInt(3);
                }
                Tensor x = Tensor.of(d, v, Convolution.inputShape(g).dims()).to(t);
                double[] expected = NnReference.maxPoolIndices(HostTensor.of(x), g).data();
                double[] got = Convolution.maxPoolIndices(x, g).toDoubleArray();
                assertArrayEquals(expected, got, g + " " + t);
            }
        }
        // the gradient of a 2 x 2 pooling of ties: each window's whole gradient on its first element
        Tensor x = Tensor.of(d, new float[] {1, 1, 2, 0, 1, 1, 2, 2}, 1, 1, 2, 4);
        Tensor picked;
        dev.nabla.GradientTape tape = new dev.nabla.GradientTape();
        try (tape) {
            tape.watch(x);
            picked = Functional.maxPool2d(x, 2, 2).mul(Tensor.of(d, new float[] {3, 5}, 1, 1, 1, 2)).sum();
        }
        assertArrayEquals(new float[] {3, 0, 5, 0, 0, 0, 0, 0}, tape.gradient(picked, x).toFloatArray());
        var e = assertThrows(IllegalArgumentException.class, () -> Convolution.maxPoolIndices(Tensor.zeros(d, 1, 1,
                3, 3), new WindowGeometry(1, 1, 3, 3, 3, 3, 1, 1, 1, 3, 3)));
        assertTrue(e.getMessage().startsWith("maxPoolIndices: windows with padding"), e.getMessage());
    }

    /**
     * Max pooling's gradient is the scatter-add of the windows' gradients into zeros, bit for bit: at MNIST's sizes
     * (where the CPU's pass per image runs in parallel), with several channels, with overlapping windows that choose
     * one element twice, with odd sizes (a last row and column in no window), with indices that point into another
     * image (the CPU falls back to the scatter-add) or into another window of the same image (the middle one of five
     * reversed), and with gradients of -0 (0 + -0 is +0) and NaN; an index outside the image is an error naming the
     * op.
     */
    @OnEachDevice
    void maxPoolGradientIsTheScatterAddIntoZeros(Device d) {
        List<WindowGeometry> geometries = List.of(new WindowGeometry(64 * 16, 1, 28, 28, 2, 2, 2, 0, 0, 14, 14),
                new WindowGeometry(64 * 32, 1, 14, 14, 2, 2, 2, 0, 0, 7, 7),
                new WindowGeometry(5, 1, 7, 9, 2, 2, 2, 0, 0, 3, 4),
                new WindowGeometry(3, 1, 2, 3, 2, 2, 2, 0, 0, 1, 1),
                new WindowGeometry(64, 16, 28, 28, 2, 2, 2, 0, 0, 14, 14),
                new WindowGeometry(2, 2, 9, 9, 3, 2, 1, 0, 0, 7, 8),
                new WindowGeometry(3, 1, 10, 11, 2, 2, 3, 0, 0, 3, 4));
        java.util.Random r = new java.util.Random(9);
        for (WindowGeometry g : geometries) {
            double[] v = new double[(int) g.inputSize()];
            for (int i = 0; i < v.length; i++) {
                v[i] = r.nextInt(3);
            }
            Tensor chosen = Convolution.maxPoolIndices(Tensor.of(d, v, Convolution.inputShape(g).dims()), g);
            // the same indices, the images' windows reversed: each image's windows point into another image
            int[] foreign = chosen.toIntArray();
            for (int q = 0; q < foreign.length / 2; q++) {
                int t = foreign[q];
                foreign[q] = foreign[foreign.length - 1 - q];
                foreign[foreign.length - 1 - q] = t;
            }
            for (Tensor indices : List.of(chosen, Tensor.of(d, foreign, foreign.length))) {
                for (DType t : List.of(DType.FLOAT32, DType.FLOAT64)) {
                    double[] terms = random(d, 5, t, g.columns()).toDoubleArray();
                    for (int q = 0; q < terms.length; q += 7) {
                        terms[q] = q % 2 == 0 ? -0.0 : Double.NaN;
                    }
                    Tensor grad = Tensor.of(d, terms, g.columns()).to(t);
                    double[] expected = dev.nabla.ops.Indexing.scatterAdd(dev.nabla.Shape.of(g.inputSize()), 0,
                            indices, grad).toDoubleArray();
                    Tensor got = Convolution.maxPoolGradient(grad, indices, g);
                    assertEquals(Convolution.inputShape(g), got.shape());
                    assertArrayEquals(expected, got.toDoubleArray(), g + " " + t);
                }
            }
        }
        WindowGeometry g = new WindowGeometry(2, 1, 4, 4, 2, 2, 2, 0, 0, 2, 2);
        int[] outside = {0, 2, 8, 10, 16, 18, 24, 32};
        // read back: a device checks indices without waiting and raises at its next synchronization
        var e = assertThrows(IllegalArgumentException.class, () -> Convolution.maxPoolGradient(Tensor.ones(d, 8),
                Tensor.of(d, outside, 8), g).toFloatArray());
        assertTrue(e.getMessage().startsWith("maxPoolGradient: index 32 at position 7 is out of range [0, 32)"),
                e.getMessage());
    }

    @OnEachDevice
    void mismatchedShapesAreRefused(Device d) {
        WindowGeometry g = new WindowGeometry(2, 3, 4, 4, 3, 3, 1, 1, 1, 4, 4);
        var e = assertThrows(IllegalArgumentException.class,
                () -> Convolution.im2col(Tensor.zeros(d, 2, 3, 4, 5), g));
        assertEquals("im2col: input (2, 3, 4, 5) does not match the windows' image (2, 3, 4, 4)", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Convolution.col2im(Tensor.zeros(d, 27, 31), g));
        assertEquals("col2im: columns (27, 31) do not match the windows' (27, 32)", e.getMessage());
    }

    /** A small CNN with every window op, trained by Adam: the traced step gives the eager bits at every step. */
    @OnEachDevice
    void aConvolutionalTrainingStepTracedEqualsEager(Device d) {
        Layer eagerModel = cnn(d);
        Layer tracedModel = cnn(d);
        Adam eagerAdam = new Adam(1e-2);
        Adam tracedAdam = new Adam(1e-2);
        Tensor images = random(d, 5, DType.FLOAT32, 4, 2, 12, 11);
        Tensor labels = Tensor.of(d, new int[] {3, 0, 2, 1});
        TracedFunction step = Nabla.function((Tensor x, Tensor y) -> tracedAdam.minimize(
                () -> Functional.softmaxCrossEntropy(tracedModel.forward(x), y), tracedModel.parameters()));
        for (int i = 0; i < 4; i++) {
            Tensor eager = eagerAdam.minimize(() -> Functional.softmaxCrossEntropy(eagerModel.forward(images), labels),
                    eagerModel.parameters());
            assertEquals(Float.floatToIntBits(eager.item()), Float.floatToIntBits(step.call(images, labels).item()),
                    "step " + i);
            for (int p = 0; p < eagerModel.parameters().size(); p++) {
                assertArrayEquals(eagerModel.parameters().get(p).toFloatArray(),
                        tracedModel.parameters().get(p).toFloatArray(), "step " + i + " parameter " + p);
            }
        }
        assertEquals(1, step.traceCount());
        assertTrue(step.listing().contains("im2col") && step.listing().contains("col2im"), step.listing());
    }

    /**
     * The same in FLOAT64, through the functional API (the layers make FLOAT32 parameters): im2col and col2im, the
     * pooled gradient masked in the scatter, and the products in runs with their epilogues, each against eager.
     */
    @OnEachDevice
    void aFloat64ConvolutionalStepTracedEqualsEager(Device d) {
        List<Variable> eagerParams = float64Parameters(d);
        List<Variable> tracedParams = float64Parameters(d);
        SGD eagerSgd = new SGD(0.05);
        SGD tracedSgd = new SGD(0.05);
        Tensor images = random(d, 6, DType.FLOAT64, 4, 1, 12, 12);
        Tensor labels = Tensor.of(d, new int[] {3, 0, 2, 1});
        TracedFunction step = Nabla.function((Tensor x, Tensor y) -> tracedSgd.minimize(
                () -> float64Loss(x, y, tracedParams), tracedParams));
        for (int i = 0; i < 3; i++) {
            double eager = eagerSgd.minimize(() -> float64Loss(images, labels, eagerParams), eagerParams).item();
            double traced = step.call(images, labels).item();
            assertEquals(Double.doubleToRawLongBits(eager), Double.doubleToRawLongBits(traced), "step " + i);
            for (int p = 0; p < eagerParams.size(); p++) {
                assertArrayEquals(eagerParams.get(p).toDoubleArray(), tracedParams.get(p).toDoubleArray(),
                        "step " + i + " parameter " + p);
            }
        }
        assertEquals(1, step.traceCount());
        assertTrue(step.listing().contains("maskedMaxPoolGradient") && step.listing().contains("runs("),
                step.listing());
    }

    private static List<Variable> float64Parameters(Device d) {
        return List.of(new Variable(random(d, 7, DType.FLOAT64, 4, 1, 3, 3).mul(0.3)),
                new Variable(random(d, 8, DType.FLOAT64, 4).mul(0.1)),
                new Variable(random(d, 9, DType.FLOAT64, 4 * 6 * 6, 4).mul(0.1)),
                new Variable(Tensor.zeros(d, 4).to(DType.FLOAT64)));
    }

    private static Tensor float64Loss(Tensor images, Tensor labels, List<Variable> p) {
        Tensor h = Functional.maxPool2d(Functional.conv2d(images, p.get(0), p.get(1), 1, "same").relu(), 2, 2);
        Tensor logits = h.reshape(4, 4 * 6 * 6).matmul(p.get(2)).add(p.get(3));
        return Functional.softmaxCrossEntropy(logits, labels);
    }

    private static Layer cnn(Device d) {
        Rng rng = Rng.seeded(11);
        return new Sequential(new Conv2d(2, 4, 3, 1, "same", rng, d), new Relu(), new MaxPool2d(2),
                new Conv2d(4, 3, 2, 2, "valid", rng, d), new Relu(), new AvgPool2d(1), new Flatten(),
                new Dense(3 * 3 * 2, 4, rng, d));
    }
}
