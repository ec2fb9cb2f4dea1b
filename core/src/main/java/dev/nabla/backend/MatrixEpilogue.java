package dev.nabla.backend;

/**
 * What a matrix product does to each element of its result as it writes it: adds a bias chosen by the element's row
 * or column, then applies relu if asked. A traced plan hands a product the bias add and relu that followed it (a
 * dense layer's, a convolution's), so the backend can apply them to each block of the result while the block is still
 * in cache instead of in a pass over memory. Each op rounds as the op would alone: the bits are those of the product,
 * then {@link BinaryOp#ADD}, then {@link UnaryOp#RELU}.
 *
 * <pre>{@code
 * // out = relu(a · b + bias[column]): a dense layer of (m, n) outputs with its bias of n
 * backend.matmul(a, null, false, b, null, false, out, null, m, k, n, new MatrixEpilogue(false, false, true), bias);
 * }</pre>
 *
 * @param perRow    the bias holds one value per row of the result ({@code bias[r]}: a convolution's channels are its
 *                  product's rows), else one per column ({@code bias[c]}: a dense layer's outputs)
 * @param biasFirst the sum is {@code bias + c} rather than {@code c + bias}, as the traced op had it (which of two
 *                  NaNs survives may depend on the order)
 * @param relu      relu follows the add
 */
public record MatrixEpilogue(boolean perRow, boolean biasFirst, boolean relu) {
    /**
     * Applies the epilogue with the backend's element-wise primitives to the {@code m × n} result {@code out}, dense
     * or in {@code outRuns}: the SPI's default, after the product.
     */
    void applyAfter(Backend backend, Buffer out, MatrixRuns outRuns, Buffer bias, long m, long n) {
        if (m == 0 || n == 0) {
            return;
        }
        // the result as (rows, runs, run): a dense one is one run a row
        MatrixRuns layout = outRuns != null ? outRuns : new MatrixRuns(n, n, 0);
        long[] shape = layout.shape(m, n);
        long[] biasStrides = perRow ? new long[] {1, 0, 0} : new long[] {0, layout.run(), 1};
        Buffer dense = outRuns == null ? out : backend.allocate(out.dtype(), m * n);
        try {
            Buffer first = biasFirst ? bias : out;
            Buffer second = biasFirst ? out : bias;
            long[] firstStrides = biasFirst ? biasStrides : layout.strides();
            long[] secondStrides = biasFirst ? layout.strides() : biasStrides;
            backend.binary(BinaryOp.ADD, first, firstStrides, second, secondStrides, dense, shape);
            if (relu) {
                backend.unary(UnaryOp.RELU, dense, dense);
            }
            if (outRuns != null) {
                backend.copy(dense, 0, new long[] {n, layout.run(), 1}, out, 0, layout.strides(), shape);
            }
        } finally {
            if (dense != out) {
                dense.release();
            }
        }
    }
}
