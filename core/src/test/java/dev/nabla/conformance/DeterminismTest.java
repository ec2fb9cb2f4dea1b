package dev.nabla.conformance;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.nabla.DType;
import dev.nabla.Device;
import dev.nabla.Rng;
import dev.nabla.Tensor;
import dev.nabla.Variable;
import dev.nabla.nn.Functional;
import dev.nabla.optim.Adam;
import java.util.List;

/**
 * The same program with the same seed gives the same bits, run after run, in one JVM: the first run meets cold code
 * (interpreter, then C1) and later ones C2's compiled vector loops, so a kernel whose result depends on the JIT tier,
 * the thread split or the order of work stealing fails here. The build also runs this at several vector widths and
 * thread counts.
 */
class DeterminismTest {
    /** A small MLP trained with Adam: matmul, broadcasting adds, tanh, sigmoid, exp and log, sums, the tape. */
    private static float[][] train(Device d, DType t, int steps) {
        Rng rng = Rng.seeded(42);
        Tensor x = rng.normal(d, t, 96, 40);
        Tensor labels = rng.uniform(d, 0, 10, t, 96).to(DType.INT32);
        Variable w1 = new Variable(rng.normal(d, t, 40, 130).mul(0.2));
        Variable b1 = new Variable(Tensor.zeros(t, 130).to(d));
        Variable w2 = new Variable(rng.normal(d, t, 130, 10).mul(0.1));
        List<Variable> params = List.of(w1, b1, w2);
        Adam adam = new Adam(1e-2);
        for (int s = 0; s < steps; s++) {
            adam.minimize(() -> {
                Tensor h = x.matmul(w1).add(b1);
                Tensor a = h.tanh().mul(h.sigmoid());
                Tensor logits = a.matmul(w2);
                return Functional.softmaxCrossEntropy(logits, labels).add(w1.square().sum().mul(1e-4));
            }, params);
        }
        float[][] out = new float[params.size()][];
        for (int i = 0; i < out.length; i++) {
            out[i] = params.get(i).to(DType.FLOAT32).toFloatArray();
        }
        return out;
    }

    @OnEachDevice
    void twoAdamTrainingsGiveIdenticalWeights(Device d) {
        for (DType t : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            float[][] first = train(d, t, 30);
            for (int run = 1; run < 3; run++) {
                float[][] again = train(d, t, 30);
                for (int i = 0; i < first.length; i++) {
                    assertArrayEquals(first[i], again[i], 0f, t + " parameter " + i + ", run " + run);
                }
            }
        }
    }

    @OnEachDevice
    void largeReductionsAndElementwiseOpsRepeatBitForBit(Device d) {
        // four times the parallel grain (2^17), so split in every execution with more than one thread, with
        // transcendental ops on every element and a sum over all of them
        Tensor x = Rng.seeded(3).normal(d, DType.FLOAT32, 1 << 19);
        float first = x.exp().add(x.tanh()).log().sum().item();
        for (int run = 0; run < 5; run++) {
            assertEquals(Float.floatToRawIntBits(first), Float.floatToRawIntBits(x.exp().add(x.tanh()).log().sum().item()),
                    "run " + run);
        }
    }
}
