package dev.nabla;

/**
 * Element types of a {@link Tensor}.
 *
 * <pre>{@code
 * Tensor t = Tensor.of(new int[] {1, 2, 3});
 * assert t.dtype() == DType.INT32;
 * Tensor f = t.to(DType.FLOAT32);
 * }</pre>
 */
public enum DType {
    FLOAT32(4, "float32"),
    FLOAT64(8, "float64"),
    INT32(4, "int32"),
    BOOL(1, "bool");

    private final int byteSize;
    private final String displayName;

    DType(int byteSize, String displayName) {
        this.byteSize = byteSize;
        this.displayName = displayName;
    }

    /** Bytes one element takes in a buffer. */
    public int byteSize() {
        return byteSize;
    }

    /** True for the floating-point types, the only ones that carry gradients. */
    public boolean isFloating() {
        return this == FLOAT32 || this == FLOAT64;
    }

    /** The name TensorFlow prints, e.g. {@code float32}. */
    public String displayName() {
        return displayName;
    }

    @Override
    public String toString() {
        return displayName;
    }
}
