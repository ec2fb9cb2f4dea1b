package dev.nabla.conformance.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nabla.DType;
import dev.nabla.Device;
import dev.nabla.GradientTape;
import dev.nabla.Shape;
import dev.nabla.Tensor;
import dev.nabla.Variable;
import dev.nabla.conformance.OnEachDevice;
import dev.nabla.optim.Adagrad;
import dev.nabla.optim.Adam;
import dev.nabla.optim.AdamW;
import dev.nabla.optim.LearningRateSchedule;
import dev.nabla.optim.Optimizer;
import dev.nabla.optim.RMSprop;
import dev.nabla.optim.SGD;
import dev.nabla.optim.SlotOptimizer;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Each optimizer against the Keras 3 update formulas, written out again here in double, step by step, for six
 * steps of fixed random gradients.
 */
class OptimizerTest {
    private static final int STEPS = 6;
    private static final int N = 7;

    /** One step of a reference rule on plain arrays: updates p and the slots in place. */
    private interface Rule {
        void step(int t, double lr, double[] p, double[] g, double[][] slots);
    }

    private static double[][] gradients(long seed) {
        Random r = new Random(seed);
        double[][] g = new double[STEPS][N];
        for (double[] row : g) {
            for (int i = 0; i < N; i++) {
                row[i] = r.nextGaussian() * (i + 1);
            }
        }
        return g;
    }

    private static double[] start() {
        double[] p = new double[N];
        for (int i = 0; i < N; i++) {
            p[i] = 0.5 * i - 1.3;
        }
        return p;
    }

    /** Runs the optimizer and the reference side by side and compares the parameters after every step. */
    private static void compare(Device d, Optimizer opt, Rule rule, int slotCount, LearningRateSchedule lr,
            String clip, double clipAmount) {
        double[][] grads = gradients(42);
        double[] p = start();
        double[][] slots = new double[slotCount][N];
        Variable v = new Variable(Tensor.of(d, start()));
        for (int t = 0; t < STEPS; t++) {
            double[] g = clipReference(grads[t], clip, clipAmount);
            rule.step(t, lr.at(t), p, g, slots);
            opt.applyGradients(List.of(Tensor.of(d, grads[t])), List.of(v));
            double[] got = v.toDoubleArray();
            for (int i = 0; i < N; i++) {
                assertEquals(p[i], got[i], 1e-12 * Math.max(1, Math.abs(p[i])), "step " + t + " element " + i);
            }
        }
        assertEquals(STEPS, opt.iterations());
    }

    private static double[] clipReference(double[] g, String mode, double c) {
        double[] out = g.clone();
        double norm = 0;
        for (double x : g) {
            norm += x * x;
        }
        norm = Math.sqrt(norm);
        for (int i = 0; i < out.length; i++) {
            switch (mode) {
                case "norm", "global" -> out[i] = norm > c ? g[i] * c / norm : g[i]; // one variable: both agree
                case "value" -> out[i] = Math.max(-c, Math.min(c, g[i]));
                default -> { }
            }
        }
        return out;
    }

    private static Rule withWeightDecay(double wd, Rule inner) {
        return (t, lr, p, g, s) -> {
            for (int i = 0; i < p.length; i++) {
                p[i] -= p[i] * wd * lr;   // Keras applies decoupled decay before the update
            }
            inner.step(t, lr, p, g, s);
        };
    }

    @OnEachDevice
    void plainSgd(Device d) {
        compare(d, new SGD(0.1), (t, lr, p, g, s) -> {
            for (int i = 0; i < N; i++) {
                p[i] -= lr * g[i];
            }
        }, 0, LearningRateSchedule.constant(0.1), "", 0);
    }

    @OnEachDevice
    void sgdMomentumNesterovWeightDecayClipNorm(Device d) {
        double mu = 0.9;
        Optimizer opt = SGD.builder().learningRate(0.05).momentum(mu).nesterov(true).weightDecay(0.01).clipNorm(2.0)
                .build();
        compare(d, opt, withWeightDecay(0.01, (t, lr, p, g, s) -> {
            for (int i = 0; i < N; i++) {
                s[0][i] = mu * s[0][i] - lr * g[i];
                p[i] += mu * s[0][i] - lr * g[i];
            }
        }), 1, LearningRateSchedule.constant(0.05), "norm", 2.0);
    }

