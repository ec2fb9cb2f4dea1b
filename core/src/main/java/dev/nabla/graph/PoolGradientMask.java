package dev.nabla.graph;

import dev.nabla.backend.BinaryOp;
import dev.nabla.backend.WindowGeometry;
import dev.nabla.ops.Convolution;
import dev.nabla.ops.Elementwise;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A plan rewrite for a relu followed by max pooling (every convolution block of a CNN): the gradient that reaches
 * the relu is max pooling's, scattered into zeros of the image's shape, and relu's rule then zeroes it wherever the
 * relu's output is not positive. Each scattered value lands on its window's maximum, which the forward's
 * {@code maxPool} holds, so masking the pooled gradient with the pooled values before the scatter gives the same
 * bits:
 * <pre>
 *   relu_gradient(y, maxPoolGradient(g, i))  ==  maxPoolGradient(relu_gradient(maxPool(y, i), g), i)
 * </pre>
 * A position no window chose is +0 either way; where windows overlap, every value added at one position carries that
 * position's mask, so the sums are the same sequence (or all +0). The right side is one step,
 * {@code maskedMaxPoolGradient(maxPool(y, i), g, i)} ({@code Backend.maskedMaxPoolGradient}: the CPU masks each
 * window's gradient as it adds it), which reads the pooled size (a quarter of the image under 2 × 2 windows) where
 * relu's gradient read and wrote three image-sized arrays. Eager execution cannot do this: it runs the two ops as
 * the tape recorded them.
 *
 * <p>Taken when the scattered gradient has no other reader (the unmasked image is then never needed), the forward's
 * {@code maxPool} of the same image with the same indices and windows is in the plan, and all three run on one
 * backend.
 */
final class PoolGradientMask {
    private PoolGradientMask() {
    }

    /** Rewrites every match in {@code steps}: the forward's pool, then one masked scatter in the relu's place. */
    static void apply(List<Plan.Step> steps, List<Value> values, int[] root, int[] results) {
        int[] uses = Plan.rootReads(steps, root, results, values.size());
        int[] producer = new int[values.size()];
        Arrays.fill(producer, -1);
        for (int i = 0; i < steps.size(); i++) {
            if (!steps.get(i).isEffect()) {
                producer[steps.get(i).out] = i;
            }
        }
        boolean[] dropped = new boolean[steps.size()];
        Plan.Step[] replacement = new Plan.Step[steps.size()];
        for (int i = 0; i < steps.size(); i++) {
            Plan.Step s = steps.get(i);
            int scatter = s.isEffect() ? -1 : scatterUnder(steps, s, root, uses, producer);
            int pool = scatter < 0 ? -1 : forwardPool(steps, i, s, steps.get(scatter), root);
            if (pool < 0) {
                continue;
            }
            Plan.Step gradient = steps.get(scatter);
            WindowGeometry windows = ((Convolution.MaxPoolGradient) gradient.primitive).geometry();
            Plan.Step masked = new Plan.Step();
            masked.primitive = new Convolution.MaskedMaxPoolGradient(windows, s.primitive.shape(), s.primitive.dtype());
            masked.backend = s.backend;
            masked.in = new int[] {steps.get(pool).out, gradient.in[0], gradient.in[1]};
            masked.out = s.out;
            dropped[scatter] = true;
            replacement[i] = masked;
        }
        List<Plan.Step> out = new ArrayList<>(steps.size());
        for (int i = 0; i < steps.size(); i++) {
            if (replacement[i] != null) {
                out.add(replacement[i]);
            } else if (!dropped[i]) {
                out.add(steps.get(i));
            }
        }
        steps.clear();
        steps.addAll(out);
    }

    /**
     * The index of the maxPoolGradient step whose image (through views) {@code s} masks when {@code s} is a
     * relu_gradient of equal shapes and that image has no other reader; else -1.
     */
    private static int scatterUnder(List<Plan.Step> steps, Plan.Step s, int[] root, int[] uses, int[] producer) {
        if (!(s.primitive instanceof Elementwise.Binary b) || b.op() != BinaryOp.RELU_GRADIENT
                || !b.aShape().equals(b.shape()) || !b.bShape().equals(b.shape())) {
            return -1;
        }
        int image = root[s.in[1]];
        int p = producer[image];
        if (p < 0 || uses[image] != 1) {
            return -1;
        }
        Plan.Step g = steps.get(p);
        return g.primitive instanceof Convolution.MaxPoolGradient && g.backend == s.backend
                && g.primitive.dtype() == b.dtype() ? p : -1;
    }

    /**
     * The index of a step before {@code at} that max-pools the relu output {@code s} reads (its buffer, through
     * views) with the indices and windows of {@code gradient}; else -1.
     */
    private static int forwardPool(List<Plan.Step> steps, int at, Plan.Step s, Plan.Step gradient, int[] root) {
        Convolution.MaxPoolGradient g = (Convolution.MaxPoolGradient) gradient.primitive;
        for (int i = 0; i < at; i++) {
            Plan.Step p = steps.get(i);
            if (!p.isEffect() && p.primitive instanceof Convolution.MaxPool pool
                    && pool.geometry().equals(g.geometry()) && pool.dtype() == g.dtype() && p.backend == s.backend
                    && root[p.in[0]] == root[s.in[0]] && root[p.in[1]] == root[gradient.in[1]]) {
                return i;
            }
        }
        return -1;
    }
}
