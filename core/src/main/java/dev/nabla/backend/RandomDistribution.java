package dev.nabla.backend;

/** Distributions the random-fill primitive draws from. */
public enum RandomDistribution {
    /** Uniform on {@code [a, b)}. */
    UNIFORM,
    /** Normal with mean {@code a} and standard deviation {@code b}. */
    NORMAL
}