    @OnEachDevice
    void sgdMomentumWithExponentialDecay(Device d) {
        LearningRateSchedule lr = LearningRateSchedule.exponentialDecay(0.1, 2, 0.5, false);
        double mu = 0.5;
        Optimizer opt = SGD.builder().learningRate(lr).momentum(mu).build();
        compare(d, opt, (t, rate, p, g, s) -> {
            assertEquals(0.1 * Math.pow(0.5, t / 2.0), rate, 1e-15); // 0.1 · 0.5^(t/2)
            for (int i = 0; i < N; i++) {
                s[0][i] = mu * s[0][i] - rate * g[i];
                p[i] += s[0][i];
            }
        }, 1, lr, "", 0);
    }

    @OnEachDevice
    void globalClipNormScalesEveryVariableByTheNormOfAllGradients(Device d) {
        // Keras: global norm G = sqrt(sum of every squared gradient element over all variables), and every gradient
        // is multiplied by c / max(G, c). Here g1 = (3, 4) (norm 5), g2 = (0, 12) (norm 12), g3 = null (skipped):
        // G = sqrt(9 + 16 + 144) = 13; with c = 6.5 the scale is 1/2 for both, so plain SGD(0.1) moves
        // w1 by -0.1 (1.5, 2) and w2 by -0.1 (0, 6). Clipping per variable (clipNorm 6.5) would leave g1 whole
        // (5 < 6.5) and scale g2 by 6.5/12 instead.
        double[] w1Start = {1, -1};
        double[] w2Start = {0.5, 2};
        double[] w3Start = {7, 8};
        List<Tensor> grads = java.util.Arrays.asList(Tensor.of(d, new double[] {3, 4}), Tensor.of(d,
                new double[] {0, 12}), null);

        Variable w1 = new Variable(Tensor.of(d, w1Start));
        Variable w2 = new Variable(Tensor.of(d, w2Start));
        Variable w3 = new Variable(Tensor.of(d, w3Start));
        SGD.builder().learningRate(0.1).globalClipNorm(6.5).build().applyGradients(grads, List.of(w1, w2, w3));
        assertArrayEquals(new double[] {1 - 0.15, -1 - 0.2}, w1.toDoubleArray(), 1e-15);
        assertArrayEquals(new double[] {0.5, 2 - 0.6}, w2.toDoubleArray(), 1e-15);
        assertArrayEquals(w3Start, w3.toDoubleArray(), 0, "no gradient, no update");

        Variable p1 = new Variable(Tensor.of(d, w1Start));
        Variable p2 = new Variable(Tensor.of(d, w2Start));
        SGD.builder().learningRate(0.1).clipNorm(6.5).build().applyGradients(grads.subList(0, 2), List.of(p1, p2));
        assertArrayEquals(new double[] {1 - 0.3, -1 - 0.4}, p1.toDoubleArray(), 1e-15, "per variable: g1 whole");
        assertArrayEquals(new double[] {0.5, 2 - 0.1 * 12 * 6.5 / 12}, p2.toDoubleArray(), 1e-15);
        assertTrue(Math.abs(w1.toDoubleArray()[0] - p1.toDoubleArray()[0]) > 0.1, "global and per-variable differ");

        // below the threshold (G = 13 <= c = 20) nothing is scaled
        Variable q1 = new Variable(Tensor.of(d, w1Start));
        Variable q2 = new Variable(Tensor.of(d, w2Start));
        SGD.builder().learningRate(0.1).globalClipNorm(20).build().applyGradients(grads.subList(0, 2),
                List.of(q1, q2));
        assertArrayEquals(new double[] {1 - 0.3, -1 - 0.4}, q1.toDoubleArray(), 1e-15);
        assertArrayEquals(new double[] {0.5, 2 - 1.2}, q2.toDoubleArray(), 1e-15);
    }

