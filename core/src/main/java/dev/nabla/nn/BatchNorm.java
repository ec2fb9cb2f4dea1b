package dev.nabla.nn;

import dev.nabla.Nabla;

import dev.nabla.Device;
import dev.nabla.GradientTape;
import dev.nabla.Tensor;
import dev.nabla.Variable;

/**
 * Batch normalization over the channel axis 1 (of (N, C) or (N, C, H, W)), as Keras' {@code BatchNormalization}:
 * in training it normalises with the batch's mean and (biased) variance and updates the running statistics
 * {@code running = momentum·running + (1 - momentum)·batch}; in evaluation it uses the running statistics.
 *
 * <pre>{@code
 * BatchNorm bn = new BatchNorm(16);
 * Tensor y = bn.forward(features);   // (N, 16, H, W)
 * }</pre>
 */
public final class BatchNorm extends Layer {
    private final int channels;
    private final double momentum;
    private final double epsilon;
    private final Variable gamma;
    private final Variable beta;
    private final Variable runningMean;
    private final Variable runningVariance;

    /** Keras' defaults: momentum 0.99, epsilon 1e-3, on the default device. */
    public BatchNorm(int channels) {
        this(channels, 0.99, 1e-3, Device.defaultDevice());
    }

    /** A layer with the given momentum and epsilon on {@code device}. */
    public BatchNorm(int channels, double momentum, double epsilon, Device device) {
        if (channels < 1) {
            throw new IllegalArgumentException("BatchNorm: channels must be >= 1, got " + channels);
        }
        dev.nabla.ops.Checks.notNull("BatchNorm", "device", device);
        this.channels = channels;
        this.momentum = momentum;
        this.epsilon = epsilon;
        gamma = register("gamma", new Variable(Tensor.ones(device, channels), "gamma", true));
        beta = register("beta", new Variable(Tensor.zeros(device, channels), "beta", true));
        runningMean = register("moving_mean", new Variable(Tensor.zeros(device, channels), "moving_mean", false));
        runningVariance = register("moving_variance",
                new Variable(Tensor.ones(device, channels), "moving_variance", false));
    }

    @Override
    public Tensor forward(Tensor x) {
        // in a memory scope: the statistics and normalized intermediates are freed as soon as no tape needs them
        return Nabla.scoped(() -> normalize(x));
    }

    private Tensor normalize(Tensor x) {
        dev.nabla.ops.Checks.open("BatchNorm", "x", x);
        if (x.rank() < 2 || x.shape().dim(1) != channels) {
            throw new IllegalArgumentException("BatchNorm: expected (N, " + channels + ", ...), got " + x.shape());
        }
        long[] statShape = new long[x.rank()];
        java.util.Arrays.fill(statShape, 1);
        statShape[1] = channels;
        int[] axes = new int[x.rank() - 1];
        for (int i = 0, j = 0; i < x.rank(); i++) {
            if (i != 1) {
                axes[j++] = i;
            }
        }
        Tensor mean;
        Tensor variance;
        if (isTraining()) {
            mean = x.mean(axes, true);
            variance = x.sub(mean).square().mean(axes, true);
            Tensor batchMean = mean.reshape(channels);
            Tensor batchVariance = variance.reshape(channels);
            GradientTape.withoutRecording(() -> {
                runningMean.assign(runningMean.mul(momentum).add(batchMean.mul(1 - momentum)));
                runningVariance.assign(runningVariance.mul(momentum).add(batchVariance.mul(1 - momentum)));
                return null;
            });
        } else {
            mean = runningMean.reshape(statShape);
            variance = runningVariance.reshape(statShape);
        }
        Tensor normalized = x.sub(mean).mul(variance.add(epsilon).rsqrt());
        return normalized.mul(gamma.reshape(statShape)).add(beta.reshape(statShape));
    }
}
