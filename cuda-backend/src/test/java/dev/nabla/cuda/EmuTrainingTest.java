package dev.nabla.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nabla.DType;
import dev.nabla.Device;
import dev.nabla.Rng;
import dev.nabla.Tensor;
import dev.nabla.Variable;
import dev.nabla.nn.Conv2d;
import dev.nabla.nn.Dense;
import dev.nabla.nn.Flatten;
import dev.nabla.nn.Functional;
import dev.nabla.nn.MaxPool2d;
import dev.nabla.nn.Relu;
import dev.nabla.nn.Sequential;
import dev.nabla.optim.Adam;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A short MNIST-like training on cuda-emu beside the CPU: 28 x 28 "digits" (a bright stroke whose position is the
 * class, plus noise), a small conv net (conv, max-pool, dense) trained with Adam on minibatches uploaded every step.
 * Both devices start from the same weights and data; the losses must fall, agree step by step within float32
 * rounding of different summation orders, and the final accuracies must match.
 */
class EmuTrainingTest {
    private static final int CLASSES = 10;
    private static final int BATCH = 32;
    private static final int STEPS = 12;

    /** A batch of synthetic digits: class c lights up column band c of the image. */
    private static float[][] batch(int step) {
        Rng rng = Rng.seeded(1000 + step);
        float[] noise = rng.normal(Device.cpu(), DType.FLOAT32, BATCH * 28 * 28).toFloatArray();
        int[] labels = rng.uniform(Device.cpu(), 0, CLASSES, DType.FLOAT32, BATCH).to(DType.INT32).toIntArray();
        float[] x = new float[BATCH * 28 * 28];
        float[] y = new float[BATCH];
        for (int b = 0; b < BATCH; b++) {
            y[b] = labels[b];
            for (int r = 0; r < 28; r++) {
                for (int c = 0; c < 28; c++) {
                    int i = (b * 28 + r) * 28 + c;
                    boolean stroke = c / 3 == labels[b] && r > 3 && r < 24;
                    x[i] = (stroke ? 1f : 0f) + 0.3f * noise[i];
                }
            }
        }
        return new float[][] {x, y};
    }

    private static double[] train(Device d) {
        Rng rng = Rng.seeded(5);
        Sequential model = new Sequential(new Conv2d(1, 4, 3, 1, "same", rng, d), new Relu(), new MaxPool2d(2, 2),
                new Flatten(), new Dense(4 * 14 * 14, 32, rng, d), new Relu(), new Dense(32, CLASSES, rng, d));
        List<Variable> params = model.parameters();
        Adam adam = new Adam(3e-3);
        double[] losses = new double[STEPS + 1];
        for (int s = 0; s < STEPS; s++) {
            float[][] b = batch(s);
            Tensor x = Tensor.of(d, b[0], BATCH, 1, 28, 28);
            int[] labels = new int[BATCH];
            for (int i = 0; i < BATCH; i++) {
                labels[i] = (int) b[1][i];
            }
            Tensor y = Tensor.of(d, labels);
            try (Tensor loss = adam.minimize(() -> Functional.softmaxCrossEntropy(model.forward(x), y), params)) {
                losses[s] = loss.toDoubleArray()[0];
            }
        }
        float[][] test = batch(999);
        Tensor logits = model.forward(Tensor.of(d, test[0], BATCH, 1, 28, 28));
        int[] predicted = logits.argmax(1).toIntArray();
        int right = 0;
        for (int i = 0; i < BATCH; i++) {
            right += predicted[i] == (int) test[1][i] ? 1 : 0;
        }
        losses[STEPS] = right;
        return losses;
    }

    @Test
    void aSmallConvNetTrainsAsOnTheCpu() {
        EmuTests.requireEmulator();
        double[] cpu = train(Device.cpu());
        double[] emu = train(EmuDriverTest.EMU);
        for (int s = 0; s < STEPS; s++) {
            assertEquals(cpu[s], emu[s], 1e-3 * Math.max(1, Math.abs(cpu[s])), "loss at step " + s);
        }
        assertTrue(emu[STEPS - 1] < 0.7 * emu[0], "the loss fell: " + emu[0] + " -> " + emu[STEPS - 1]);
        assertEquals(cpu[STEPS], emu[STEPS], "held-out accuracy (of " + BATCH + ")");
    }
}
