package dev.nabla.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.nabla.DType;
import dev.nabla.backend.Buffer;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The blocked GEMMs against {@link Gemm#reference} over odd sizes, transposes and broadcast batches. */
class GemmTest {
    private final CpuBackend backend = TestBuffers.backend();
    private final Random random = new Random(3);

    private static final DType[] FLOATS = {DType.FLOAT32, DType.FLOAT64};
    private static final int[][] SIZES = {
        {1, 1, 1}, {0, 3, 4}, {3, 0, 4}, {3, 4, 0}, {1, 7, 1}, {6, 16, 16}, {7, 5, 17}, {13, 33, 31},
        {FloatGemm.MR + 1, FloatGemm.KC + 3, FloatGemm.NR + 1}, {33 * FloatGemm.MR + 7, 300, 70}, {1, 600, 2000},
        {2000, 40, 1}, {64, 513, 64}, {FloatGemm.MR - 1, 2 * FloatGemm.KC + 1, 2 * FloatGemm.NR},
        {2 * FloatGemm.MR, 1, 5 * FloatGemm.NR + 1}, {130, 70, 3 * FloatGemm.NR - 1}, {256, 128, 10},
        {4 * FloatGemm.NR + 1, 300, FloatGemm.NR - 1},
        // a last column panel of at most one vector is packed and computed narrow (FloatGemm.panelWidth)
        {13, 300, FloatGemm.NR_NARROW}, {FloatGemm.MR, 2 * FloatGemm.KC + 1, FloatGemm.NR + FloatGemm.NR_NARROW},
        {2 * FloatGemm.MR + 1, 40, 3 * FloatGemm.NR + FloatGemm.NR_NARROW - 1}, {5, 7, FloatGemm.NR_NARROW + 1},
    };

    @Test
    void float32AndFloat64MatchTheReferenceForEveryTransposeAndSize() {
        for (DType t : new DType[] {DType.FLOAT32, DType.FLOAT64, DType.INT32}) {
            for (int[] s : SIZES) {
                for (int flags = 0; flags < 4; flags++) {
                    check(t, s[0], s[1], s[2], (flags & 1) != 0, (flags & 2) != 0, new long[0], new long[0],
                            new long[0]);
                }
            }
        }
    }

    /**
     * The GEMMs' orders, bit for bit, on random shapes (0, 1 and odd sizes, both layouts, narrow and wide results,
     * so both work splits, the transposed narrow path and every partial tile): in FLOAT32 each element is one FMA
     * chain from zero over each depth slice of {@link FloatGemm#KC}, the slices added in order; in FLOAT64 one FMA
     * chain from zero over all of K. That order is what keeps results independent of the vector width, the thread
     * count and the Vector API's presence.
     */
    @Test
    void eachDtypeIsItsFmaChainBitForBit() {
        for (DType t : FLOATS) {
            for (int trial = 0; trial < 60; trial++) {
                // every other trial has many rows, so narrow results (n < NR) with ta take the transposed path
                int m = size(trial, trial % 2 == 0 ? 3 * FloatGemm.MR : 5 * FloatGemm.NR);
                int k = trial % 7 == 0 ? random.nextInt(3 * FloatGemm.KC) + 1 : size(trial + 1, 40);
                int n = size(trial + 2, 4 * FloatGemm.NR);
                checkChain(t, m, k, n, random.nextBoolean(), random.nextBoolean());
            }
        }
    }

    /**
     * The same orders for few tiles over a deep K (a convolution's kernel gradient), whose FLOAT32 depth slices the
     * threads share (FLOAT64 for the smaller products: {@link #dtypesFor}); for W7's second kernel gradient (32 × 144
     * over a deep K), computed transposed as one column panel whose depth slices the threads share too; and for one
     * column panel of more rows than those partials may hold, packed by several threads and then computed by row
     * tasks: each shape in every layout.
     */
    @Test
    void deepProductsOfFewTilesAreTheFmaChainBitForBit() {
        int[][] shapes = {{16, 60 * FloatGemm.KC + 17, 9}, {FloatGemm.MR, 120 * FloatGemm.KC, FloatGemm.NR},
            {13, 80 * FloatGemm.KC + 5, 20}, {32, 40 * FloatGemm.KC + 3, 144},
            {9, 70 * FloatGemm.KC + 1, FloatGemm.NR_NARROW}, {1500, 16 * FloatGemm.KC + 7, 23}};
        for (int[] s : shapes) {
            for (int flags = 0; flags < 4; flags++) {
                for (DType t : dtypesFor(s)) {
                    checkChain(t, s[0], s[1], s[2], (flags & 1) != 0, (flags & 2) != 0);
                }
            }
        }
    }

    /**
     * Products of one depth slice whose rows are not a multiple of {@link FloatGemm#MR} (W7's convolutions: 16 and
     * 32 output channels) write their last row panel in place, over rows the panel above writes too, possibly from
     * another thread: the same orders, bit for bit, with many column panels (the column split) and with few (the row
     * split), in every layout.
     */
    @Test
    void lastRowPanelsWrittenInPlaceAreTheFmaChainBitForBit() {
        int[][] shapes = {{16, 9, 50_176}, {32, 144, 12_544}, {FloatGemm.MR + 1, FloatGemm.KC, 3 * FloatGemm.NR},
            {4 * FloatGemm.MR + 5, 7, 200 * FloatGemm.NR + 3}, {50 * FloatGemm.MR + 1, 33, FloatGemm.NR}};
        for (int[] s : shapes) {
            for (int flags = 0; flags < 4; flags++) {
                for (DType t : dtypesFor(s)) {
                    checkChain(t, s[0], s[1], s[2], (flags & 1) != 0, (flags & 2) != 0);
                }
            }
        }
    }

    /** Both dtypes for an (m, k, n) product, FLOAT32 alone from {@link TestBuffers#FLOAT64_MAX_MULTIPLY_ADDS}. */
    private static DType[] dtypesFor(int[] s) {
        return (long) s[0] * s[1] * s[2] < TestBuffers.FLOAT64_MAX_MULTIPLY_ADDS ? FLOATS : new DType[] {DType.FLOAT32};
    }

    private void checkChain(DType t, int m, int k, int n, boolean ta, boolean tb) {
        float[] x = uniforms(m * k);
        float[] y = uniforms(k * n);
        CpuBuffer out = (CpuBuffer) backend.allocate(t, (long) m * n);
        backend.fill(out, Double.NaN);
        backend.matmul(upload(x, t), new long[0], ta, upload(y, t), new long[0], tb, out, new long[0], m, k, n);
        double[] got = backend.readDoubles(out);
        // a row's chains side by side (j inner): each is still its own sequence of FMAs in depth order, and
        // independent FMAs do not wait for each other's results (one chain at a time took most of this test's time)
        float[] total = new float[n];
        float[] chain = new float[n];
        double[] chain64 = new double[n];
        for (int i = 0; i < m; i++) {
            if (t == DType.FLOAT32) {
                for (int p0 = 0; p0 < k; p0 += FloatGemm.KC) {
                    Arrays.fill(chain, 0f);
                    for (int p = p0; p < Math.min(k, p0 + FloatGemm.KC); p++) {
                        float xp = x[ta ? p * m + i : i * k + p];
                        for (int j = 0; j < n; j++) {
                            chain[j] = Math.fma(xp, y[tb ? j * k + p : p * n + j], chain[j]);
                        }
                    }
                    for (int j = 0; j < n; j++) {
                        total[j] = p0 == 0 ? chain[j] : total[j] + chain[j];
                    }
                }
            } else {
                Arrays.fill(chain64, 0);
                for (int p = 0; p < k; p++) {
                    double xp = x[ta ? p * m + i : i * k + p];
                    for (int j = 0; j < n; j++) {
                        chain64[j] = Math.fma(xp, y[tb ? j * k + p : p * n + j], chain64[j]);
                    }
                }
            }
            for (int j = 0; j < n; j++) {
                double want = t == DType.FLOAT32 ? total[j] : chain64[j];
                // the message only for a failure: formatted for every element, it was a fifth of this test's time
                if (Double.doubleToRawLongBits(want) != Double.doubleToRawLongBits(got[i * n + j])) {
                    fail(t + " m=" + m + " k=" + k + " n=" + n + " ta=" + ta + " tb=" + tb + " at (" + i + ", " + j
                            + "): " + want + " vs " + got[i * n + j]);
                }
            }
        }
    }

    /** The floats as a buffer of {@code t} (exact in FLOAT64). */
    private Buffer upload(float[] v, DType t) {
        if (t == DType.FLOAT32) {
            return backend.upload(v, t);
        }
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            d[i] = v[i];
        }
        return backend.upload(d, t);
    }

    /** 0 or 1 now and then, else up to {@code max} (odd sizes included). */
    private int size(int trial, int max) {
        return switch (trial % 5) {
            case 0 -> random.nextInt(2);
            case 1 -> random.nextInt(max) + 1;
            default -> random.nextInt(max / 2 + 1) * 2 + random.nextInt(2);
        };
    }

    /**
     * Uniform in [-1, 1): any other order of the products still rounds differently, and Random's gaussians (a
     * logarithm each) took most of the deep products' time.
     */
    private float[] uniforms(int size) {
        float[] v = new float[size];
        for (int i = 0; i < size; i++) {
            v[i] = 2 * random.nextFloat() - 1;
        }
        return v;
    }

    @Test
    void batchesWithBroadcastOperands() {
        // the second shape is narrow and tall, so FLOAT32 computes it transposed where a is stored transposed
        for (int[] s : new int[][] {{9, 11, 21}, {100, 11, 3}}) {
            int m = s[0];
            int k = s[1];
            int n = s[2];
            for (DType t : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
                // batch (2, 3): a varies over both, b is one matrix for every batch (strides 0)
                check(t, m, k, n, false, true, new long[] {2, 3}, new long[] {3L * m * k, m * k}, new long[] {0, 0});
                // a broadcast along the second batch axis, b along the first
                check(t, m, k, n, true, false, new long[] {2, 3}, new long[] {m * k, 0}, new long[] {0, k * n});
            }
        }
    }

    private void check(DType t, int m, int k, int n, boolean ta, boolean tb, long[] batch, long[] aStrides,
            long[] bStrides) {
        int aSize = (int) (span(batch, aStrides) + (long) m * k);
        int bSize = (int) (span(batch, bStrides) + (long) k * n);
        int batches = 1;
        for (long d : batch) {
            batches *= (int) d;
        }
        CpuBuffer a = random(t, aSize);
        CpuBuffer b = random(t, bSize);
        CpuBuffer fast = (CpuBuffer) backend.allocate(t, (long) batches * m * n);
        CpuBuffer expected = (CpuBuffer) backend.allocate(t, (long) batches * m * n);
        backend.fill(fast, Double.NaN); // results must overwrite, never accumulate into garbage
        backend.matmul(a, aStrides, ta, b, bStrides, tb, fast, batch, m, k, n);
        long[] aOff = Gemm.offsets(batch, aStrides, batches);
        long[] bOff = Gemm.offsets(batch, bStrides, batches);
        for (int i = 0; i < batches; i++) {
            Gemm.reference(a, (int) aOff[i], ta, b, (int) bOff[i], tb, expected, i * m * n, m, k, n);
        }
        double[] got = backend.readDoubles(fast);
        double[] want = backend.readDoubles(expected);
        double tolerance = t == DType.FLOAT32 ? 2e-6 * Math.sqrt(k + 1) * 4 : t == DType.FLOAT64 ? 1e-12 * (k + 1) : 0;
        for (int i = 0; i < got.length; i++) {
            assertEquals(want[i], got[i], tolerance * (1 + Math.abs(want[i])),
                    t + " m=" + m + " k=" + k + " n=" + n + " ta=" + ta + " tb=" + tb + " at " + i);
        }
    }

    private static long span(long[] shape, long[] strides) {
        long s = 0;
        for (int d = 0; d < shape.length; d++) {
            s += (shape[d] - 1) * strides[d];
        }
        return s;
    }

    private CpuBuffer random(DType t, int size) {
        return switch (t) {
            case FLOAT32 -> {
                float[] v = new float[size];
                for (int i = 0; i < size; i++) {
                    v[i] = (float) random.nextGaussian();
                }
                yield (CpuBuffer) backend.upload(v, t);
            }
            case FLOAT64 -> {
                double[] v = new double[size];
                for (int i = 0; i < size; i++) {
                    v[i] = random.nextGaussian();
                }
                yield (CpuBuffer) backend.upload(v, t);
            }
            default -> {
                int[] v = new int[size];
                for (int i = 0; i < size; i++) {
                    v[i] = random.nextInt(7) - 3;
                }
                yield (CpuBuffer) backend.upload(v, t);
            }
        };
    }
}
