package dev.nabla.nn;

import dev.nabla.DType;
import dev.nabla.Device;
import dev.nabla.Nabla;
import dev.nabla.Rng;
import dev.nabla.Tensor;

/**
 * Weight initializers driven by an {@link Rng}, as Keras' (fan-in and fan-out as Keras computes them: for a
 * kernel of shape (out, in, kh, kw), fanIn = in·kh·kw and fanOut = out·kh·kw).
 *
 * <pre>{@code
 * Tensor w = Initializers.glorotUniform(Rng.seeded(0), Device.cpu(), 784, 128);
 * }</pre>
 */
public final class Initializers {
    private Initializers() {
    }

    private static long[] fans(long... shape) {
        if (shape.length < 2) {
            long n = shape.length == 0 ? 1 : shape[0];
            return new long[] {n, n};
        }
        long receptive = 1;
        for (int i = 2; i < shape.length; i++) {
            receptive *= shape[i];
        }
        // (out, in, kh, kw) for convolutions; (in, out) for dense kernels
        boolean conv = shape.length > 2;
        long in = conv ? shape[1] * receptive : shape[0];
        long out = conv ? shape[0] * receptive : shape[1];
        return new long[] {in, out};
    }

    /** Uniform on ±sqrt(6 / (fanIn + fanOut)), FLOAT32. */
    public static Tensor glorotUniform(Rng rng, Device d, long... shape) {
        long[] f = fans(shape);
        double limit = Math.sqrt(6.0 / (f[0] + f[1]));
        return rng.uniform(d, -limit, limit, DType.FLOAT32, shape);
    }

    /**
     * Keras' {@code HeNormal}: a normal truncated at two standard deviations, scaled so that the variance after
     * truncation is 2 / fanIn, FLOAT32.
     */
    public static Tensor heNormal(Rng rng, Device d, long... shape) {
        long[] f = fans(shape);
        // the standard deviation of a unit normal truncated to [-2, 2] is 0.8796...; dividing by it restores 1
        double stddev = Math.sqrt(2.0 / f[0]) / 0.87962566103423978;
        return truncatedUnitNormal(rng, d, shape).mul(stddev);
    }

    /** Unit normals with draws outside [-2, 2] redrawn (after five rounds, the ~1e-7 left are clipped). */
    private static Tensor truncatedUnitNormal(Rng rng, Device d, long... shape) {
        Tensor z = rng.normal(d, DType.FLOAT32, shape);
        for (int round = 0; round < 5; round++) {
            z = Nabla.where(z.abs().gt(2), rng.normal(d, DType.FLOAT32, shape), z);
        }
        return z.maximum(-2).minimum(2);
    }

    /** Zeros, FLOAT32. */
    public static Tensor zeros(Device d, long... shape) {
        return Tensor.zeros(d, shape);
    }
}
