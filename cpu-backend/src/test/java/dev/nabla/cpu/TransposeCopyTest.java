package dev.nabla.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.nabla.DType;
import dev.nabla.backend.Buffer;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Copies with transposed strides (the tiled paths of {@link FloatTransposeCopy} and {@link DoubleTransposeCopy}, and
 * the strided rows they leave to the general walk) against an index walk of the copy's definition: sizes around the
 * tile, past the parallel grain, offsets on both sides, every dtype.
 */
class TransposeCopyTest {
    private final CpuBackend backend = TestBuffers.backend();
    private final Random random = new Random(7);
    private static final int[] SIDES = {0, 1, 5, 31, 32, 33, 64, 97, 130};

    @Test
    void transposedCopiesEqualTheDefinition() {
        for (DType t : new DType[] {DType.FLOAT32, DType.FLOAT64, DType.INT32}) {
            for (int rows : SIDES) {
                for (int cols : SIDES) {
                    check(t, rows, cols, 0, 0);
                    check(t, rows, cols, 3, 5);
                }
            }
            check(t, 700, 1000, 1, 2);        // past the parallel grain: several threads' tiles
        }
    }

    /**
     * Broadcast copies (stride 0 in a dimension, and a scalar everywhere: a sum's gradient) walked by several
     * threads, each starting its rows mid-way through the outer dimensions, against the index definition.
     */
    @Test
    void broadcastCopiesSplitAmongThreadsEqualTheDefinition() {
        long[] shape = {64, 100, 64};                 // 6,400 rows of 64: past two parallel grains
        long[][] sourceStrides = {{0, 64, 1}, {64, 0, 1}, {0, 0, 0}, {1, 0, 64}};
        for (long[] ss : sourceStrides) {
            int n = 64 * 100 * 64;
            double[] src = new double[6400 + 3];
            for (int i = 0; i < src.length; i++) {
                src[i] = random.nextGaussian();
            }
            Buffer in = backend.upload(src, DType.FLOAT64);
            Buffer out = backend.allocate(DType.FLOAT64, n);
            backend.copy(in, 3, ss, out, 0, new long[] {6400, 64, 1}, shape);
            double[] got = backend.readDoubles(out);
            for (int i = 0; i < 64; i++) {
                for (int j = 0; j < 100; j++) {
                    for (int k = 0; k < 64; k++) {
                        double want = src[(int) (3 + i * ss[0] + j * ss[1] + k * ss[2])];
                        assertEquals(want, got[(i * 100 + j) * 64 + k], java.util.Arrays.toString(ss) + " at " + i
                                + ", " + j + ", " + k);
                    }
                }
            }
            in.release();
            out.release();
        }
    }

    /** Copies source {@code (cols, rows)} (dense, from {@code srcOffset}) transposed into (rows, cols). */
    private void check(DType t, int rows, int cols, int srcOffset, int dstOffset) {
        int n = rows * cols;
        double[] src = new double[srcOffset + n];
        for (int i = 0; i < src.length; i++) {
            src[i] = t == DType.INT32 ? random.nextInt(1000) - 500 : random.nextGaussian();
        }
        Buffer in = backend.upload(t == DType.FLOAT32 ? toFloats(src) : t == DType.INT32 ? toInts(src) : src, t);
        Buffer out = backend.allocate(t, dstOffset + n);
        backend.fill(out, -1);
        backend.copy(in, srcOffset, new long[] {1, rows}, out, dstOffset, new long[] {cols, 1},
                new long[] {rows, cols});
        double[] got = backend.readDoubles(out);
        double[] expected = new double[dstOffset + n];
        java.util.Arrays.fill(expected, -1);
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                double v = src[srcOffset + c * rows + r];
                expected[dstOffset + r * cols + c] = t == DType.FLOAT32 ? (float) v : v;
            }
        }
        assertEquals(expected.length, got.length);
        assertArrayEquals(expected, got, t + " (" + rows + ", " + cols + ") offsets " + srcOffset + ", " + dstOffset);
        in.release();
        out.release();
    }

    private static float[] toFloats(double[] v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            f[i] = (float) v[i];
        }
        return f;
    }

    private static int[] toInts(double[] v) {
        int[] x = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            x[i] = (int) v[i];
        }
        return x;
    }
}
