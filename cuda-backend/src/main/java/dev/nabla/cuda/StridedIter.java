package dev.nabla.cuda;

import java.util.Arrays;

/**
 * The host side of the kernels' {@code StridedIter}: a dense index space read through up to three operands' element
 * strides, simplified before it travels. Size-1 dimensions are dropped and neighbours that every operand walks
 * contiguously are merged, so a dense operand ends up as one dimension of stride 1 (the kernels' fast path) and a
 * row broadcast as two. An index space that keeps more than {@link #MAX_RANK} dimensions is walked in {@link #chunks()}:
 * the host loops over the outer dimensions and each launch covers the innermost {@link #MAX_RANK}.
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

    /** The simplified iterator of {@code shape} with one stride array per operand (any rank; see {@link #chunks}). */
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

    /**
     * One launch's part of the index space: the iterator of the innermost (at most {@link #MAX_RANK}) dimensions, the
     * element offset of its first element in each operand, and in the dense output ({@code first}).
     */
    record Chunk(StridedIter inner, long[] offsets, long first) {
    }

    /**
     * The launches that cover this index space: one chunk with zero offsets when it fits the kernels' rank, else one
     * per index of the outer {@code rank - MAX_RANK} dimensions.
     */
    java.util.List<Chunk> chunks() {
        int k = strides.length;
        if (rank() <= MAX_RANK) {
            return java.util.List.of(new Chunk(this, new long[k], 0));
        }
        int outer = rank() - MAX_RANK;
        long[] innerShape = Arrays.copyOfRange(shape, outer, rank());
        long[][] innerStrides = new long[k][];
        long innerSize = 1;
        for (long d : innerShape) {
            innerSize *= d;
        }
        for (int j = 0; j < k; j++) {
            innerStrides[j] = Arrays.copyOfRange(strides[j], outer, rank());
        }
        StridedIter inner = new StridedIter(innerShape, innerStrides, innerSize);
        long count = size / Math.max(1, innerSize);
        java.util.List<Chunk> out = new java.util.ArrayList<>();
        for (long c = 0; c < count; c++) {
            long[] offsets = new long[k];
            long rest = c;
            for (int d = outer - 1; d >= 0; d--) {
                long idx = rest % shape[d];
                rest /= shape[d];
                for (int j = 0; j < k; j++) {
                    offsets[j] += idx * strides[j][d];
                }
            }
            out.add(new Chunk(inner, offsets, c * innerSize));
        }
        return out;
    }

    /** The struct as the kernels read it: shape[8], strides[3][8], rank, as 33 longs. */
    long[] pack() {
        if (rank() > MAX_RANK) {
            throw new IllegalStateException("a StridedIter of rank " + rank() + " must be launched in chunks()");
        }
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
