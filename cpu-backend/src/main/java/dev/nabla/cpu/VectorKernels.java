package dev.nabla.cpu;

import dev.nabla.DType;
import dev.nabla.backend.BinaryOp;
import dev.nabla.backend.ReduceOp;
import dev.nabla.backend.UnaryOp;

/**
 * Vector API fast paths for FLOAT32 and FLOAT64. Each method returns false when its case does not apply (another
 * dtype, an op without a vector form, a layout with strides other than 0 or 1 inside a row) and the caller falls
 * back to the generic scalar loop, which stays the reference.
 */
final class VectorKernels {
    private VectorKernels() {
    }

    /** The preferred species, for diagnostics. */
    static String describeSpecies() {
        return FloatLanes.SPECIES + ", " + DoubleLanes.SPECIES;
    }

    /** Dense {@code y = op(x)}. */
    static boolean unary(UnaryOp op, CpuBuffer x, CpuBuffer y) {
        DType t = x.dtype();
        if (t != y.dtype() || !(t == DType.FLOAT32 ? FloatLanes.supports(op)
                : t == DType.FLOAT64 && DoubleLanes.supports(op))) {
            return false;
        }
        if (t == DType.FLOAT32) {
            float[] in = x.floats();
            float[] out = y.floats();
            Parallel.range(y.n(), Parallel.ELEMENTWISE_GRAIN, (lo, hi) -> FloatLanes.unary(op, in, out, lo, hi));
        } else {
            double[] in = x.doubles();
            double[] out = y.doubles();
            Parallel.range(y.n(), Parallel.ELEMENTWISE_GRAIN, (lo, hi) -> DoubleLanes.unary(op, in, out, lo, hi));
        }
        return true;
    }

    /**
     * {@code out = op(a, b)} over broadcast strides, for every layout whose rows (after merging dimensions) read
     * each operand contiguously or as one broadcast value: same shape, scalar, row and column broadcasts.
     */
    static boolean binary(BinaryOp op, CpuBuffer a, long[] as, CpuBuffer b, long[] bs, CpuBuffer out, long[] shape) {
        DType t = a.dtype();
        if ((t != DType.FLOAT32 && t != DType.FLOAT64) || b.dtype() != t) {
            return false;
        }
        if (isOneElement(shape)) {
            // NOTE: scalars (the notebook's loss, optimizer hyper-parameters) skip the layout analysis and vector
            // set-up, which cost more than the op itself; a one-element operand sits at offset 0
            double v = op.apply(a.get(0), b.get(0));
            out.set(0, v);
            return true;
        }
        RowLayout layout = RowLayout.of(shape, as, bs);
        if (!layout.rowsAreUnitOrBroadcast()) {
            return false;
        }
        long total = layout.rows() * layout.rowLength();
        if (total == 0) {
            return true;
        }
        int len = layout.rowLength();
        boolean aBroadcast = layout.innerStride(0) == 0;
        boolean bBroadcast = layout.innerStride(1) == 0;
        byte[] bools = op.isComparison() ? out.bools() : null;
        int lanes = t == DType.FLOAT32 ? FloatLanes.SPECIES.length() : DoubleLanes.SPECIES.length();
        // rows shorter than a vector (a softmax's classes) as one masked vector each, where the op allows it
        boolean masked = !op.isComparison() && len < lanes
                && (t == DType.FLOAT32 ? FloatLanes.isExact(op) : DoubleLanes.isExact(op));
        RowPiece piece;
        if (t == DType.FLOAT32) {
            float[] x = a.floats();
            float[] y = b.floats();
            float[] z = op.isComparison() ? null : out.floats();
            piece = op == BinaryOp.POW
                    ? (row, col, o, n) -> FloatLanes.pow(x, (int) layout.offset(0, row) + (aBroadcast ? 0 : col),
                            aBroadcast, y, (int) layout.offset(1, row) + (bBroadcast ? 0 : col), bBroadcast, z, o, n)
                    : masked
                    ? (row, col, o, n) -> FloatLanes.shortRow(op, x, (int) layout.offset(0, row)
                            + (aBroadcast ? 0 : col), aBroadcast, y, (int) layout.offset(1, row)
                            + (bBroadcast ? 0 : col), bBroadcast, z, o, n)
                    : (row, col, o, n) -> FloatLanes.row(op, x, (int) layout.offset(0, row) + (aBroadcast ? 0 : col),
                            aBroadcast, y, (int) layout.offset(1, row) + (bBroadcast ? 0 : col), bBroadcast, z,
                            bools, o, n);
        } else {
            double[] x = a.doubles();
            double[] y = b.doubles();
            double[] z = op.isComparison() ? null : out.doubles();
            piece = op == BinaryOp.POW
                    ? (row, col, o, n) -> DoubleLanes.pow(x, (int) layout.offset(0, row) + (aBroadcast ? 0 : col),
                            aBroadcast, y, (int) layout.offset(1, row) + (bBroadcast ? 0 : col), bBroadcast, z, o, n)
                    : masked
                    ? (row, col, o, n) -> DoubleLanes.shortRow(op, x, (int) layout.offset(0, row)
                            + (aBroadcast ? 0 : col), aBroadcast, y, (int) layout.offset(1, row)
                            + (bBroadcast ? 0 : col), bBroadcast, z, o, n)
                    : (row, col, o, n) -> DoubleLanes.row(op, x, (int) layout.offset(0, row) + (aBroadcast ? 0 : col),
                            aBroadcast, y, (int) layout.offset(1, row) + (bBroadcast ? 0 : col), bBroadcast, z,
                            bools, o, n);
        }
        Parallel.range((int) total, Parallel.ELEMENTWISE_GRAIN, (lo, hi) -> forEachRowPiece(layout, lo, hi, piece));
        return true;
    }

