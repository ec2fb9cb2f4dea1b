package dev.nabla.autograd;

import dev.nabla.Tensor;

/**
 * A {@link Vjp} that hands the tape each input's gradient as the separate terms the input's own ops would have
 * contributed, in the order the tape would have met them, rather than their sum: the tape adds them one by one onto
 * what it already holds for that input, so a traced function's single tape node accumulates its inputs' gradients in
 * exactly the order (and so to exactly the bits) of the eager ops it stands for.
 */
@FunctionalInterface
public interface SplitVjp extends Vjp {
    /**
     * @param grad the gradient flowing into the output
     * @param needed which inputs need a gradient
     * @return per input, its gradient terms in the order they are added (an empty or null array for none)
     */
    Tensor[][] contributions(Tensor grad, boolean[] needed);

    /** The terms of each input added up in order ({@code null} for an input without any). */
    @Override
    default Tensor[] apply(Tensor grad, boolean[] needed) {
        Tensor[][] parts = contributions(grad, needed);
        Tensor[] sums = new Tensor[parts.length];
        for (int j = 0; j < parts.length; j++) {
            for (int k = 0; parts[j] != null && k < parts[j].length; k++) {
                Tensor t = parts[j][k];
                if (t != null) {
                    sums[j] = sums[j] == null ? t : sums[j].add(t);
                }
            }
        }
        return sums;
    }
}
