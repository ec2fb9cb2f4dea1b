package dev.nabla.autograd;

import dev.nabla.Tensor;

/**
 * A gradient rule that takes, as the gradient of its output, any tensor that broadcasts to the output's shape (an
 * element-wise unary op's rule, written with broadcasting ops). The tape hands such a rule the gradient as it is;
 * every other rule gets it broadcast to the output's shape first.
 *
 * <p>Why: the gradient of a sum is its upstream gradient repeated over the summed axes. Kept as the small tensor it
 * is, a rule like square's ({@code g·2·x}) reads it as a broadcast instead of a copy the size of the input: W6's
 * backward ({@code sum((A + b)²)}, A 1024 × 1024) lost a 4 MiB write and a 4 MiB read. PyTorch's {@code expand}
 * gives the same saving with a stride-0 view.
 */
@FunctionalInterface
public interface BroadcastingVjp extends Vjp {
    /** {@inheritDoc} Here {@code grad} may be any tensor that broadcasts to the output's shape. */
    @Override
    Tensor[] apply(Tensor grad, boolean[] needed);
}
