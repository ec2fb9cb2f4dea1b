package dev.nabla.nn;

import dev.nabla.Nabla;

import dev.nabla.Device;
import dev.nabla.Rng;
import dev.nabla.Tensor;
import dev.nabla.Variable;
import dev.nabla.ops.Checks;

/**
 * A fully connected layer, {@code x @ kernel + bias}, with kernel (in, out) Glorot-uniform and bias zeros, as Keras'
 * {@code Dense}.
 *
 * <pre>{@code
 * Dense layer = new Dense(784, 10, Rng.seeded(0));
 * Tensor logits = layer.forward(Tensor.zeros(32, 784));     // (32, 10)
 * }</pre>
 */
public final class Dense extends Layer {
    private final Variable kernel;
    private final Variable bias;

    /** A layer on the default device. */
    public Dense(int in, int out, Rng rng) {
        this(in, out, rng, Device.defaultDevice());
    }

    /** A layer on {@code device}. */
    public Dense(int in, int out, Rng rng, Device device) {
        if (in < 1 || out < 1) {
            throw new IllegalArgumentException("Dense: in and out must be >= 1, got in " + in + " and out " + out);
        }
        Checks.notNull("Dense", "rng", rng);
        Checks.notNull("Dense", "device", device);
        kernel = register("kernel", new Variable(Initializers.glorotUniform(rng, device, in, out), "kernel", true));
        bias = register("bias", new Variable(Initializers.zeros(device, out), "bias", true));
    }

    /** The (in, out) weight matrix. */
    public Variable kernel() {
        return kernel;
    }

    /** The (out,) bias. */
    public Variable bias() {
        return bias;
    }

    @Override
    public Tensor forward(Tensor x) {
        Checks.open("Dense", "x", x);
        long in = kernel.shape().dim(0);
        if (x.rank() < 2 || x.shape().dim(-1) != in) {
            throw new IllegalArgumentException("Dense: expected input (batch..., " + in + ") for kernel "
                    + kernel.shape() + ", got " + x.shape());
        }
        // in a memory scope: the matmul output goes back to the pool as soon as no tape needs it
        return Nabla.scoped(() -> x.matmul(kernel).add(bias));
    }
}
