package dev.nabla.backend;

/**
 * Reductions along one axis. ARGMAX yields INT32 (the first index of the maximum); the others keep the dtype.
 *
 * <pre>{@code
 * backend.reduce(ReduceOp.SUM, in, outer, n, inner, out);   // sums the middle axis of (outer, n, inner)
 * }</pre>
 */
public enum ReduceOp {
    SUM, MAX, MIN, ARGMAX
}
