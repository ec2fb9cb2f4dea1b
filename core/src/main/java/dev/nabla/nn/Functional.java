package dev.nabla.nn;

import dev.nabla.DType;
import dev.nabla.Nabla;
import dev.nabla.Rng;
import dev.nabla.Shape;
import dev.nabla.Tensor;
import dev.nabla.backend.WindowGeometry;
import dev.nabla.ops.Checks;
import dev.nabla.ops.Convolution;
import java.util.List;

/**
 * Neural-network functions on tensors, all differentiable (their gradients are Nabla ops, so they work on every
 * device and at higher order).
 *
 * <pre>{@code
 * Tensor h = Functional.relu(Functional.conv2d(images, kernel, bias, 1, "same"));
 * Tensor loss = Functional.softmaxCrossEntropy(logits, labels);   // labels INT32 (batch,)
 * }</pre>
 */
public final class Functional {
    private Functional() {
    }

    /** {@code max(x, 0)}. */
    public static Tensor relu(Tensor x) {
        return x.relu();
    }

    /**
     * GELU in its tanh form, {@code 0.5 x (1 + tanh(sqrt(2/π) (x + 0.044715 x³)))} (Keras' {@code gelu(approximate=
     * True)}); the exact erf form differs by less than 1e-3.
     */
    public static Tensor gelu(Tensor x) {
        Checks.open("gelu", "x", x);
        Checks.floating("gelu", x);                 // here, so that the error names gelu rather than tanh or mul
        Tensor inner = x.add(x.mul(x).mul(x).mul(0.044715)).mul(Math.sqrt(2 / Math.PI));
        return x.mul(inner.tanh().add(1)).mul(0.5);
    }

    /**
     * Mean cross-entropy of {@code logits} (batch, classes) against INT32 class {@code labels} (batch,), fused: the
     * forward is {@code logSumExp(z) - z[label]} and the gradient the simple {@code (softmax(z) - onehot) / batch}.
     */
    public static Tensor softmaxCrossEntropy(Tensor logits, Tensor labels) {
        Checks.open("softmaxCrossEntropy", "logits", logits);
        Checks.open("softmaxCrossEntropy", "labels", labels);
        if (labels.dtype() != DType.INT32) {
            return softmaxCrossEntropyWithProbabilities(logits, labels);
        }
        checkLogits("softmaxCrossEntropy", logits);
        if (labels.rank() != 1 || labels.shape().dim(0) != logits.shape().dim(0)) {
            throw new IllegalArgumentException("softmaxCrossEntropy: labels " + labels.shape() + " do not match logits "
                    + logits.shape());
        }
        int classes = (int) logits.shape().dim(1);
        // one small read: oneHot gives a zero row for a label outside [0, classes), which would silently drop that
        // row from the loss (TF and PyTorch refuse such labels too)
        // (read inside: a traced step checks the labels of its first call)
        int[] values = dev.nabla.internal.TensorAccess.backend(labels)
                .readInts(dev.nabla.internal.TensorAccess.buffer(labels, "softmaxCrossEntropy"));
        for (int i = 0; i < values.length; i++) {
            if (values[i] < 0 || values[i] >= classes) {
                throw new IllegalArgumentException("softmaxCrossEntropy: label " + values[i] + " at position " + i
                        + " is out of range [0, " + classes + ") for logits " + logits.shape());
            }
        }
        Tensor oneHot = labels.oneHot(classes).to(logits.dtype());
        return fusedCrossEntropy(logits, oneHot);
    }

    /**
     * Mean cross-entropy against one-hot or probability rows {@code targets} of the logits' shape, with the same
     * fused gradient {@code (softmax(z) - targets) / batch} (targets get no gradient).
     */
    public static Tensor softmaxCrossEntropyWithProbabilities(Tensor logits, Tensor targets) {
        Checks.open("softmaxCrossEntropy", "logits", logits);
        Checks.open("softmaxCrossEntropy", "targets", targets);
        checkLogits("softmaxCrossEntropy", logits);
        if (!targets.shape().equals(logits.shape()) || targets.dtype() != logits.dtype()) {
            throw new IllegalArgumentException("softmaxCrossEntropy: targets " + targets.shape() + " " + targets.dtype()
                    + " do not match logits " + logits.shape() + " " + logits.dtype());
        }
        return fusedCrossEntropy(logits, targets.stopGradient());
    }

    private static void checkLogits(String op, Tensor logits) {
        Checks.floating(op, logits);
        if (logits.rank() != 2 || logits.shape().dim(1) == 0) {
            throw new IllegalArgumentException(op + ": logits must be (batch, classes) with at least one class, got "
                    + logits.shape());
        }
    }

    private static Tensor fusedCrossEntropy(Tensor logits, Tensor targets) {
        long batch = logits.shape().dim(0);
        return Nabla.customGradient(List.of(logits),
                in -> in.get(0).logSoftmax(1).mul(targets).sum().neg().div(batch),
                (in, out, g) -> List.of(in.get(0).softmax(1).sub(targets).mul(g.div(batch))));
    }

    /**
     * {@code mean((prediction - target)²)} of two tensors of one shape. NOTE: shapes must be equal, not merely
     * broadcast: (3, 1) against (3,) would broadcast to (3, 3) and average nine differences instead of three.
     */
    public static Tensor meanSquaredError(Tensor prediction, Tensor target) {
        String op = "meanSquaredError";
        Checks.open(op, "prediction", prediction);
        Checks.open(op, "target", target);
        if (!prediction.shape().equals(target.shape()) || prediction.dtype() != target.dtype()) {
            throw new IllegalArgumentException(op + ": prediction " + prediction.shape() + " " + prediction.dtype()
                    + " and target " + target.shape() + " " + target.dtype() + " must have one shape and dtype");
        }
        Checks.notBool(op, prediction);
        return prediction.sub(target).square().mean();
    }

