package dev.nabla.conformance.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nabla.DType;
import dev.nabla.Device;
import dev.nabla.Rng;
import dev.nabla.Shape;
import dev.nabla.Tensor;
import dev.nabla.Variable;
import dev.nabla.conformance.OnEachDevice;
import dev.nabla.nn.BatchNorm;
import dev.nabla.nn.Conv2d;
import dev.nabla.nn.Dense;
import dev.nabla.nn.Dropout;
import dev.nabla.nn.Flatten;
import dev.nabla.nn.Functional;
import dev.nabla.nn.Initializers;
import dev.nabla.nn.MaxPool2d;
import dev.nabla.nn.Layer;
import dev.nabla.nn.Relu;
import dev.nabla.nn.Sequential;
import dev.nabla.optim.Adam;
import java.util.List;
import java.util.Map;

/** Modules: parameters, state dicts, modes, and a small network that learns. */
class LayersTest {
    @OnEachDevice
    void denseComputesXTimesKernelPlusBias(Device d) {
        Dense dense = new Dense(3, 2, Rng.seeded(1), d);
        dense.bias().assign(Tensor.of(d, new float[] {0.5f, -1}));
        Tensor x = Tensor.of(d, new float[] {1, 2, 3}, 1, 3);
        float[] k = dense.kernel().toFloatArray();
        float[] y = dense.forward(x).toFloatArray();
        for (int j = 0; j < 2; j++) {
            float expected = (j == 0 ? 0.5f : -1f) + k[j] + 2 * k[2 + j] + 3 * k[4 + j];   // sum_i x_i k[i][j] + b_j
            assertEquals(expected, y[j], 1e-5);
        }
    }

    @OnEachDevice
    void sequentialNamesParametersAndRoundTripsItsState(Device d) {
        Rng rng = Rng.seeded(3);
        Layer model = new Sequential(new Conv2d(1, 4, 3, 1, "same", rng, d), new Relu(), new MaxPool2d(2),
                new Flatten(), new Dense(4 * 2 * 2, 3, rng, d), new BatchNorm(3, 0.9, 1e-3, d));
        Map<String, Variable> named = model.namedVariables();
        assertEquals(List.of("0.kernel", "0.bias", "4.kernel", "4.bias", "5.gamma", "5.beta", "5.moving_mean",
                "5.moving_variance"), List.copyOf(named.keySet()));
        assertEquals(6, model.parameters().size(), "running statistics are not trainable");
        Tensor x = Rng.seeded(4).normal(d, DType.FLOAT32, 5, 1, 4, 4);
        assertEquals(Shape.of(5, 3), model.forward(x).shape());

        Map<String, Tensor> saved = model.stateDict();
        Layer other = new Sequential(new Conv2d(1, 4, 3, 1, "same", Rng.seeded(99), d), new Relu(), new MaxPool2d(2),
                new Flatten(), new Dense(16, 3, Rng.seeded(98), d), new BatchNorm(3, 0.9, 1e-3, d));
        other.loadStateDict(saved);
        model.eval();
        other.eval();
        assertArrayEquals(model.forward(x).toFloatArray(), other.forward(x).toFloatArray(), 0f);

        saved.put("4.kernel", Tensor.zeros(d, 3, 3));
        float[] before = other.namedVariables().get("0.kernel").toFloatArray();
        assertThrows(IllegalArgumentException.class, () -> other.loadStateDict(saved));
        assertArrayEquals(before, other.namedVariables().get("0.kernel").toFloatArray(), 0f, "nothing changed");
    }

    @OnEachDevice
    void batchNormNormalisesInTrainingAndTracksRunningStatistics(Device d) {
        BatchNorm bn = new BatchNorm(2, 0.5, 0, d);
        Tensor x = Tensor.of(d, new float[] {1, 10, 3, 20, 5, 30}, 3, 2);   // channel means 3 and 20
        float[] y = bn.forward(x).toFloatArray();
        double sd0 = Math.sqrt(8.0 / 3);       // biased variance of (1, 3, 5)
        double sd1 = Math.sqrt(200.0 / 3);     // of (10, 20, 30)
        assertArrayEquals(new float[] {(float) (-2 / sd0), (float) (-10 / sd1), 0, 0, (float) (2 / sd0),
            (float) (10 / sd1)}, y, 1e-5f);
        Map<String, Variable> v = bn.namedVariables();
        assertArrayEquals(new float[] {1.5f, 10}, v.get("moving_mean").toFloatArray(), 1e-5f);   // 0.5·0 + 0.5·mean
        assertArrayEquals(new float[] {(float) (0.5 + 4.0 / 3), (float) (0.5 + 100.0 / 3)},
                v.get("moving_variance").toFloatArray(), 1e-4f);
        bn.eval();
        float[] e = bn.forward(x).toFloatArray();
        assertEquals((1 - 1.5) / Math.sqrt(0.5 + 4.0 / 3), e[0], 1e-5);
    }