    private static boolean isOneElement(long[] shape) {
        for (long d : shape) {
            if (d != 1) {
                return false;
            }
        }
        return true;
    }

    /** One piece of a row: elements {@code [col, col + length)} of {@code row}, at {@code outOffset} in the output. */
    @FunctionalInterface
    private interface RowPiece {
        void run(long row, int col, int outOffset, int length);
    }

    /** Splits the flat output range {@code [lo, hi)} at row boundaries (a thread's chunk may start mid-row). */
    private static void forEachRowPiece(RowLayout layout, int lo, int hi, RowPiece piece) {
        int len = layout.rowLength();
        long row = lo / len;
        int col = lo % len;
        int at = lo;
        while (at < hi) {
            int take = Math.min(len - col, hi - at);
            piece.run(row, col, at, take);
            at += take;
            row++;
            col = 0;
        }
    }

    /**
     * SUM, MAX and MIN of FLOAT32/FLOAT64, and their ARGMAX across rows (fewer than 2^24: the row numbers ride in
     * float lanes; and not below {@link VectorSupport#SCALAR_BELOW} elements, which the generic walk does faster
     * until C2 has compiled the lanes); ARGMAX along the last axis and other dtypes stay generic.
     */
    static boolean reduce(ReduceOp op, CpuBuffer x, long outer, long n, long inner, CpuBuffer y) {
        if (op == ReduceOp.ARGMAX && inner > 1 && n > 0 && n < (1 << 24) && y.dtype() == DType.INT32
                && outer * n * inner >= VectorSupport.SCALAR_BELOW) {
            switch (x.dtype()) {
                case FLOAT32 -> FloatReductions.argmaxAcrossRows(x.floats(), (int) outer, (int) n, (int) inner,
                        y.ints());
                case FLOAT64 -> DoubleReductions.argmaxAcrossRows(x.doubles(), (int) outer, (int) n, (int) inner,
                        y.ints());
                default -> {
                    return false;
                }
            }
            return true;
        }
        if (op == ReduceOp.ARGMAX || x.dtype() != y.dtype()
                || (x.dtype() != DType.FLOAT32 && x.dtype() != DType.FLOAT64)) {
            return false;
        }
        if (x.dtype() == DType.FLOAT32) {
            FloatReductions.reduce(op, x.floats(), (int) outer, (int) n, (int) inner, y.floats());
        } else {
            DoubleReductions.reduce(op, x.doubles(), (int) outer, (int) n, (int) inner, y.doubles());
        }
        return true;
    }
}