    @OnEachDevice
    void globalClipNormOverThreeVariablesOfMixedShapesForSeveralSteps(Device d) {
        // the same definition on random gradients, float32 variables of shapes (2, 3), (4,) and (): every step
        // G_t = sqrt(sum over all three of g^2), update w -= lr g min(1, c / G_t), computed here in double
        Random r = new Random(5);
        long[][] shapes = {{2, 3}, {4}, {}};
        int[] sizes = {6, 4, 1};
        double c = 1.5;
        double lr = 0.2;
        double[][] ref = new double[3][];
        List<Variable> vars = new java.util.ArrayList<>();
        for (int k = 0; k < 3; k++) {
            ref[k] = new double[sizes[k]];
            float[] init = new float[sizes[k]];
            for (int i = 0; i < sizes[k]; i++) {
                init[i] = (float) r.nextGaussian();
                ref[k][i] = init[i];
            }
            vars.add(new Variable(Tensor.of(d, init).reshape(shapes[k])));   // reshape: () is a scalar
        }
        Optimizer opt = SGD.builder().learningRate(lr).globalClipNorm(c).build();
        for (int step = 0; step < 4; step++) {
            List<Tensor> grads = new java.util.ArrayList<>();
            double[][] g = new double[3][];
            double sumSquares = 0;
            for (int k = 0; k < 3; k++) {
                float[] gk = new float[sizes[k]];
                g[k] = new double[sizes[k]];
                for (int i = 0; i < sizes[k]; i++) {
                    gk[i] = (float) (r.nextGaussian() * (step + 1));
                    g[k][i] = gk[i];
                    sumSquares += g[k][i] * g[k][i];
                }
                grads.add(Tensor.of(d, gk).reshape(shapes[k]));
            }
            double scale = c / Math.max(Math.sqrt(sumSquares), c);
            for (int k = 0; k < 3; k++) {
                for (int i = 0; i < sizes[k]; i++) {
                    ref[k][i] -= lr * g[k][i] * scale;
                }
            }
            opt.applyGradients(grads, vars);
            for (int k = 0; k < 3; k++) {
                assertArrayEquals(ref[k], vars.get(k).toDoubleArray(), 1e-5, "step " + step + " variable " + k);
                assertEquals(Shape.of(shapes[k]), vars.get(k).shape());
            }
        }
    }

    @OnEachDevice
    void staircaseExponentialDecayHoldsTheRateForWholePeriods(Device d) {
        // Keras ExponentialDecay(0.1, decay_steps=3, decay_rate=0.5, staircase=True): 0.1 · 0.5^floor(t / 3),
        // so 0.1 for steps 0-2, 0.05 for 3-5, 0.025 for 6-8; the smooth schedule is 0.1 · 0.5^(t / 3) instead
        LearningRateSchedule stairs = LearningRateSchedule.exponentialDecay(0.1, 3, 0.5, true);
        double[] expected = {0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.0125};
        for (int t = 0; t < expected.length; t++) {
            assertEquals(expected[t], stairs.at(t), 1e-17, "step " + t);
        }
        LearningRateSchedule smooth = LearningRateSchedule.exponentialDecay(0.1, 3, 0.5, false);
        assertEquals(0.1 * Math.pow(0.5, 4 / 3.0), smooth.at(4), 1e-17);
        assertTrue(Math.abs(stairs.at(4) - smooth.at(4)) > 0.01, "staircase differs from the smooth schedule");
        assertThrows(IllegalArgumentException.class, () -> LearningRateSchedule.exponentialDecay(0.1, 0, 0.5, true));

        // and an optimizer follows it: SGD(momentum 0.5) for 6 steps, rate 0.1, 0.1, 0.1, 0.05, 0.05, 0.05
        double mu = 0.5;
        Optimizer opt = SGD.builder().learningRate(stairs).momentum(mu).build();
        compare(d, opt, (t, rate, p, g, s) -> {
            assertEquals(expected[t], rate, 1e-17);
            for (int i = 0; i < N; i++) {
                s[0][i] = mu * s[0][i] - rate * g[i];
                p[i] += s[0][i];
            }
        }, 1, stairs, "", 0);
        assertEquals(0.025, ((SlotOptimizer) opt).currentLearningRate(), 1e-17, "after six updates: step 6");
    }

    private static Rule adam(double b1, double b2, double eps, boolean amsgrad) {
        return (t, lr, p, g, s) -> {
            int step = t + 1;
            double alpha = lr * Math.sqrt(1 - Math.pow(b2, step)) / (1 - Math.pow(b1, step));
            for (int i = 0; i < N; i++) {
                s[0][i] += (g[i] - s[0][i]) * (1 - b1);
                s[1][i] += (g[i] * g[i] - s[1][i]) * (1 - b2);
                double v = s[1][i];
                if (amsgrad) {
                    s[2][i] = Math.max(s[2][i], s[1][i]);
                    v = s[2][i];
                }
                p[i] -= alpha * s[0][i] / (Math.sqrt(v) + eps);
            }
        };
    }

