package dev.nabla.backend;

/** Reductions along one axis. ARGMAX yields INT32 (the first index of the maximum); the others keep the dtype. */
public enum ReduceOp {
    SUM, MAX, MIN, ARGMAX
}
