package dev.nabla.backend;

/**
 * Distributions the random-fill primitive draws from.
 *
 * <pre>{@code
 * backend.random(RandomDistribution.NORMAL, seed, counter, 0, 1, out);   // mean 0, standard deviation 1
 * }</pre>
 */
public enum RandomDistribution {
    /** Uniform on {@code [a, b)}. */
    UNIFORM,
    /** Normal with mean {@code a} and standard deviation {@code b}. */
    NORMAL
}
