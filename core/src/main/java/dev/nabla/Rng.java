package dev.nabla;

import dev.nabla.backend.Backend;
import dev.nabla.backend.Buffer;
import dev.nabla.backend.Philox;
import dev.nabla.backend.RandomDistribution;
import dev.nabla.ops.Checks;
import dev.nabla.ops.Creation;
import dev.nabla.ops.Dispatch;
import dev.nabla.ops.Primitive;

/**
 * A counter-based random generator (Philox4x32-10): the same seed gives the same numbers on every backend.
 *
 * <pre>{@code
 * Rng rng = Rng.seeded(42);
 * Tensor w = rng.normal(DType.FLOAT32, 784, 10).mul(0.01);
 * Tensor u = rng.uniform(-1, 1, DType.FLOAT32, 3);
 * }</pre>
 */
public final class Rng {
    private final long seed;
    private long counter;

    private Rng(long seed) {
        this.seed = seed;
    }

    /** A generator whose stream is fixed by {@code seed}. */
    public static Rng seeded(long seed) {
        return new Rng(seed);
    }

    /** Standard normal draws on the default device. */
    public Tensor normal(DType t, long... shape) {
        return draw(Device.defaultDevice(), RandomDistribution.NORMAL, 0, 1, t, shape);
    }

    /** Standard normal draws on {@code d}. */
    public Tensor normal(Device d, DType t, long... shape) {
        return draw(d, RandomDistribution.NORMAL, 0, 1, t, shape);
    }

    /** Uniform draws on {@code [lo, hi)} on the default device. */
    public Tensor uniform(double lo, double hi, DType t, long... shape) {
        return draw(Device.defaultDevice(), RandomDistribution.UNIFORM, lo, hi, t, shape);
    }

    /** Uniform draws on {@code [lo, hi)} on {@code d}. */
    public Tensor uniform(Device d, double lo, double hi, DType t, long... shape) {
        return draw(d, RandomDistribution.UNIFORM, lo, hi, t, shape);
    }

    private Tensor draw(Device d, RandomDistribution dist, double a, double b, DType t, long[] shape) {
        String op = dist == RandomDistribution.UNIFORM ? "uniform" : "normal";
        Backend backend = Creation.backend(op, d);
        Checks.notNull(op, "dtype", t);
        if (!t.isFloating()) {
            throw new IllegalArgumentException(op + ": dtype must be float32 or float64, got " + t);
        }
        if (dist == RandomDistribution.UNIFORM && !(a < b && Double.isFinite(a) && Double.isFinite(b))) {
            throw new IllegalArgumentException("uniform: need finite lo < hi, got [" + a + ", " + b + ")");
        }
        Tensor out = Dispatch.apply(backend, new Draw(op, this, dist, a, b, Checks.shape(op, shape), t));
        if (dist != RandomDistribution.UNIFORM) {
            return out;
        }
        // NOTE: lo + (hi - lo) u is rounded to the dtype and can land on hi itself (float32 uniform(0, 1) gives
        // 1.0f for a word whose top 24 bits are all ones); clamping to the largest value below hi keeps [lo, hi)
        float f = (float) b;
        double below = t == DType.FLOAT32 ? (f < b ? f : Math.nextDown(f)) : Math.nextDown(b);
        try (out) {
            return out.minimum(below);
        }
    }

    /** Reserves the counters for {@code size} draws: the stream advances on every call, traced or not. */
    private synchronized long reserve(long size) {
        long start = counter;
        counter += Philox.countersFor(size);
        return start;
    }

    /**
     * The random-draw primitive: each application takes the next counters of its generator, so a traced function
     * draws new numbers on every call (as a stateful {@code tf.random.Generator}).
     */
    record Draw(String name, Rng rng, RandomDistribution dist, double a, double b, Shape shape, DType dtype)
            implements Primitive {
        @Override public Recording recording() { return Recording.NONE; }
        @Override public boolean isPure() { return false; }
        @Override public void compute(Backend backend, Buffer[] in, Buffer out) {
            backend.random(dist, rng.seed, rng.reserve(shape.size()), a, b, out);
        }
    }
}
