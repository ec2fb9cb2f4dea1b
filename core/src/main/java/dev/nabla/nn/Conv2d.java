package dev.nabla.nn;

import dev.nabla.Nabla;

import dev.nabla.Device;
import dev.nabla.Rng;
import dev.nabla.Tensor;
import dev.nabla.Variable;
import dev.nabla.ops.Checks;

/**
 * A 2-D convolution over NCHW images with kernel (out, in, k, k) Glorot-uniform and bias zeros.
 *
 * <pre>{@code
 * Conv2d conv = new Conv2d(1, 16, 3, 1, "same", Rng.seeded(0));
 * Tensor features = conv.forward(images);    // (N, 1, 28, 28) -> (N, 16, 28, 28)
 * }</pre>
 */
public final class Conv2d extends Layer {
    private final Variable kernel;
    private final Variable bias;
    private final int stride;
    private final String padding;

    /** A layer on the default device. */
    public Conv2d(int in, int out, int kernelSize, int stride, String padding, Rng rng) {
        this(in, out, kernelSize, stride, padding, rng, Device.defaultDevice());
    }

    /** A layer on {@code device}; {@code padding} is "valid" or "same". */
    public Conv2d(int in, int out, int kernelSize, int stride, String padding, Rng rng, Device device) {
        String op = "Conv2d";
        if (in < 1 || out < 1) {
            throw new IllegalArgumentException(op + ": in and out must be >= 1, got in " + in + " and out " + out);
        }
        if (kernelSize < 1 || stride < 1) {
            throw new IllegalArgumentException(op + ": kernelSize and stride must be >= 1, got kernelSize "
                    + kernelSize + " and stride " + stride);
        }
        Windows.checkPadding(op, padding);
        Checks.notNull(op, "rng", rng);
        Checks.notNull(op, "device", device);
        kernel = register("kernel", new Variable(
                Initializers.glorotUniform(rng, device, out, in, kernelSize, kernelSize), "kernel", true));
        bias = register("bias", new Variable(Initializers.zeros(device, out), "bias", true));
        this.stride = stride;
        this.padding = padding;
    }

    /** The (out, in, k, k) kernel. */
    public Variable kernel() {
        return kernel;
    }

    @Override
    public Tensor forward(Tensor x) {
        // in a memory scope: the window indices and the im2col matrix are freed as soon as no tape needs them
        return Nabla.scoped(() -> Functional.conv2d(x, kernel, bias, stride, padding));
    }
}
