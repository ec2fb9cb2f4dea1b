package dev.nabla.nn;

import dev.nabla.Device;
import dev.nabla.Tensor;
import dev.nabla.ops.Checks;

/**
 * The sliding windows of a 2-D convolution or pooling, as flat indices into one padded image: gathering with them
 * is im2col, and because gather's gradient is scatter-add, col2im comes for free.
 */
record Windows(int kernelH, int kernelW, int stride, int padTop, int padLeft, int paddedH, int paddedW, int outH,
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
        return new Windows(kernelH, kernelW, stride, padH / 2, padW / 2, (int) h + padH, (int) w + padW, outH, outW);
    }

    /** {@code padding} is "valid" or "same". */
    static void checkPadding(String op, String padding) {
        Checks.notNull(op, "padding", padding);
        if (!padding.equals("valid") && !padding.equals("same")) {
            throw new IllegalArgumentException(op + ": padding must be \"valid\" or \"same\", got \"" + padding
                    + "\"");
        }
    }

    /**
     * INT32 indices of shape (channels · kh · kw · outH · outW) into a padded image flattened to
     * (channels · paddedH · paddedW), ordered (channel, ki, kj, oi, oj).
     */
    Tensor indices(Device d, int channels) {
        int[] idx = new int[channels * kernelH * kernelW * outH * outW];
        int n = 0;
        for (int c = 0; c < channels; c++) {
            for (int ki = 0; ki < kernelH; ki++) {
                for (int kj = 0; kj < kernelW; kj++) {
                    for (int oi = 0; oi < outH; oi++) {
                        for (int oj = 0; oj < outW; oj++) {
                            int row = oi * stride + ki;
                            int col = oj * stride + kj;
                            idx[n++] = (c * paddedH + row) * paddedW + col;
                        }
                    }
                }
            }
        }
        return Tensor.of(d, idx);
    }
}
