package dev.nabla.ops;

import dev.nabla.DType;
import dev.nabla.Shape;
import dev.nabla.Tensor;
import dev.nabla.backend.Backend;
import dev.nabla.backend.Buffer;

/**
 * One application of a backend primitive, built by an op after its checks: it knows the output's shape and dtype,
 * how to compute the output from the inputs' buffers, and its gradient rule (a named method beside the forward).
 * {@link Dispatch#apply} is the one entry point every op runs through: it allocates, computes, records on the tape
 * and, while a function is being traced, adds a node to the graph. A traced graph replays the same primitives, so
 * eager and traced results are the same bits.
 *
 * <p>Public for the other packages of core (the graph), not API.
 */
public interface Primitive {
    /** How the tape records an application. */
    enum Recording {
        /** No gradient flows (integer or boolean outputs, comparisons, argmax). */
        NONE,
        /** The gradient rule does not read the inputs' values (add, sum, reshape...). */
        LINEAR,
        /** The gradient rule reads the inputs' values; their versions are checked at backward time. */
        SAVES_INPUTS
    }

    /** The op's name, as messages, tape nodes and graph listings give it. */
    String name();

    /** The output's shape. */
    Shape shape();

    /** The output's dtype. */
    DType dtype();

    /** How the tape records this application. */
    Recording recording();

    /**
     * Writes the output into {@code out}, a buffer of {@link #shape()} and {@link #dtype()}, from the inputs'
     * buffers; the inputs were checked when this primitive was built.
     */
    void compute(Backend backend, Buffer[] in, Buffer out);

    /**
     * The gradient rule: the gradients of the inputs given {@code g}, the gradient of {@code out}; {@code null} where
     * {@code needed} is false or no gradient flows. Written with public ops, so outer tapes record it.
     */
    default Tensor[] gradient(Tensor[] in, Tensor out, Tensor g, boolean[] needed) {
        throw new IllegalStateException(name() + " has no gradient");
    }

    /**
     * True when {@link #gradient} takes, as {@code g}, any tensor that broadcasts to the output's shape (see
     * {@link dev.nabla.autograd.BroadcastingVjp}); otherwise the tape broadcasts it to the output's shape first.
     */
    default boolean takesBroadcastGradient() {
        return false;
    }

    /** True when the output shares input 0's storage (reshape and its relatives): nothing is computed. */
    default boolean isView() {
        return false;
    }

    /** The non-tensor arguments, for listings (e.g. {@code axes=(0, 1)}); empty when there are none. */
    default String attributes() {
        return "";
    }

    /**
     * True when two applications with equal attributes on the same inputs compute the same value (every primitive but
     * the random draws): a graph may then compute it once.
     */
    default boolean isPure() {
        return true;
    }
}
