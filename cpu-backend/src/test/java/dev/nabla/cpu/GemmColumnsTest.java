package dev.nabla.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.nabla.DType;
import dev.nabla.backend.Buffer;
import dev.nabla.backend.MatrixEpilogue;
import dev.nabla.backend.MatrixRuns;
import dev.nabla.backend.WindowGeometry;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Products with an operand that is the column matrix of an image, read from the image in place (a traced plan's
 * convolutions), have the bits of the same product of the column matrix that {@code im2col} writes: the column matrix
 * as A or as B, either transposed (each orientation the GEMM has: column groups, row panels, the depth split), with
 * the other operand dense, transposed or in runs, the result dense or in runs, with and without an epilogue; windows of
 * every size that keeps the image's size (odd and even, 1 × 1, wider than the image), images whose planes are no
 * multiple of the panels, and W7's four products of its columns. Windows the GEMM does not read in place (a stride,
 * "valid" padding) take the default's way through a computed column matrix, with the same bits.
 */
class GemmColumnsTest {
    private final CpuBackend backend = TestBuffers.backend();
    private final Random random = new Random(29);

    @Test
    void productsOfColumnsReadFromTheImageEqualThoseOfTheColumnMatrix() {
        int[][] images = {{1, 1, 1, 1, 1, 1}, {2, 3, 5, 7, 3, 3}, {3, 2, 6, 4, 2, 2}, {1, 4, 9, 9, 1, 1},
            {2, 1, 3, 3, 5, 5}, {5, 2, 14, 14, 3, 3}, {1, 1, 2, 40, 3, 4}};
        int[] others = {1, 4, FloatGemm.MR + 1, 2 * FloatGemm.NR + 3};
        for (DType t : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            for (int[] im : images) {
                WindowGeometry g = same(im[0], im[1], im[2], im[3], im[4], im[5]);
                for (int other : others) {
                    for (int mode = 0; mode < 16; mode++) {
                        check(t, g, other, (mode & 1) != 0, (mode & 2) != 0, (mode & 4) != 0, (mode & 8) != 0);
                    }
                }
            }
        }
    }

    /**
     * W7's products of its columns: the forward products {@code kernel · cols} and the kernel gradients
     * {@code g · colsᵀ} of both convolutions (g read in runs as the plan reads it), FLOAT32.
     */
    @Test
    void w7sProductsOfItsColumns() {
        WindowGeometry first = same(64, 1, 28, 28, 3, 3);
        WindowGeometry second = same(64, 16, 14, 14, 3, 3);
        compare(DType.FLOAT32, first, 16, true, false, false, false);
        compare(DType.FLOAT32, first, 16, true, true, false, false);
        compare(DType.FLOAT32, second, 32, true, false, false, true);
        compare(DType.FLOAT32, second, 32, true, true, false, false);
    }

    /**
     * Kernel gradients over deep columns whose depth slices the threads share, the image's rows read a chunk of
     * slices at a time: fewer column-matrix rows than a row panel (a 2 × 2 kernel on one channel), and rows that end
     * in a partial panel (3 × 3 on one channel, as W7's first), with the other operand in runs. Each is over the 2
     * MFLOP that a second thread takes.
     */
    @Test
    void deepKernelGradientsReadTheImageInChunks() {
        compare(DType.FLOAT32, same(20, 1, 28, 28, 2, 2), 32, true, true, false, false);
        compare(DType.FLOAT32, same(20, 1, 28, 28, 3, 3), 16, true, true, false, true);
        compare(DType.FLOAT32, same(9, 3, 17, 19, 3, 3), 32, true, true, true, false);
    }

    @Test
    void windowsNotReadInPlaceTakeTheColumnMatrix() {
        // stride 2 and "valid" windows: the default computes the column matrix first
        compare(DType.FLOAT32, new WindowGeometry(2, 3, 7, 7, 3, 3, 2, 1, 1, 4, 4), 5, true, false, false, false);
        compare(DType.FLOAT64, new WindowGeometry(2, 3, 7, 7, 3, 3, 1, 0, 0, 5, 5), 5, false, false, true, false);
    }

    @Test
    void anOperandInRunsAndWindowsAtOnceIsRefused() {
        WindowGeometry g = same(1, 1, 4, 4, 3, 3);
        Buffer image = backend.upload(new float[16], DType.FLOAT32);
        Buffer out = backend.allocate(DType.FLOAT32, 9 * 16);
        assertThrows(IllegalArgumentException.class, () -> backend.matmul(image, new MatrixRuns(16, 16, 0), g, true,
                backend.upload(new float[16], DType.FLOAT32), null, null, false, out, null, 9, 16, 1, null, null));
    }

    /** Windows of stride 1 whose output keeps the image's size ("same"). */
    private static WindowGeometry same(int images, int channels, int h, int w, int kh, int kw) {
        return new WindowGeometry(images, channels, h, w, kh, kw, 1, (kh - 1) / 2, (kw - 1) / 2, h, w);
    }

