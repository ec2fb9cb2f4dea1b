package dev.nabla.nn;

import dev.nabla.DType;
import dev.nabla.Device;
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
     * Normal with standard deviation sqrt(2 / fanIn), FLOAT32. NOTE: Keras' HeNormal truncates at two standard
     * deviations; this one does not (the difference in variance is about 12%).
     */
    public static Tensor heNormal(Rng rng, Device d, long... shape) {
        long[] f = fans(shape);
        return rng.normal(d, DType.FLOAT32, shape).mul(Math.sqrt(2.0 / f[0]));
    }

    /** Zeros, FLOAT32. */
    public static Tensor zeros(Device d, long... shape) {
        return Tensor.zeros(d, shape);
    }
}
