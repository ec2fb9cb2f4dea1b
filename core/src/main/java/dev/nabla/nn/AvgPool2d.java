package dev.nabla.nn;

import dev.nabla.Nabla;

import dev.nabla.Tensor;

/**
 * Average pooling over {@code size × size} windows (stride = size unless given), NCHW, "valid" padding.
 *
 * <pre>{@code
 * Tensor half = new AvgPool2d(2).forward(Tensor.zeros(8, 16, 28, 28));   // (8, 16, 14, 14)
 * }</pre>
 */
public final class AvgPool2d extends Layer {
    private final int size;
    private final int stride;

    /** Non-overlapping windows. */
    public AvgPool2d(int size) {
        this(size, size);
    }

    /** Windows of {@code size} moving by {@code stride}. */
    public AvgPool2d(int size, int stride) {
        if (size < 1 || stride < 1) {
            throw new IllegalArgumentException("AvgPool2d: size and stride must be >= 1, got size " + size
                    + " and stride " + stride);
        }
        this.size = size;
        this.stride = stride;
    }

    @Override
    public Tensor forward(Tensor x) {
        return Nabla.scoped(() -> Functional.avgPool2d(x, size, stride));
    }
}