    @OnEachDevice
    void dropoutFollowsTheMode(Device d) {
        Dropout drop = new Dropout(0.5, Rng.seeded(2));
        Tensor x = Tensor.ones(d, 1000);
        // training: each one becomes 0 or 1 / (1 - 0.5) = 2; the dropped count is Binomial(1000, 0.5), mean 500
        // and standard deviation 15.8, so 400..600 is over six deviations either way
        float[] y = drop.forward(x).toFloatArray();
        int dropped = 0;
        for (float v : y) {
            assertTrue(v == 0f || v == 2f, "kept ones are scaled to 2: " + v);
            dropped += v == 0f ? 1 : 0;
        }
        assertTrue(dropped >= 400 && dropped <= 600, dropped + " of 1000 dropped at rate 0.5");
        drop.eval();
        assertEquals(1000f, drop.forward(x).sum().item());
    }

    @OnEachDevice
    void initializersHaveKerasScales(Device d) {
        Tensor g = Initializers.glorotUniform(Rng.seeded(5), d, 300, 200);
        double limit = Math.sqrt(6.0 / 500);
        float[] gv = g.toFloatArray();
        double max = 0;
        double sq = 0;
        for (float v : gv) {
            max = Math.max(max, Math.abs(v));
            sq += v * v;
        }
        assertTrue(max <= limit);
        assertEquals(limit * limit / 3, sq / gv.length, 0.05 * limit * limit / 3);   // variance of U(-l, l)
        float[] hv = Initializers.heNormal(Rng.seeded(6), d, 64, 32, 3, 3).toFloatArray();
        double var = 0;
        double bound = 2 * Math.sqrt(2.0 / (32 * 9)) / 0.87962566103423978;   // two (pre-truncation) deviations
        for (float v : hv) {
            var += v * v / hv.length;
            assertTrue(Math.abs(v) <= bound + 1e-6, "truncated at two standard deviations: " + v);
        }
        assertEquals(2.0 / (32 * 9), var, 0.1 * 2.0 / (32 * 9));                    // fanIn = 32·3·3
    }

    @OnEachDevice
    void aSmallConvNetLearnsToTellBrightFromDarkCorners(Device d) {
        // label 1 when the top-left quadrant is brighter than the bottom-right one
        Rng data = Rng.seeded(7);
        Tensor images = data.uniform(d, 0, 1, DType.FLOAT32, 64, 1, 6, 6);
        float[] px = images.toFloatArray();
        int[] labels = new int[64];
        for (int i = 0; i < 64; i++) {
            double tl = 0;
            double br = 0;
            for (int r = 0; r < 3; r++) {
                for (int c = 0; c < 3; c++) {
                    tl += px[i * 36 + r * 6 + c];
                    br += px[i * 36 + (r + 3) * 6 + c + 3];
                }
            }
            labels[i] = tl > br ? 1 : 0;
        }
        Tensor y = Tensor.of(d, labels);
        Rng rng = Rng.seeded(8);
        Layer model = new Sequential(new Conv2d(1, 4, 3, 1, "same", rng, d), new Relu(), new MaxPool2d(2),
                new Flatten(), new Dense(36, 2, rng, d));
        Adam adam = new Adam(0.02);
        float first = 0;
        float last = 0;
        for (int step = 0; step < 150; step++) {
            float loss = adam.minimize(() -> Functional.softmaxCrossEntropy(model.forward(images), y),
                    model.parameters()).item();
            first = step == 0 ? loss : first;
            last = loss;
        }
        assertTrue(last < 0.2 * first, "loss went from " + first + " to " + last);
        int[] predicted = model.forward(images).argmax(1).toIntArray();
        int right = 0;
        for (int i = 0; i < 64; i++) {
            right += predicted[i] == labels[i] ? 1 : 0;
        }
        assertTrue(right >= 60, right + " of 64 right");
    }
}
