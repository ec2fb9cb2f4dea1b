package consumer;

import dev.nabla.Device;
import dev.nabla.GradientTape;
import dev.nabla.Rng;
import dev.nabla.Shape;
import dev.nabla.Tensor;
import dev.nabla.Variable;
import dev.nabla.check.GradientChecker;
import dev.nabla.nn.Dense;
import dev.nabla.nn.Layer;
import dev.nabla.optim.SGD;
import java.util.List;

/**
 * What a user's program does: the tutorial's gradient descent, a large op (past every vector threshold), a layer
 * and a gradient check. It prints values as bits, so that runs with and without the Vector API can be compared
 * exactly.
 */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        System.out.println("device " + Device.defaultDevice());

        // minimize x^2 + x - 1 from x = 3: the minimum is at x = -0.5
        Variable x = Variable.of(3f);
        SGD sgd = new SGD(0.1);
        for (int epoch = 0; epoch < 30; epoch++) {
            sgd.minimize(() -> x.mul(x).add(x).sub(1), List.of(x));
        }
        check(Math.abs(x.item() + 0.5f) < 1e-2f, "gradient descent ends at -0.5, not " + x.item());
        System.out.println("x " + Integer.toHexString(Float.floatToRawIntBits(x.item())));

        // 2^20 elements: vector kernels when jdk.incubator.vector is there, scalar twins with the same bits if not
        float[] data = new float[1 << 20];
        for (int i = 0; i < data.length; i++) {
            data[i] = (float) Math.sin(i * 0.001);
        }
        Tensor big = Tensor.of(data);
        Tensor s = big.mul(big).exp().sum();
        System.out.println("sum " + Integer.toHexString(Float.floatToRawIntBits(s.item())));

        Layer dense = new Dense(4, 3, Rng.seeded(7));
        try (GradientTape tape = new GradientTape()) {
            Tensor y = dense.forward(Tensor.ones(2, 4)).sum();
            List<Tensor> grads = tape.gradient(y, dense.parameters());
            check(grads.size() == 2 && grads.get(1).shape().equals(Shape.of(3)), "gradients of kernel and bias");
            System.out.println("dense " + Integer.toHexString(Float.floatToRawIntBits(y.item())));
        }

        GradientChecker.check(in -> in.get(0).tanh().mul(in.get(0)).sum(),
                List.of(Tensor.of(new double[] {0.3, -1.2, 2.0}))).assertWithin(1e-6);
        System.out.println("ok");
    }

    private static void check(boolean ok, String what) {
        if (!ok) {
            throw new AssertionError(what);
        }
    }
}
