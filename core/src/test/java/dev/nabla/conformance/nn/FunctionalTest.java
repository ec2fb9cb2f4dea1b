package dev.nabla.conformance.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nabla.DType;
import dev.nabla.Device;
import dev.nabla.GradientTape;
import dev.nabla.Rng;
import dev.nabla.Shape;
import dev.nabla.Tensor;
import dev.nabla.check.GradientChecker;
import dev.nabla.conformance.OnEachDevice;
import dev.nabla.nn.Functional;
import java.util.List;

/** The nn functions: forward against plain loops, gradients against finite differences. */
class FunctionalTest {
    private static Tensor random(Device d, long seed, long... shape) {
        return Rng.seeded(seed).normal(d, DType.FLOAT64, shape);
    }

    /** Direct convolution by its definition, with TF's "same" padding (extra at bottom/right). */
    private static double[] referenceConv(double[] x, long[] xs, double[] k, long[] ks, double[] b, int stride,
            boolean same, int[] outHW) {
        int n = (int) xs[0], c = (int) xs[1], h = (int) xs[2], w = (int) xs[3];
        int o = (int) ks[0], kh = (int) ks[2], kw = (int) ks[3];
        int oh = same ? (h + stride - 1) / stride : (h - kh) / stride + 1;
        int ow = same ? (w + stride - 1) / stride : (w - kw) / stride + 1;
        int top = same ? Math.max((oh - 1) * stride + kh - h, 0) / 2 : 0;
        int left = same ? Math.max((ow - 1) * stride + kw - w, 0) / 2 : 0;
        outHW[0] = oh;
        outHW[1] = ow;
        double[] out = new double[n * o * oh * ow];
        for (int ni = 0; ni < n; ni++) {
            for (int oi = 0; oi < o; oi++) {
                for (int y = 0; y < oh; y++) {
                    for (int z = 0; z < ow; z++) {
                        double acc = b == null ? 0 : b[oi];
                        for (int ci = 0; ci < c; ci++) {
                            for (int i = 0; i < kh; i++) {
                                for (int j = 0; j < kw; j++) {
                                    int r = y * stride + i - top;
                                    int q = z * stride + j - left;
                                    if (r >= 0 && r < h && q >= 0 && q < w) {
                                        acc += x[((ni * c + ci) * h + r) * w + q] * k[((oi * c + ci) * kh + i) * kw + j];
                                    }
                                }
                            }
                        }
                        out[((ni * o + oi) * oh + y) * ow + z] = acc;
                    }
                }
            }
        }
        return out;
    }

    @OnEachDevice
    void conv2dMatchesTheDefinition(Device d) {
        Object[][] cases = {{2, 3, 7, 6, 4, 3, 1, "valid"}, {1, 2, 5, 5, 3, 3, 1, "same"}, {2, 1, 6, 7, 2, 3, 2, "same"},
            {1, 2, 9, 8, 3, 2, 3, "valid"}};
        for (Object[] cs : cases) {
            long[] xs = {(int) cs[0], (int) cs[1], (int) cs[2], (int) cs[3]};
            long[] ks = {(int) cs[4], (int) cs[1], (int) cs[5], (int) cs[5]};
            int stride = (int) cs[6];
            boolean same = cs[7].equals("same");
            Tensor x = random(d, 1, xs);
            Tensor k = random(d, 2, ks);
            Tensor b = random(d, 3, ks[0]);
            Tensor y = Functional.conv2d(x, k, b, stride, (String) cs[7]);
            int[] hw = new int[2];
            double[] expected = referenceConv(x.toDoubleArray(), xs, k.toDoubleArray(), ks, b.toDoubleArray(), stride,
                    same, hw);
            assertEquals(Shape.of(xs[0], ks[0], hw[0], hw[1]), y.shape(), java.util.Arrays.toString(cs));
            double[] got = y.toDoubleArray();
            for (int i = 0; i < got.length; i++) {
                assertEquals(expected[i], got[i], 1e-9, java.util.Arrays.toString(cs) + " element " + i);
            }
        }
    }

