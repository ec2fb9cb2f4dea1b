package dev.nabla.optim;

import dev.nabla.Tensor;
import java.util.ArrayList;
import java.util.List;

/** Keras 3's gradient clipping, on tensors (not recorded): by norm, by global norm, or by value. */
final class GradientClipping {
    private GradientClipping() {
    }

    /** The clipped gradients (the same tensors when no clipping is set); null gradients stay null. */
    static List<Tensor> clip(List<Tensor> grads, SlotOptimizer.Options o) {
        if (o.clipNorm() > 0) {
            List<Tensor> out = new ArrayList<>();
            for (Tensor g : grads) {
                out.add(g == null ? null : byNorm(g, o.clipNorm()));
            }
            return out;
        }
        if (o.globalClipNorm() > 0) {
            return byGlobalNorm(grads, o.globalClipNorm());
        }
        if (o.clipValue() > 0) {
            List<Tensor> out = new ArrayList<>();
            for (Tensor g : grads) {
                out.add(g == null ? null : g.maximum(-o.clipValue()).minimum(o.clipValue()));
            }
            return out;
        }
        return grads;
    }

    /** {@code g · c / max(‖g‖, c)}. */
    private static Tensor byNorm(Tensor g, double c) {
        double norm = Math.sqrt(g.square().sum().doubleItem());
        return g.mul(c / Math.max(norm, c));
    }

    /** Every gradient times {@code c / max(‖all‖, c)}. */
    private static List<Tensor> byGlobalNorm(List<Tensor> grads, double c) {
        double sumSquares = 0;
        for (Tensor g : grads) {
            if (g != null) {
                sumSquares += g.square().sum().doubleItem();
            }
        }
        double scale = c / Math.max(Math.sqrt(sumSquares), c);
        List<Tensor> out = new ArrayList<>();
        for (Tensor g : grads) {
            out.add(g == null ? null : g.mul(scale));
        }
        return out;
    }
}
