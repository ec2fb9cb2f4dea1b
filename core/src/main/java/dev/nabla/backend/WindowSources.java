package dev.nabla.backend;

import dev.nabla.DType;
import java.util.ArrayList;
import java.util.List;

/**
 * For the default {@link Backend#im2col} and {@link Backend#col2im}: the flat input index each element of the column
 * matrix reads, or {@link WindowGeometry#inputSize()} where the window lies in the padding, computed on the device
 * with INT32 primitives (iota, fills, arithmetic, comparisons, selects). Queued work only, no upload: a backend that
 * records work (a CUDA graph) can record it, and nothing waits for the host.
 *
 * <p>The index separates: element (r, q), row r = (c, i, j), column q = (n, oy, ox), reads
 * {@code rowOffset[r] + columnOffset[q]} with {@code rowOffset = c·H·W + (i − padTop)·W + j − padLeft} and
 * {@code columnOffset = n·C·H·W + oy·stride·W + ox·stride}, inside the image when {@code rowY[r] + columnY[q]} and
 * {@code rowX[r] + columnX[q]} (the input row and column) are.
 */
final class WindowSources implements AutoCloseable {
    private static final long[] DENSE = {1};
    private static final long[] SCALAR = {0};

    private final Backend b;
    private final List<Buffer> temporaries = new ArrayList<>();

    private WindowSources(Backend b) {
        this.b = b;
    }

    /** The index buffer (INT32, {@code g.rows() × g.columns()}); the caller releases it. */
    static Buffer of(Backend backend, WindowGeometry g) {
        try (WindowSources s = new WindowSources(backend)) {
            return s.compute(g);
        }
    }

    private Buffer compute(WindowGeometry g) {
        long rows = g.rows();
        long columns = g.columns();
        // rows: r = (c·KH + i)·KW + j
        Buffer r = iota(rows);
        Buffer c = op(BinaryOp.DIV, r, constant(g.kernelH() * g.kernelW()));
        Buffer ci = op(BinaryOp.DIV, r, constant(g.kernelW()));                     // c·KH + i
        Buffer i = op(BinaryOp.SUB, ci, op(BinaryOp.MUL, c, constant(g.kernelH())));
        Buffer j = op(BinaryOp.SUB, r, op(BinaryOp.MUL, ci, constant(g.kernelW())));
        Buffer rowY = op(BinaryOp.SUB, i, constant(g.padTop()));
        Buffer rowX = op(BinaryOp.SUB, j, constant(g.padLeft()));
        Buffer rowOffset = op(BinaryOp.ADD, op(BinaryOp.MUL, c, constant(g.height() * g.width())),
                op(BinaryOp.ADD, op(BinaryOp.MUL, rowY, constant(g.width())), rowX));
        // columns: q = (n·OH + oy)·OW + ox
        Buffer q = iota(columns);
        Buffer n = op(BinaryOp.DIV, q, constant(g.outH() * g.outW()));
        Buffer noy = op(BinaryOp.DIV, q, constant(g.outW()));                       // n·OH + oy
        Buffer oy = op(BinaryOp.SUB, noy, op(BinaryOp.MUL, n, constant(g.outH())));
        Buffer ox = op(BinaryOp.SUB, q, op(BinaryOp.MUL, noy, constant(g.outW())));
        Buffer colY = op(BinaryOp.MUL, oy, constant(g.stride()));
        Buffer colX = op(BinaryOp.MUL, ox, constant(g.stride()));
        Buffer colOffset = op(BinaryOp.ADD, op(BinaryOp.MUL, n, constant(g.channels() * g.height() * g.width())),
                op(BinaryOp.ADD, op(BinaryOp.MUL, colY, constant(g.width())), colX));
        // the matrix: row values broadcast along columns, column values along rows
        long[] shape = {rows, columns};
        Buffer y = outer(BinaryOp.ADD, rowY, colY, shape);
        Buffer x = outer(BinaryOp.ADD, rowX, colX, shape);
        Buffer index = b.allocate(DType.INT32, rows * columns);
        b.binary(BinaryOp.ADD, rowOffset, new long[] {1, 0}, colOffset, new long[] {0, 1}, index, shape);
        Buffer padding = constant(Math.toIntExact(g.inputSize()));
        outside(index, y, BinaryOp.LT, constant(0), padding);
        outside(index, y, BinaryOp.GE, constant(g.height()), padding);
        outside(index, x, BinaryOp.LT, constant(0), padding);
        outside(index, x, BinaryOp.GE, constant(g.width()), padding);
        return index;
    }

    /** Where {@code coordinate op limit}, the index becomes {@code padding}. */
    private void outside(Buffer index, Buffer coordinate, BinaryOp op, Buffer limit, Buffer padding) {
        long size = index.size();
        Buffer hit = temporary(DType.BOOL, size);
        b.binary(op, coordinate, DENSE, limit, SCALAR, hit, new long[] {size});
        Buffer before = temporary(DType.INT32, size);
        b.copy(index, 0, DENSE, before, 0, DENSE, new long[] {size});
        b.select(hit, DENSE, padding, SCALAR, before, DENSE, index, new long[] {size});
    }

    private Buffer iota(long size) {
        Buffer t = temporary(DType.INT32, size);
        b.iota(t);
        return t;
    }

    private Buffer constant(int value) {
        Buffer t = temporary(DType.INT32, 1);
        b.fill(t, value);
        return t;
    }

    /** {@code a op scalar-or-same-size b}, element-wise over {@code a}. */
    private Buffer op(BinaryOp op, Buffer a, Buffer c) {
        Buffer t = temporary(DType.INT32, a.size());
        b.binary(op, a, DENSE, c, c.size() == 1 ? SCALAR : DENSE, t, new long[] {a.size()});
        return t;
    }

    /** {@code row[r] op column[q]} over {@code (rows, columns)}. */
    private Buffer outer(BinaryOp op, Buffer row, Buffer column, long[] shape) {
        Buffer t = temporary(DType.INT32, shape[0] * shape[1]);
        b.binary(op, row, new long[] {1, 0}, column, new long[] {0, 1}, t, shape);
        return t;
    }

    private Buffer temporary(DType dtype, long size) {
        Buffer t = b.allocate(dtype, size);
        temporaries.add(t);
        return t;
    }

    @Override
    public void close() {
        temporaries.forEach(Buffer::release);
    }
}
