package dev.nabla.conformance.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
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
import dev.nabla.nn.AvgPool2d;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * The {@link AvgPool2d} layer ("valid" windows of size k moving by stride s, the only padding it has) against
 * plain loops: out[n][c][i][j] = mean of x[n][c][i s + a][j s + b] over 0 <= a, b < k, with
 * OH = (H - k) / s + 1 rows (rows and columns that no window reaches are dropped).
 */
class AvgPool2dTest {
    /** One configuration; {@code stride == 0} means the one-argument constructor (stride = size). */
    private record Case(int n, int c, int h, int w, int size, int stride) {
        int s() {
            return stride == 0 ? size : stride;
        }

        int oh() {
            return (h - size) / s() + 1;
        }

        int ow() {
            return (w - size) / s() + 1;
        }

        AvgPool2d layer() {
            return stride == 0 ? new AvgPool2d(size) : new AvgPool2d(size, stride);
        }
    }

    /** Fixed edge cases, then random ones. */
    private static List<Case> cases() {
        List<Case> list = new ArrayList<>(List.of(
                new Case(2, 3, 4, 4, 2, 0),      // non-overlapping, divides evenly
                new Case(1, 2, 5, 7, 2, 0),      // the last row and column are dropped
                new Case(2, 1, 6, 6, 3, 1),      // overlapping windows
                new Case(1, 2, 9, 8, 2, 3),      // stride larger than the window: gaps
                new Case(1, 1, 5, 5, 5, 0),      // one window over the whole image
                new Case(2, 2, 3, 4, 1, 1),      // size 1: the identity
                new Case(1, 1, 4, 7, 3, 2)));    // rectangular image
        Random r = new Random(2024);
        for (int i = 0; i < 10; i++) {
            int h = 1 + r.nextInt(9);
            int w = 1 + r.nextInt(9);
            int size = 1 + r.nextInt(Math.min(h, w));
            int stride = r.nextBoolean() ? 0 : 1 + r.nextInt(size + 2);
            list.add(new Case(1 + r.nextInt(3), 1 + r.nextInt(3), h, w, size, stride));
        }
        return list;
    }

    private static double[] referenceForward(Case k, double[] x) {
        double[] out = new double[k.n * k.c * k.oh() * k.ow()];
        for (int p = 0; p < k.n * k.c; p++) {
            for (int i = 0; i < k.oh(); i++) {
                for (int j = 0; j < k.ow(); j++) {
                    double sum = 0;
                    for (int a = 0; a < k.size; a++) {
                        for (int b = 0; b < k.size; b++) {
                            sum += x[(p * k.h + i * k.s() + a) * k.w + j * k.s() + b];
                        }
                    }
                    out[(p * k.oh() + i) * k.ow() + j] = sum / (k.size * k.size);
                }
            }
        }
        return out;
    }

    /** d sum(up · pool(x)) / dx: each window hands up[window] / k² to each of its k² pixels. */
    private static double[] referenceGradient(Case k, double[] up) {
        double[] g = new double[k.n * k.c * k.h * k.w];
        for (int p = 0; p < k.n * k.c; p++) {
            for (int i = 0; i < k.oh(); i++) {
                for (int j = 0; j < k.ow(); j++) {
                    double share = up[(p * k.oh() + i) * k.ow() + j] / (k.size * k.size);
                    for (int a = 0; a < k.size; a++) {
                        for (int b = 0; b < k.size; b++) {
                            g[(p * k.h + i * k.s() + a) * k.w + j * k.s() + b] += share;
                        }
                    }
                }
            }
        }
        return g;
    }

    @OnEachDevice
    void forwardMatchesTheDefinitionOnRandomShapesAndStrides(Device d) {
        long seed = 1;
        for (Case k : cases()) {
            for (DType t : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
                Tensor x = Rng.seeded(seed++).normal(d, t, k.n, k.c, k.h, k.w);
                Tensor y = k.layer().forward(x);
                assertEquals(Shape.of(k.n, k.c, k.oh(), k.ow()), y.shape(), k.toString());
                assertEquals(t, y.dtype(), k.toString());
                assertArrayEquals(referenceForward(k, x.toDoubleArray()), y.toDoubleArray(),
                        t == DType.FLOAT32 ? 1e-5 : 1e-12, k + " " + t);
            }
        }
    }

    @OnEachDevice
    void gradientSpreadsEachWindowsGradientEvenlyOverItsPixels(Device d) {
        long seed = 100;
        for (Case k : cases()) {
            Tensor x = Rng.seeded(seed++).normal(d, DType.FLOAT64, k.n, k.c, k.h, k.w);
            Tensor up = Rng.seeded(seed++).normal(d, DType.FLOAT64, k.n, k.c, k.oh(), k.ow());
            AvgPool2d layer = k.layer();
            try (GradientTape tape = new GradientTape()) {
                tape.watch(x);
                Tensor y = layer.forward(x);
                double[] g = tape.gradient(y, x, up).toDoubleArray();
                assertArrayEquals(referenceGradient(k, up.toDoubleArray()), g, 1e-12, k.toString());
            }
        }
    }

    @OnEachDevice
    void gradientPassesTheChecker(Device d) {
        for (Case k : List.of(new Case(1, 2, 5, 4, 2, 1), new Case(2, 1, 7, 6, 3, 2), new Case(1, 1, 5, 7, 2, 0))) {
            for (DType t : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
                Tensor x = Rng.seeded(7).normal(d, t, k.n, k.c, k.h, k.w);
                AvgPool2d layer = k.layer();
                GradientChecker.check(in -> layer.forward(in.get(0)), List.of(x)).assertWithin(1e-6);
            }
        }
    }

    @OnEachDevice
    void hasNoParametersAndRejectsWhatItCannotPool(Device d) {
        assertEquals(List.of(), new AvgPool2d(2).parameters());
        Tensor image = Tensor.zeros(d, 1, 1, 3, 3);
        // bad sizes are refused when the layer is built, naming the class; bad inputs by forward, naming the op
        for (Runnable bad : List.<Runnable>of(
                () -> new AvgPool2d(4).forward(image),                      // the window does not fit
                () -> new AvgPool2d(2).forward(Tensor.zeros(d, 1, 3, 3)))) { // not NCHW
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, bad::run);
            // bad sizes are refused when the layer is built, naming the class (ARCHITECTURE.md); bad inputs by the op
            assertTrue(e.getMessage().startsWith("avgPool2d: ") || e.getMessage().startsWith("AvgPool2d: "),
                    e.getMessage());
        }
        for (Runnable bad : List.<Runnable>of(
                () -> new AvgPool2d(2, 0),                                  // stride 0
                () -> new AvgPool2d(0))) {                                  // empty window
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, bad::run);
            assertTrue(e.getMessage().startsWith("AvgPool2d: "), e.getMessage());
        }
        assertArrayEquals(new float[] {0}, new AvgPool2d(3).forward(image).toFloatArray(), "a window that fits");
    }
}