    private void check(DType t, WindowGeometry g, int other, boolean columnsAsB, boolean transposed,
            boolean otherTransposed, boolean otherInRunsOrEpilogue) {
        compare(t, g, other, columnsAsB, transposed, otherTransposed, otherInRunsOrEpilogue);
    }

    /**
     * The product with the column matrix of {@code g} as B ({@code columnsAsB}) or A, {@code other} the other
     * operand's free dimension; with {@code extras} the other operand in runs, the result in runs and an epilogue
     * (the column matrix as B) or the result in runs (as A).
     */
    private void compare(DType t, WindowGeometry g, int other, boolean columnsAsB, boolean transposed,
            boolean otherTransposed, boolean extras) {
        int rows = (int) g.rows();
        int cols = (int) g.columns();
        double[] image = values(t, (int) g.inputSize());
        Buffer imageBuffer = upload(image, t);
        Buffer columns = backend.allocate(t, (long) rows * cols);
        backend.im2col(g, imageBuffer, columns);
        // op(columns) is (k, n) as B, (m, k) as A
        int m = columnsAsB ? other : (transposed ? cols : rows);
        int k = columnsAsB ? (transposed ? cols : rows) : (transposed ? rows : cols);
        int n = columnsAsB ? (transposed ? rows : cols) : other;
        int oRows = columnsAsB ? (otherTransposed ? k : m) : (otherTransposed ? n : k);
        int oCols = columnsAsB ? (otherTransposed ? m : k) : (otherTransposed ? k : n);
        double[] o = values(t, oRows * oCols);
        // the other operand in runs: stored as a permuted (oCols / run, oRows, run) tensor, 2 unused elements apart
        int run = divisor(oCols);
        MatrixRuns oRuns = extras ? new MatrixRuns(run, run, (long) oRows * run + 2) : null;
        double[] oStored = o;
        if (oRuns != null) {
            oStored = new double[(int) oRuns.offset(oRows - 1, oCols - 1) + 3];
            for (int r = 0; r < oRows; r++) {
                for (int c = 0; c < oCols; c++) {
                    oStored[(int) oRuns.offset(r, c)] = o[r * oCols + c];
                }
            }
        }
        MatrixRuns cRuns = extras ? new MatrixRuns(n, n, 0) : null;
        MatrixEpilogue epilogue = extras && columnsAsB ? new MatrixEpilogue(true, false, true) : null;
        Buffer bias = epilogue == null ? null : upload(values(t, m), t);
        Buffer expected = backend.allocate(t, (long) m * n);
        Buffer got = backend.allocate(t, (long) m * n);
        Buffer oBuffer = upload(oStored, t);
        if (columnsAsB) {
            matmul(oBuffer, oRuns, otherTransposed, columns, transposed, expected, cRuns, m, k, n, epilogue, bias);
            backend.matmul(oBuffer, oRuns, null, otherTransposed, imageBuffer, null, g, transposed, got, cRuns, m, k,
                    n, epilogue, bias);
        } else {
            Buffer oDense = upload(o, t);
            matmul(columns, null, transposed, oDense, otherTransposed, expected, cRuns, m, k, n, null, null);
            backend.matmul(imageBuffer, null, g, transposed, oBuffer, oRuns, null, otherTransposed, got, cRuns, m, k,
                    n, null, null);
        }
        assertArrayEquals(backend.readDoubles(expected), backend.readDoubles(got), t + " " + g + " other " + other
                + (columnsAsB ? " as B" : " as A") + " transposed " + transposed + " other transposed "
                + otherTransposed + " extras " + extras);
    }

    /** The reference: the product of the column matrix as the runs product computes it. */
    private void matmul(Buffer a, MatrixRuns aRuns, boolean ta, Buffer b, boolean tb, Buffer out, MatrixRuns cRuns,
            int m, int k, int n, MatrixEpilogue epilogue, Buffer bias) {
        if (epilogue == null) {
            backend.matmul(a, aRuns, ta, b, null, tb, out, cRuns, m, k, n);
        } else {
            backend.matmul(a, aRuns, ta, b, null, tb, out, cRuns, m, k, n, epilogue, bias);
        }
    }

    private double[] values(DType t, int size) {
        double[] v = new double[size];
        for (int i = 0; i < size; i++) {
            v[i] = t == DType.FLOAT32 ? (float) random.nextGaussian() : random.nextGaussian();
        }
        return v;
    }

    private int divisor(int cols) {
        int[] d = java.util.stream.IntStream.rangeClosed(1, cols).filter(x -> cols % x == 0).toArray();
        return d[random.nextInt(d.length)];
    }

    private Buffer upload(double[] v, DType t) {
        return TestBuffers.upload(backend, v, t);
    }
}