    /**
     * 2-D convolution of {@code x} (N, C, H, W) with {@code kernel} (O, C, KH, KW) and optional {@code bias} (O,),
     * giving (N, O, OH, OW); {@code padding} "valid" or "same" (TF's rule: extra padding at the bottom and right).
     */
    public static Tensor conv2d(Tensor x, Tensor kernel, Tensor bias, int stride, String padding) {
        String op = "conv2d";
        Checks.open(op, "x", x);
        Checks.open(op, "kernel", kernel);
        Windows.checkPadding(op, padding);
        if (bias != null) {
            Checks.open(op, "bias", bias);
        }
        if (x.rank() != 4 || kernel.rank() != 4 || x.shape().dim(1) != kernel.shape().dim(1)) {
            throw new IllegalArgumentException(op + ": expected input (N, C, H, W) and kernel (O, C, KH, KW), got "
                    + x.shape() + " and " + kernel.shape());
        }
        // checked here so that the error names conv2d, not the im2col, matmul or add it is made of
        Checks.notBool(op, x);
        Checks.sameDeviceAndDtype(op, x, kernel);
        if (bias != null) {
            Checks.sameDeviceAndDtype(op, x, bias);
            if (!bias.shape().equals(Shape.of(kernel.shape().dim(0)))) {
                throw new IllegalArgumentException(op + ": bias " + bias.shape() + " does not match "
                        + kernel.shape().dim(0) + " output channels");
            }
        }
        long n = x.shape().dim(0);
        int c = (int) x.shape().dim(1);
        long o = kernel.shape().dim(0);
        Windows w = Windows.of(op, x.shape().dim(2), x.shape().dim(3), (int) kernel.shape().dim(2),
                (int) kernel.shape().dim(3), stride, padding);
        long ckk = (long) c * w.kernelH() * w.kernelW();
        // one large product over all images: (O, C·KH·KW) · (C·KH·KW, N·OH·OW), then one copy to NCHW
        Tensor cols = Convolution.im2col(x, w.geometry(n, c));
        // the sizes written out: -1 cannot be inferred when O = 0
        // (the permute on three axes: its copy moves whole output planes, not rows of OW)
        long plane = (long) w.outH() * w.outW();
        Tensor out = kernel.reshape(o, ckk).matmul(cols).reshape(o, n, plane).permute(1, 0, 2)
                .reshape(n, o, w.outH(), w.outW());
        if (bias != null) {
            out = out.add(bias.reshape(1, o, 1, 1));
        }
        return out;
    }

    /** Max over {@code size × size} windows moving by {@code stride}, per channel ("valid" padding). */
    public static Tensor maxPool2d(Tensor x, int size, int stride) {
        return pool("maxPool2d", x, size, stride, true);
    }

    /** Mean over {@code size × size} windows moving by {@code stride}, per channel ("valid" padding). */
    public static Tensor avgPool2d(Tensor x, int size, int stride) {
        return pool("avgPool2d", x, size, stride, false);
    }

    private static Tensor pool(String op, Tensor x, int size, int stride, boolean max) {
        Checks.open(op, "x", x);
        if (x.rank() != 4) {
            throw new IllegalArgumentException(op + ": expected input (N, C, H, W), got " + x.shape());
        }
        Checks.notBool(op, x);
        long n = x.shape().dim(0);
        long c = x.shape().dim(1);
        Windows w = Windows.of(op, x.shape().dim(2), x.shape().dim(3), size, size, stride, "valid");
        // every (image, channel) plane is pooled with the windows of a single channel: (K·K, N·C·OH·OW)
        Tensor planes = x.reshape(n * c, 1, x.shape().dim(2), x.shape().dim(3));
        WindowGeometry g = w.geometry(n * c, 1);
        if (max) {
            // one pass to choose, one gather (and its gradient one pass): max over an im2col matrix took eight
            // passes forward and backward (im2col, max; equal, cast, sum, divide, multiply, col2im)
            Tensor chosen = Convolution.maxPoolIndices(planes, g);
            return Convolution.maxPool(planes, chosen, g).reshape(n, c, w.outH(), w.outW());
        }
        return Convolution.im2col(planes, g).mean(0).reshape(n, c, w.outH(), w.outW());
    }

    /**
     * Inverted dropout of a float tensor: in training, zeroes each element with probability {@code rate} and scales
     * the rest by {@code 1 / (1 - rate)}; otherwise (or at rate 0) returns {@code x} itself, as PyTorch does.
     *
     * <pre>{@code
     * Rng rng = Rng.seeded(1);
     * Tensor h = Functional.dropout(x, 0.5, rng, true);    // about half of x zeroed, the rest doubled
     * }</pre>
     */
    public static Tensor dropout(Tensor x, double rate, Rng rng, boolean training) {
        Checks.open("dropout", "x", x);
        Checks.notNull("dropout", "rng", rng);
        if (!(rate >= 0 && rate < 1)) {
            throw new IllegalArgumentException("dropout: rate must be in [0, 1), got " + rate);
        }
        // checked in both modes: an integer tensor would otherwise fail only once training starts, and then in the
        // draw ("uniform: ..."), not here
        Checks.floating("dropout", x);
        if (!training || rate == 0) {
            return x;
        }
        Tensor keep = rng.uniform(x.device(), 0, 1, x.dtype(), x.shape().dims()).ge(rate).to(x.dtype());
        return x.mul(keep).mul(1 / (1 - rate));
    }
}