    @OnEachDevice
    void adamWithKerasDefaults(Device d) {
        compare(d, new Adam(0.01), adam(0.9, 0.999, 1e-7, false), 2, LearningRateSchedule.constant(0.01), "", 0);
    }

    @OnEachDevice
    void adamAmsgradClipValueCosineWarmup(Device d) {
        LearningRateSchedule lr = LearningRateSchedule.cosineDecay(0.0, 4, 0.1, 0.02, 2);
        Optimizer opt = Adam.builder().learningRate(lr).beta1(0.8).beta2(0.95).epsilon(1e-6).amsgrad(true)
                .clipValue(1.5).build();
        compare(d, opt, (t, rate, p, g, s) -> {
            // warmup 0 -> 0.02 over 2 steps, then 0.02 · ((1 - 0.1) · (1 + cos(π (t-2)/4)) / 2 + 0.1)
            double expected = t < 2 ? 0.02 * t / 2 : 0.02 * (0.9 * 0.5 * (1 + Math.cos(Math.PI * Math.min(t - 2, 4) / 4))
                    + 0.1);
            assertEquals(expected, rate, 1e-15);
            adam(0.8, 0.95, 1e-6, true).step(t, rate, p, g, s);
        }, 3, lr, "value", 1.5);
    }

    @OnEachDevice
    void adamWDecaysByDefault(Device d) {
        compare(d, new AdamW(0.01), withWeightDecay(0.004, adam(0.9, 0.999, 1e-7, false)), 2,
                LearningRateSchedule.constant(0.01), "", 0);
    }

    @OnEachDevice
    void rmspropCenteredWithMomentumAndGlobalClip(Device d) {
        double rho = 0.85;
        double mu = 0.7;
        double eps = 1e-7;
        Optimizer opt = RMSprop.builder().learningRate(0.01).rho(rho).momentum(mu).centered(true).globalClipNorm(3)
                .build();
        compare(d, opt, (t, lr, p, g, s) -> {
            for (int i = 0; i < N; i++) {
                s[0][i] = rho * s[0][i] + (1 - rho) * g[i] * g[i];
                s[2][i] = rho * s[2][i] + (1 - rho) * g[i];
                double increment = lr * g[i] / Math.sqrt(s[0][i] - s[2][i] * s[2][i] + eps);
                s[1][i] = mu * s[1][i] + increment;
                p[i] -= s[1][i];
            }
        }, 3, LearningRateSchedule.constant(0.01), "global", 3);
    }

    @OnEachDevice
    void rmspropPlain(Device d) {
        compare(d, new RMSprop(0.01), (t, lr, p, g, s) -> {
            for (int i = 0; i < N; i++) {
                s[0][i] = 0.9 * s[0][i] + 0.1 * g[i] * g[i];
                p[i] -= lr * g[i] / Math.sqrt(s[0][i] + 1e-7);
            }
        }, 1, LearningRateSchedule.constant(0.01), "", 0);
    }

    @OnEachDevice
    void adagradStartsFromTheInitialAccumulator(Device d) {
        LearningRateSchedule lr = LearningRateSchedule.piecewiseConstant(new long[] {1, 3}, new double[] {0.1, 0.05,
            0.01});
        Optimizer opt = Adagrad.builder().learningRate(lr).initialAccumulatorValue(0.1).build();
        compare(d, opt, (t, rate, p, g, s) -> {
            assertEquals(t <= 1 ? 0.1 : t <= 3 ? 0.05 : 0.01, rate);
            for (int i = 0; i < N; i++) {
                if (t == 0) {
                    s[0][i] = 0.1;
                }
                s[0][i] += g[i] * g[i];
                p[i] -= rate * g[i] / Math.sqrt(s[0][i] + 1e-7);
            }
        }, 1, lr, "", 0);
    }

    @OnEachDevice
    void float32VariablesFollowTheSameRule(Device d) {
        Variable v32 = new Variable(Tensor.of(d, new float[] {1, -2, 3}));
        Variable v64 = new Variable(Tensor.of(d, new double[] {1, -2, 3}));
        Optimizer a = new Adam(0.1);
        Optimizer b = new Adam(0.1);
        for (int t = 0; t < 5; t++) {
            double[] g = {0.3 * t - 1, 2, -0.5};
            a.applyGradients(List.of(Tensor.of(d, g).to(DType.FLOAT32)), List.of(v32));
            b.applyGradients(List.of(Tensor.of(d, g)), List.of(v64));
        }
        double[] x32 = v32.toDoubleArray();
        double[] x64 = v64.toDoubleArray();
        for (int i = 0; i < 3; i++) {
            assertEquals(x64[i], x32[i], 1e-5);
        }
    }

