package dev.nabla.cuda;

import java.util.Arrays;

/**
 * The host side of the kernels' {@code StridedIter}: a dense index space read through up to three operands' element
 * strides, simplified before it travels. Size-1 dimensions are dropped and neighbours that every operand walks
 * contiguously are merged, so a dense operand ends up as one dimension of stride 1 (the kernels' fast path) and a
 * row broadcast as two; only index spaces that stay above {@link #MAX_RANK} dimensions after this are refused.
 */
final class StridedIter {
    /** The kernels' fixed maximum rank ({@code NABLA_MAX_RANK} in common.cuh). */
    static final int MAX_RANK = 8;
    /** Operands the kernel struct has room for. */
    static final int MAX_OPERANDS = 3;

    private final long[] shape;
    private final long[][] strides;
    private final long size;

    private StridedIter(long[] shape, long[][] strides, long size) {
        this.shape = shape;
        this.strides = strides;
        this.size = size;
    }

    /**
     * The simplified iterator of {@code shape} with one stride array per operand.
     *
     * @throws IllegalArgumentException when more than {@link #MAX_RANK} dimensions remain
     */
    static StridedIter of(long[] shape, long[]... operandStrides) {
        if (operandStrides.length > MAX_OPERANDS) {
            throw new IllegalArgumentException("at most " + MAX_OPERANDS + " strided operands, got "
                    + operandStrides.length);
        }
        long size = 1;
        for (long d : shape) {
            size *= d;
        }
        int k = operandStrides.length;
        long[] dims = new long[shape.length];
        long[][] st = new long[k][shape.length];
        int rank = 0;
        // innermost first: append dims in reverse, merging into the previous (inner) one when contiguous for all
        for (int d = shape.length - 1; d >= 0; d--) {
            if (shape[d] == 1) {
                continue;
            }
            if (rank > 0 && mergeable(operandStrides, d, dims[rank - 1], st, rank - 1)) {
                dims[rank - 1] *= shape[d];
                continue;
            }
            dims[rank] = shape[d];
            for (int j = 0; j < k; j++) {
                st[j][rank] = operandStrides[j][d];
            }
            rank++;
        }
        if (rank > MAX_RANK) {
            throw new IllegalArgumentException("cuda kernels iterate at most " + MAX_RANK
                    + " dimensions that cannot be merged; got " + rank + " for shape " + Arrays.toString(shape));
        }
        long[] outShape = new long[rank];
        long[][] outStrides = new long[k][rank];
        for (int i = 0; i < rank; i++) { // back to outermost-first order
            outShape[i] = dims[rank - 1 - i];
            for (int j = 0; j < k; j++) {
                outStrides[j][i] = st[j][rank - 1 - i];
            }
        }
        return new StridedIter(outShape, outStrides, size);
    }

    // dimension d (outer) merges into the collected inner dimension when, for every operand, stepping d once
    // equals stepping the inner dimension through its whole extent
    private static boolean mergeable(long[][] operandStrides, int d, long innerDim, long[][] st, int inner) {
        for (int j = 0; j < operandStrides.length; j++) {
            if (operandStrides[j][d] != st[j][inner] * innerDim) {
                return false;
            }
        }
        return true;
    }

    /** Dimensions left after simplification (0 for a single element). */
    int rank() {
        return shape.length;
    }

    long[] shape() {
        return shape.clone();
    }

    long[] strides(int operand) {
        return strides[operand].clone();
    }

    /** Elements in the index space. */
    long size() {
        return size;
    }

    /** True when the operand reads element i at offset i (dense, row-major). */
    boolean isDense(int operand) {
        return rank() == 0 || (rank() == 1 && strides[operand][0] == 1);
    }

    /** True when the operand is one element broadcast everywhere. */
    boolean isBroadcastScalar(int operand) {
        for (long s : strides[operand]) {
            if (s != 0) {
                return false;
            }
        }
        return true;
    }

    /** The struct as the kernels read it: shape[8], strides[3][8], rank, as 33 longs. */
    long[] pack() {
        long[] p = new long[MAX_RANK * (1 + MAX_OPERANDS) + 1];
        for (int i = 0; i < rank(); i++) {
            p[i] = shape[i];
            for (int j = 0; j < strides.length; j++) {
                p[MAX_RANK * (1 + j) + i] = strides[j][i];
            }
        }
        p[p.length - 1] = rank();
        return p;
    }
}
