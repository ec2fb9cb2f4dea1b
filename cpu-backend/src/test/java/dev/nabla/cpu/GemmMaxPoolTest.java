package dev.nabla.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nabla.DType;
import dev.nabla.backend.Buffer;
import dev.nabla.backend.IndexCheck;
import dev.nabla.backend.MatrixEpilogue;
import dev.nabla.backend.MatrixRuns;
import dev.nabla.backend.WindowGeometry;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@code matmulMaxPool} (a traced plan's convolution, bias, relu and 2 × 2 max pool as one step: the CPU computes the
 * convolution a group of images at a time and pools each group from cache) has the bits of the windowed product into
 * an (images, channels, outH, outW) result, then {@code maxPoolIndices} and the gather of the chosen elements: the
 * same indices and the same values. Covered: "same" windows (read in place, through padded planes) of odd and even
 * sizes and shapes (3 × 3, 5 × 5, 2 × 2 padded below and right only, 3 × 2, 1 × 1), a depth of more than one slice
 * (33 channels: 297), rows of windows shorter and longer than a vector, image counts that leave a partial last
 * group, output channels that are not a multiple of the kernel's rows, no epilogue or a bias with and without relu,
 * a kernel transposed or in runs, ties (a channel of zero weights), NaN and infinities in the image, "valid" and
 * strided windows (the default's way), W7's two layers, FLOAT32 and FLOAT64.
 */
class GemmMaxPoolTest {
    private final CpuBackend backend = TestBuffers.backend();
    private final Random random = new Random(47);

    @Test
    void theConvolutionPooledFromCacheEqualsTheProductThenThePool() {
        WindowGeometry[] windows = {
            new WindowGeometry(1, 1, 2, 2, 3, 3, 1, 1, 1, 2, 2),
            new WindowGeometry(3, 2, 5, 7, 3, 3, 1, 1, 1, 5, 7),
            new WindowGeometry(7, 3, 9, 9, 3, 3, 1, 1, 1, 9, 9),
            new WindowGeometry(5, 1, 28, 28, 3, 3, 1, 1, 1, 28, 28),
            new WindowGeometry(11, 4, 14, 14, 3, 3, 1, 1, 1, 14, 14),
            new WindowGeometry(2, 1, 3, 41, 3, 3, 1, 1, 1, 3, 41),
            new WindowGeometry(3, 2, 6, 10, 5, 5, 1, 2, 2, 6, 10),
            new WindowGeometry(2, 3, 5, 6, 2, 2, 1, 0, 0, 5, 6),
            new WindowGeometry(2, 3, 7, 4, 3, 2, 1, 1, 1, 7, 4),
            new WindowGeometry(3, 2, 4, 6, 1, 1, 1, 0, 0, 4, 6),
            new WindowGeometry(2, 33, 6, 5, 3, 3, 1, 1, 1, 6, 5),
            new WindowGeometry(4, 2, 7, 7, 3, 3, 1, 0, 0, 5, 5),
            new WindowGeometry(3, 2, 9, 9, 3, 3, 2, 1, 1, 5, 5)};
        MatrixEpilogue[] epilogues = {null, new MatrixEpilogue(true, false, true), new MatrixEpilogue(true, true,
                false)};
        for (DType t : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            for (WindowGeometry g : windows) {
                for (int m : new int[] {1, 5, 16}) {
                    for (MatrixEpilogue e : epilogues) {
                        compare(t, g, m, e, false, false, false);
                    }
                    compare(t, g, m, epilogues[1], true, false, false);
                    compare(t, g, m, epilogues[1], false, true, false);
                    compare(t, g, m, epilogues[1], false, false, true);
                }
            }
        }
    }

    @Test
    void w7sTwoLayers() {
        compare(DType.FLOAT32, new WindowGeometry(64, 1, 28, 28, 3, 3, 1, 1, 1, 28, 28), 16,
                new MatrixEpilogue(true, false, true), false, false, false);
        compare(DType.FLOAT32, new WindowGeometry(64, 16, 14, 14, 3, 3, 1, 1, 1, 14, 14), 32,
                new MatrixEpilogue(true, false, true), false, false, true);
    }

    @Test
    void poolingOrADepthThatIsNotTheConvolutionsIsRefused() {
        WindowGeometry g = new WindowGeometry(2, 1, 4, 4, 3, 3, 1, 1, 1, 4, 4);
        Buffer a = backend.allocate(DType.FLOAT32, 3 * 9);
        Buffer x = backend.allocate(DType.FLOAT32, g.inputSize());
        WindowGeometry wrong = new WindowGeometry(2, 1, 4, 4, 2, 2, 2, 0, 0, 2, 2);
        Buffer pooled = backend.allocate(DType.FLOAT32, wrong.columns());
        Buffer indices = backend.allocate(DType.INT32, wrong.columns());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> backend.matmulMaxPool(a,
                null, false, x, g, 3, 9, null, null, wrong, pooled, indices));
        assertTrue(e.getMessage().contains("matmulMaxPool") && e.getMessage().contains("(2, 3, 4, 4)"),
                e.getMessage());
        WindowGeometry right = new WindowGeometry(6, 1, 4, 4, 2, 2, 2, 0, 0, 2, 2);
        IllegalArgumentException depth = assertThrows(IllegalArgumentException.class, () -> backend.matmulMaxPool(a,
                null, false, x, g, 3, 8, null, null, right, pooled, indices));
        assertTrue(depth.getMessage().contains("matmulMaxPool") && depth.getMessage().contains("depth of 8"),
                depth.getMessage());
    }

    /**
     * m output channels of g's windows, the kernel (m, k) dense, transposed or in runs; with {@code specials}, the
     * image holds NaN and infinities and channel 0's weights are zero (every window of its planes a tie).
     */
    private void compare(DType t, WindowGeometry g, int m, MatrixEpilogue e, boolean aTransposed, boolean aInRuns,
            boolean specials) {
        int k = (int) g.rows();
        int aRows = aTransposed ? k : m;
        int aCols = aTransposed ? m : k;
        MatrixRuns aRuns = aInRuns ? new MatrixRuns(1, 1, aRows + 1) : null;
        double[] weights = new double[aRows * aCols];
        for (int i = 0; i < weights.length; i++) {
            boolean zero = specials && (aTransposed ? i % aCols == 0 : i < aCols);
            weights[i] = zero ? 0 : value(t);
        }
        Buffer a = stored(t, weights, aRows, aCols, aRuns);
        double[] pixels = new double[(int) g.inputSize()];
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = specials && i % 37 == 5 ? Double.NaN : specials && i % 53 == 7
                    ? (i % 2 == 0 ? Double.POSITIVE_INFINITY : Double.NEGATIVE_INFINITY) : value(t);
        }
        Buffer x = TestBuffers.upload(backend, pixels, t);
        double[] biases = new double[m];
        for (int i = 0; i < m; i++) {
            biases[i] = value(t);
        }
        Buffer bias = TestBuffers.upload(backend, biases, t);
        WindowGeometry pool = new WindowGeometry(g.images() * m, 1, g.outH(), g.outW(), 2, 2, 2, 0, 0,
                (g.outH() - 2) / 2 + 1, (g.outW() - 2) / 2 + 1);
        long plane = (long) g.outH() * g.outW();
        Buffer y = backend.allocate(t, m * g.columns());
        backend.matmul(a, aRuns, null, aTransposed, x, null, g, false, y, new MatrixRuns(plane, plane, m * plane), m,
                k, g.columns(), e, e == null ? null : bias);
        Buffer expectedIndices = backend.allocate(DType.INT32, pool.columns());
        backend.maxPoolIndices(pool, y, expectedIndices);
        Buffer expected = backend.allocate(t, pool.columns());
        backend.gather(y, 1, pool.inputSize(), 1, expectedIndices, expected, new IndexCheck("test", "y"));
        Buffer indices = backend.allocate(DType.INT32, pool.columns());
        backend.fill(indices, -1);
        Buffer pooled = backend.allocate(t, pool.columns());
        backend.fill(pooled, 42);
        backend.matmulMaxPool(a, aRuns, aTransposed, x, g, m, k, e, e == null ? null : bias, pool, pooled, indices);
        String what = t + " " + g + " m " + m + " " + e + " a transposed " + aTransposed + " a in runs " + aInRuns
                + " specials " + specials;
        assertArrayEquals(backend.readDoubles(expectedIndices), backend.readDoubles(indices), what);
        assertArrayEquals(bits(backend.readDoubles(expected)), bits(backend.readDoubles(pooled)), what);
    }

    private double value(DType t) {
        double v = random.nextGaussian();
        return t == DType.FLOAT32 ? (float) v : v;
    }

    /** Each value's bits: NaN and the zeros' signs compared too. */
    private static long[] bits(double[] v) {
        long[] b = new long[v.length];
        for (int i = 0; i < v.length; i++) {
            b[i] = Double.doubleToRawLongBits(v[i]);
        }
        return b;
    }

    /** A (rows, cols) matrix of {@code v}, stored dense or in {@code runs} (with unused elements between the runs). */
    private Buffer stored(DType t, double[] v, int rows, int cols, MatrixRuns runs) {
        if (runs == null) {
            return TestBuffers.upload(backend, v, t);
        }
        double[] s = new double[(int) runs.offset(rows - 1, cols - 1) + 4];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                s[(int) runs.offset(r, c)] = v[r * cols + c];
            }
        }
        return TestBuffers.upload(backend, s, t);
    }
}
