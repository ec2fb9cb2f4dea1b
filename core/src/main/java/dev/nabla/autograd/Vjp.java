package dev.nabla.autograd;

import dev.nabla.Tensor;

/**
 * An op's vector-Jacobian product: given the gradient of the op's output, the gradients of its inputs. Written with
 * Nabla ops, so it is itself recorded by any outer tape and gradients of gradients work.
 */
@FunctionalInterface
public interface Vjp {
    /**
     * @param grad the gradient flowing into the op's output (same shape and dtype as the output)
     * @param needed which inputs need a gradient; the others may be {@code null} in the result (work skipped)
     * @return one gradient per input, each with that input's shape or one that broadcasts to it (the tape broadcasts
     *         it where needed), or {@code null} for none
     */
    Tensor[] apply(Tensor grad, boolean[] needed);
}