    @OnEachDevice
    void conv2dGradients(Device d) {
        for (String padding : List.of("valid", "same")) {
            for (int stride : new int[] {1, 2}) {
                Tensor x = random(d, 4, 2, 2, 5, 4);
                Tensor k = random(d, 5, 3, 2, 3, 3);
                Tensor b = random(d, 6, 3);
                GradientChecker.check(in -> Functional.conv2d(in.get(0), in.get(1), in.get(2), stride, padding),
                        List.of(x, k, b)).assertWithin(1e-6);
            }
        }
    }

    @OnEachDevice
    void poolingMatchesTheDefinitionAndDifferentiates(Device d) {
        Tensor x = random(d, 7, 2, 3, 5, 4);
        double[] v = x.toDoubleArray();
        Tensor max = Functional.maxPool2d(x, 2, 2);
        Tensor avg = Functional.avgPool2d(x, 2, 1);
        assertEquals(Shape.of(2, 3, 2, 2), max.shape());
        assertEquals(Shape.of(2, 3, 4, 3), avg.shape());
        double[] mx = max.toDoubleArray();
        double[] av = avg.toDoubleArray();
        for (int p = 0; p < 6; p++) {
            for (int y = 0; y < 4; y++) {
                for (int z = 0; z < 3; z++) {
                    double m = Double.NEGATIVE_INFINITY;
                    double s = 0;
                    for (int i = 0; i < 2; i++) {
                        for (int j = 0; j < 2; j++) {
                            double e = v[p * 20 + (y + i) * 4 + z + j];
                            s += e;
                            if (y % 2 == 0 && z % 2 == 0 && y / 2 < 2 && z / 2 < 2) {
                                m = Math.max(m, e);
                            }
                        }
                    }
                    assertEquals(s / 4, av[(p * 4 + y) * 3 + z], 1e-12);
                    if (y % 2 == 0 && z % 2 == 0 && z / 2 < 2) {
                        assertEquals(m, mx[(p * 2 + y / 2) * 2 + z / 2], 0);
                    }
                }
            }
        }
        GradientChecker.check(in -> Functional.maxPool2d(in.get(0), 2, 2), List.of(x)).assertWithin(1e-6);
        GradientChecker.check(in -> Functional.avgPool2d(in.get(0), 2, 1), List.of(x)).assertWithin(1e-6);
    }

