package dev.nabla.nn;

import dev.nabla.backend.WindowGeometry;
import dev.nabla.ops.Checks;

/**
 * The sliding windows of a 2-D convolution or pooling over an {@code height × width} image: the checks of the
 * kernel, stride and padding, and TF's "same" rule; {@link #geometry} hands them to the im2col primitive.
 */
record Windows(int height, int width, int kernelH, int kernelW, int stride, int padTop, int padLeft, int outH,
        int outW) {

    /** The windows over an {@code h × w} image for "valid" (no padding) or "same" (TF's padding rule). */
    static Windows of(String op, long h, long w, int kernelH, int kernelW, int stride, String padding) {
        checkPadding(op, padding);
        if (stride < 1 || kernelH < 1 || kernelW < 1) {
            throw new IllegalArgumentException(op + ": kernel and stride must be >= 1, got kernel (" + kernelH + ", "
                    + kernelW + ") stride " + stride);
        }
        int outH;
        int outW;
        int padH;
        int padW;
        switch (padding) {
            case "valid" -> {
                outH = (int) ((h - kernelH) / stride + 1);
                outW = (int) ((w - kernelW) / stride + 1);
                padH = 0;
                padW = 0;
            }
            case "same" -> {
                // NOTE: TF pads the extra row and column at the bottom and right
                outH = (int) ((h + stride - 1) / stride);
                outW = (int) ((w + stride - 1) / stride);
                padH = (int) Math.max((outH - 1) * stride + kernelH - h, 0);
                padW = (int) Math.max((outW - 1) * stride + kernelW - w, 0);
            }
            default -> throw new IllegalArgumentException(op + ": padding must be \"valid\" or \"same\", got \""
                    + padding + "\"");
        }
        if (h < kernelH - padH || w < kernelW - padW || outH < 1 || outW < 1) {
            throw new IllegalArgumentException(op + ": a (" + kernelH + ", " + kernelW + ") kernel does not fit an"
                    + " image of (" + h + ", " + w + ") with " + padding + " padding");
        }
        return new Windows(Math.toIntExact(h), Math.toIntExact(w), kernelH, kernelW, stride, padH / 2, padW / 2, outH,
                outW);
    }

    /** {@code padding} is "valid" or "same". */
    static void checkPadding(String op, String padding) {
        Checks.notNull(op, "padding", padding);
        if (!padding.equals("valid") && !padding.equals("same")) {
            throw new IllegalArgumentException(op + ": padding must be \"valid\" or \"same\", got \"" + padding
                    + "\"");
        }
    }

    /** The backend's geometry of these windows over {@code images × channels} planes. */
    WindowGeometry geometry(long images, long channels) {
        return new WindowGeometry(Math.toIntExact(images), Math.toIntExact(channels), height, width, kernelH, kernelW,
                stride, padTop, padLeft, outH, outW);
    }
}