    @OnEachDevice
    void everyAlgorithmConvergesOnLeastSquares(Device d) {
        // minimise |A w - b|^2 with A = [[2, 1], [1, 3], [0, 1]], b = A [1, -2]: the minimum is w = (1, -2)
        Tensor a = Tensor.of(d, new float[] {2, 1, 1, 3, 0, 1}, 3, 2);
        Tensor b = Tensor.of(d, new float[] {0, -5, -2}, 3, 1);
        List<Optimizer> optimizers = List.of(new SGD(0.02), SGD.builder().learningRate(0.02).momentum(0.9).build(),
                new Adam(0.05), new AdamW(0.05), new RMSprop(0.01), new Adagrad(0.5));
        for (Optimizer opt : optimizers) {
            Variable w = new Variable(Tensor.zeros(d, 2, 1));
            for (int step = 0; step < 1500; step++) {
                opt.minimize(() -> a.matmul(w).sub(b).square().sum(), List.of(w));
            }
            // AdamW's decay pulls the minimum slightly towards 0; the others converge to it
            double tol = opt instanceof AdamW ? 0.05 : 0.01;
            assertArrayEquals(new float[] {1, -2}, w.toFloatArray(), (float) tol, opt.getClass().getSimpleName());
        }
    }

    @OnEachDevice
    void stateRoundTripsIntoAFreshOptimizer(Device d) {
        Variable w1 = new Variable(Tensor.of(d, new float[] {1, 2, 3}), "w", true);
        Variable w2 = new Variable(Tensor.of(d, new float[] {1, 2, 3}), "w", true);
        SlotOptimizer first = Adam.builder().learningRate(0.1).amsgrad(true).build();
        SlotOptimizer second = Adam.builder().learningRate(0.1).amsgrad(true).build();
        for (int t = 0; t < 3; t++) {
            first.applyGradients(List.of(Tensor.of(d, new float[] {t, -1, 2})), List.of(w1));
            second.applyGradients(List.of(Tensor.of(d, new float[] {t, -1, 2})), List.of(w2));
        }
        Map<String, Tensor> saved = first.state();
        SlotOptimizer restored = Adam.builder().learningRate(0.1).amsgrad(true).build();
        restored.build(List.of(w1));
        restored.loadState(saved);
        assertEquals(3, restored.iterations());
        restored.applyGradients(List.of(Tensor.of(d, new float[] {1, 1, 1})), List.of(w1));
        second.applyGradients(List.of(Tensor.of(d, new float[] {1, 1, 1})), List.of(w2));
        assertArrayEquals(w2.toFloatArray(), w1.toFloatArray(), 0f);
    }

    @OnEachDevice
    void badInputIsRejectedBeforeAnythingChanges(Device d) {
        Variable w = new Variable(Tensor.of(d, new float[] {1, 2}));
        Optimizer opt = new Adam(0.1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> opt.applyGradients(List.of(Tensor.of(d, new float[] {1, 2, 3})), List.of(w)));
        assertTrue(e.getMessage().contains("(3,)") && e.getMessage().contains("(2,)"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> opt.applyGradients(List.of(Tensor.of(d, new double[] {1, 2})), List.of(w)));
        assertArrayEquals(new float[] {1, 2}, w.toFloatArray());
        assertEquals(0, opt.iterations());
        assertThrows(IllegalArgumentException.class, () -> SGD.builder().clipNorm(1).clipValue(1).build());
        assertThrows(IllegalArgumentException.class, () -> Adam.builder().beta1(1.0));
    }

    @OnEachDevice
    void anUpdateInvalidatesTapesThatSavedTheVariable(Device d) {
        Variable w = new Variable(Tensor.of(d, new float[] {1, 2}));
        try (GradientTape tape = new GradientTape()) {
            Tensor y = w.square().sum();
            new SGD(0.1).applyGradients(List.of(Tensor.of(d, new float[] {1, 1})), List.of(w));
            assertThrows(IllegalStateException.class, () -> tape.gradient(y, w));
        }
    }
}