    @OnEachDevice
    void crossEntropyWithIntegerLabels(Device d) {
        Tensor logits = random(d, 8, 4, 5).mul(3);
        int[] labels = {0, 4, 2, 2};
        Tensor y = Functional.softmaxCrossEntropy(logits, Tensor.of(d, labels));
        double[] z = logits.toDoubleArray();
        double expected = 0;
        for (int r = 0; r < 4; r++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < 5; c++) {
                max = Math.max(max, z[r * 5 + c]);
            }
            double sum = 0;
            for (int c = 0; c < 5; c++) {
                sum += Math.exp(z[r * 5 + c] - max);
            }
            expected += (Math.log(sum) + max - z[r * 5 + labels[r]]) / 4;   // -log softmax at the label, averaged
        }
        assertEquals(expected, y.doubleItem(), 1e-12);
        Tensor lab = Tensor.of(d, labels);
        GradientChecker.check(in -> Functional.softmaxCrossEntropy(in.get(0), lab), List.of(logits))
                .assertWithin(1e-6);
    }

    @OnEachDevice
    void crossEntropyWithProbabilitiesAndSecondOrder(Device d) {
        Tensor logits = random(d, 9, 3, 4);
        Tensor probs = random(d, 10, 3, 4).softmax(1);
        GradientChecker.check(in -> Functional.softmaxCrossEntropyWithProbabilities(in.get(0), probs),
                List.of(logits)).assertWithin(1e-6);
        // the fused gradient is itself differentiable: check d/dz of sum(dL/dz · w) by finite differences
        Tensor w = random(d, 11, 3, 4);
        GradientChecker.check(in -> {
            try (GradientTape tape = new GradientTape()) {
                tape.watch(in.get(0));
                Tensor loss = Functional.softmaxCrossEntropyWithProbabilities(in.get(0), probs);
                return tape.gradient(loss, in.get(0)).mul(w).sum();
            }
        }, List.of(logits)).assertWithin(1e-5);
    }

    @OnEachDevice
    void crossEntropyIsStableForHugeLogits(Device d) {
        Tensor logits = Tensor.of(d, new float[] {1000, 0, -1000, 0, 1000, 990}, 2, 3);
        Tensor y = Functional.softmaxCrossEntropy(logits, Tensor.of(d, new int[] {0, 2}));
        // row 0: the label holds the max, loss ~0; row 1: log(e^0 + e^1000 + e^990) - 990 ≈ 10 + log(1 + e^-10)
        assertEquals((0 + 10 + Math.log1p(Math.exp(-10))) / 2, y.doubleItem(), 1e-4);
    }

    @OnEachDevice
    void meanSquaredErrorAndGelu(Device d) {
        Tensor p = random(d, 12, 3, 2);
        Tensor t = random(d, 13, 3, 2);
        double[] a = p.toDoubleArray();
        double[] b = t.toDoubleArray();
        double mse = 0;
        for (int i = 0; i < 6; i++) {
            mse += (a[i] - b[i]) * (a[i] - b[i]) / 6;
        }
        assertEquals(mse, Functional.meanSquaredError(p, t).doubleItem(), 1e-12);
        GradientChecker.check(in -> Functional.meanSquaredError(in.get(0), in.get(1)), List.of(p, t))
                .assertWithin(1e-6);
        double[] g = Functional.gelu(p).toDoubleArray();
        for (int i = 0; i < 6; i++) {
            double x = a[i];
            assertEquals(0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x))), g[i], 1e-12);
        }
        GradientChecker.check(in -> Functional.gelu(in.get(0)), List.of(p)).assertWithin(1e-6);
    }

    @OnEachDevice
    void dropoutKeepsTheExpectationAndIsOffInEvaluation(Device d) {
        Tensor x = Tensor.ones(d, 100_000);
        assertSame(x, Functional.dropout(x, 0.3, Rng.seeded(1), false));
        double[] y = Functional.dropout(x, 0.3, Rng.seeded(1), true).toDoubleArray();
        int zeros = 0;
        double sum = 0;
        for (double v : y) {
            zeros += v == 0 ? 1 : 0;
            sum += v;
            assertTrue(v == 0 || Math.abs(v - 1 / 0.7) < 1e-6, "kept values are scaled by 1/(1-rate)");
        }
        assertEquals(0.3, zeros / 100_000.0, 0.01);
        assertEquals(1.0, sum / 100_000, 0.02);
    }

    @OnEachDevice
    void badShapesNameTheOp(Device d) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Functional.conv2d(Tensor.zeros(d, 1, 2, 5, 5), Tensor.zeros(d, 3, 4, 3, 3), null, 1, "same"));
        assertTrue(e.getMessage().startsWith("conv2d") && e.getMessage().contains("(3, 4, 3, 3)"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> Functional.conv2d(Tensor.zeros(d, 1, 1, 2, 2), Tensor.zeros(d, 1, 1, 3, 3), null, 1, "valid"));
        assertThrows(IllegalArgumentException.class,
                () -> Functional.conv2d(Tensor.zeros(d, 1, 1, 5, 5), Tensor.zeros(d, 1, 1, 3, 3), null, 1, "full"));
        assertThrows(IllegalArgumentException.class,
                () -> Functional.softmaxCrossEntropy(Tensor.zeros(d, 2, 3), Tensor.of(d, new int[] {1})));
    }

    @OnEachDevice
    void conv2dAndPoolingAgreeWithTheCpu(Device d) {
        org.junit.jupiter.api.Assumptions.assumeFalse(d.equals(Device.cpu()), "a differential test for other devices");
        Tensor x = random(Device.cpu(), 21, 2, 3, 9, 8);
        Tensor k = random(Device.cpu(), 22, 4, 3, 3, 3);
        Tensor b = random(Device.cpu(), 23, 4);
        Tensor onCpu = Functional.maxPool2d(Functional.conv2d(x, k, b, 1, "same").relu(), 2, 2);
        Tensor onDevice = Functional.maxPool2d(Functional.conv2d(x.to(d), k.to(d), b.to(d), 1, "same").relu(), 2, 2);
        double[] e = onCpu.toDoubleArray();
        double[] g = onDevice.toDoubleArray();
        for (int i = 0; i < e.length; i++) {
            assertEquals(e[i], g[i], 1e-9 * Math.max(1, Math.abs(e[i])), "element " + i);
        }
    }
}
