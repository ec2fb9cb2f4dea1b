package dev.nabla.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nabla.DType;
import dev.nabla.backend.Buffer;
import dev.nabla.backend.MatrixRuns;
import dev.nabla.backend.WindowGeometry;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@code matmulCol2im} (a traced plan's convolution input gradient: the column matrix computed a group of images at a
 * time, each group summed into its images) has the bits of the product into a column matrix followed by col2im: A
 * dense, transposed or in runs; B dense or in runs that start at every image (a permuted gradient read in place), or
 * in runs that do not, or transposed (both the default's way); depths of one, of several slices and of none; "same",
 * "valid", strided and padded windows; image counts that leave a partial last group; FLOAT32 and FLOAT64; and W7's
 * second layer (144 × 12,544 over 32 depths).
 */
class GemmCol2imTest {
    private final CpuBackend backend = TestBuffers.backend();
    private final Random random = new Random(43);

    @Test
    void theProductSummedIntoTheImageEqualsTheColumnMatrixThenCol2im() {
        WindowGeometry[] windows = {
            new WindowGeometry(1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1),
            new WindowGeometry(3, 2, 5, 7, 3, 3, 1, 1, 1, 5, 7),
            new WindowGeometry(5, 3, 6, 4, 2, 2, 1, 0, 0, 6, 4),
            new WindowGeometry(7, 2, 9, 9, 3, 3, 2, 1, 1, 5, 5),
            new WindowGeometry(4, 2, 7, 7, 3, 3, 1, 0, 0, 5, 5),
            new WindowGeometry(2, 1, 3, 40, 3, 4, 1, 1, 1, 3, 39),
            new WindowGeometry(11, 4, 14, 14, 3, 3, 1, 1, 1, 14, 14)};
        int[] depths = {1, 5, FloatGemm.KC + 3};
        for (DType t : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            for (WindowGeometry g : windows) {
                for (int k : depths) {
                    long multiplyAdds = g.rows() * k * g.columns();
                    if (t == DType.FLOAT64 && multiplyAdds >= TestBuffers.FLOAT64_MAX_MULTIPLY_ADDS) {
                        continue;   // FLOAT32 covers the largest product
                    }
                    for (int mode = 0; mode < 8; mode++) {
                        compare(t, g, k, (mode & 1) != 0, (mode & 2) != 0, (mode & 4) != 0, false);
                    }
                    compare(t, g, k, false, false, false, true);
                }
            }
        }
    }

    @Test
    void w7sSecondLayerInputGradient() {
        WindowGeometry g = new WindowGeometry(64, 16, 14, 14, 3, 3, 1, 1, 1, 14, 14);
        compare(DType.FLOAT32, g, 32, true, false, true, false);
    }

    @Test
    void noDepthsGiveZeros() {
        WindowGeometry g = new WindowGeometry(3, 2, 5, 5, 3, 3, 1, 1, 1, 5, 5);
        for (DType t : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            compare(t, g, 0, false, false, false, false);
            compare(t, g, 0, true, false, true, false);
        }
    }

    @Test
    void onlyRunsThatStartAtEveryImageAreTakenApart() {
        WindowGeometry g = new WindowGeometry(4, 1, 3, 4, 1, 1, 1, 0, 0, 3, 4);
        assertTrue(Gemm.imagesAligned(null, 1, 48, g));
        assertTrue(Gemm.imagesAligned(new Runs(12, 12, 40), 1, 48, g));
        assertTrue(Gemm.imagesAligned(new Runs(4, 4, 40), 1, 48, g));
        assertFalse(Gemm.imagesAligned(new Runs(24, 24, 40), 1, 48, g));
        assertFalse(Gemm.imagesAligned(new Runs(5, 5, 40), 1, 48, g));
        assertFalse(Gemm.imagesAligned(null, 2, 48, g));
    }

    @Test
    void aProductThatIsNotTheColumnMatrixIsRefused() {
        WindowGeometry g = new WindowGeometry(2, 1, 3, 3, 3, 3, 1, 1, 1, 3, 3);
        Buffer a = backend.allocate(DType.FLOAT32, 9 * 2);
        Buffer b = backend.allocate(DType.FLOAT32, 2 * 17);
        Buffer x = backend.allocate(DType.FLOAT32, g.inputSize());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> backend.matmulCol2im(a, null, false, b, null, false, 9, 2, 17, g, x));
        assertTrue(e.getMessage().contains("matmulCol2im") && e.getMessage().contains("(9, 17)"), e.getMessage());
    }

    /**
     * {@code col2im(g, op(A) · op(B))} for k depths, A in runs and transposed as asked; B stored dense, transposed
     * ({@code bTransposed}), in runs of one image's plane ({@code bInRuns}, the layout of a permuted NCHW gradient),
     * or in runs of an image and a half ({@code misaligned}, which the default takes).
     */
    private void compare(DType t, WindowGeometry g, int k, boolean aTransposed, boolean aInRuns, boolean bInRuns,
            boolean misaligned) {
        compare(t, g, k, aTransposed, aInRuns, bInRuns, misaligned, false);
        if (!bInRuns && !misaligned) {
            compare(t, g, k, aTransposed, aInRuns, false, false, true);
        }
    }

    private void compare(DType t, WindowGeometry g, int k, boolean aTransposed, boolean aInRuns, boolean bInRuns,
            boolean misaligned, boolean bTransposed) {
        int m = (int) g.rows();
        int n = (int) g.columns();
        int plane = g.outH() * g.outW();
        int aRows = aTransposed ? k : m;
        int aCols = aTransposed ? m : k;
        MatrixRuns aRuns = aInRuns && k > 0 ? new MatrixRuns(1, 1, aRows + 1) : null;
        Buffer a = stored(t, aRows, aCols, aRuns);
        int bRows = bTransposed ? n : k;
        int bCols = bTransposed ? k : n;
        int run = misaligned ? plane + plane / 2 + 1 : plane;
        MatrixRuns bRuns = (bInRuns || misaligned) && !bTransposed && k > 0 ? new MatrixRuns(run, run,
                (long) bRows * run + 3) : null;
        Buffer b = stored(t, bRows, bCols, bRuns);
        Buffer columns = backend.allocate(t, (long) m * n);
        backend.matmul(a, aRuns, aTransposed, b, bRuns, bTransposed, columns, null, m, k, n);
        Buffer expected = backend.allocate(t, g.inputSize());
        backend.col2im(g, columns, expected);
        Buffer got = backend.allocate(t, g.inputSize());
        backend.fill(got, Double.NaN);
        backend.matmulCol2im(a, aRuns, aTransposed, b, bRuns, bTransposed, m, k, n, g, got);
        assertArrayEquals(backend.readDoubles(expected), backend.readDoubles(got), t + " " + g + " k " + k
                + " a transposed " + aTransposed + " a in runs " + aInRuns + " b in runs " + bRuns + " b transposed "
                + bTransposed);
    }

    /** A random (rows, cols) matrix, stored dense or in {@code runs} (with unused elements between the runs). */
    private Buffer stored(DType t, int rows, int cols, MatrixRuns runs) {
        double[] v = new double[runs == null ? rows * cols : (int) runs.offset(rows - 1, cols - 1) + 4];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                double x = t == DType.FLOAT32 ? (float) random.nextGaussian() : random.nextGaussian();
                v[runs == null ? r * cols + c : (int) runs.offset(r, c)] = x;
            }
        }
        return TestBuffers.upload(backend, v, t);
    }
}
