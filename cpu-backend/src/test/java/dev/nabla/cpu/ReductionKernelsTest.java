package dev.nabla.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nabla.DType;
import dev.nabla.backend.ReduceOp;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Vector SUM/MAX/MIN against a double-precision reduction computed here (accuracy) and against SumOrder's definition
 * (bits), over contiguous and strided axes. The build runs this class at every vector width and several thread counts.
 */
class ReductionKernelsTest {
    private final CpuBackend backend = TestBuffers.backend();
    private final Random random = new Random(7);

    @Test
    void floatSumStaysExactWhereAFloatRunningSumStalls() {
        // 2^24 + 2^20 ones: a float running sum stops at 2^24 (16777216 + 1 rounds back to 16777216), so it is off by
        // 2^20; each of SumOrder's lanes adds only 64 ones per block and blocks meet in double, so the sum is exact
        int n = (1 << 24) + (1 << 20);
        float[] ones = new float[n];
        Arrays.fill(ones, 1f);
        float naive = 0;
        for (float v : ones) {
            naive += v;
        }
        assertEquals(16777216f, naive, 0f, "the data must defeat a float running sum");
        CpuBuffer y = (CpuBuffer) backend.allocate(DType.FLOAT32, 1);
        backend.reduce(ReduceOp.SUM, backend.upload(ones, DType.FLOAT32), 1, n, 1, y);
        assertEquals(17825792f, y.floats()[0], 0f);
        // the same along an outer axis: (n, 1) summed over axis 0 takes the across-rows path
        float[] column = new float[1];
        CpuBuffer z = (CpuBuffer) backend.allocate(DType.FLOAT32, 2);
        float[] two = new float[2 * n];
        Arrays.fill(two, 1f);
        backend.reduce(ReduceOp.SUM, backend.upload(two, DType.FLOAT32), 1, n, 2, z);
        column[0] = z.floats()[1];
        assertEquals(17825792f, column[0], 0f);
    }

    /**
     * ARGMAX across rows (the vector path) gives the definition's first index, written plainly here: the first
     * maximum, the first NaN winning; ties, NaNs, ±0 and infinities, columns past a tile, rows from one up.
     */
    @Test
    void argmaxAcrossRowsFindsTheFirstMaximumAndTheFirstNaN() {
        int[][] shapes = {{1, 1, 2}, {1, 5, 3}, {2, 7, 17}, {3, 33, 40}, {1, 1024, 1024}, {4, 3, 700}, {2, 300, 9}};
        double[] pool = {0.0, -0.0, 1, 1, 2, Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, -3};
        for (DType t : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            for (int[] s : shapes) {
                int outer = s[0];
                int n = s[1];
                int inner = s[2];
                double[] v = new double[outer * n * inner];
                for (int i = 0; i < v.length; i++) {
                    // mostly few distinct values (ties), at times a NaN or an infinity
                    v[i] = random.nextInt(10) == 0 ? pool[random.nextInt(pool.length)] : random.nextInt(4);
                }
                int[] got = new int[outer * inner];
                if (t == DType.FLOAT32) {
                    FloatReductions.argmaxAcrossRows(toFloats(v), outer, n, inner, got);
                } else {
                    DoubleReductions.argmaxAcrossRows(v.clone(), outer, n, inner, got);
                }
                for (int o = 0; o < outer; o++) {
                    for (int c = 0; c < inner; c++) {
                        int first = 0;
                        for (int k = 1; k < n; k++) {
                            double best = v[(o * n + first) * inner + c];
                            double e = v[(o * n + k) * inner + c];
                            if (!Double.isNaN(best) && (e > best || Double.isNaN(e))) {
                                first = k;
                            }
                        }
                        assertEquals(first, got[o * inner + c], t + " " + Arrays.toString(s) + " at (" + o + ", "
                                + c + ")");
                    }
                }
            }
        }
        // the backend takes the lanes from SCALAR_BELOW elements on, and the generic walk below
        CpuBuffer x = (CpuBuffer) backend.upload(new float[2 * VectorSupport.SCALAR_BELOW], DType.FLOAT32);
        CpuBuffer y = (CpuBuffer) backend.allocate(DType.INT32, VectorSupport.SCALAR_BELOW);
        assertTrue(VectorKernels.reduce(ReduceOp.ARGMAX, x, 1, 2, VectorSupport.SCALAR_BELOW, y));
        assertTrue(!VectorKernels.reduce(ReduceOp.ARGMAX, x, 1, 2, VectorSupport.SCALAR_BELOW / 4, y));
    }

    /** SumOrder's definition, written plainly from its Javadoc: lane i mod 64 within blocks of 4096, folded in pairs. */
    private static double definedContiguousSum(double[] v, int from, int n, boolean f32) {
        double total = 0;
        for (int b = 0; b < n; b += 4096) {
            int len = Math.min(4096, n - b);
            if (f32) {
                float[] lanes = new float[64];
                for (int i = 0; i < len; i++) {
                    lanes[i % 64] += (float) v[from + b + i];
                }
                for (int w = 32; w > 0; w /= 2) {
                    for (int j = 0; j < w; j++) {
                        lanes[j] += lanes[j + w];
                    }
                }
                total += lanes[0];
            } else {
                double[] lanes = new double[64];
                for (int i = 0; i < len; i++) {
                    lanes[i % 64] += v[from + b + i];
                }
                for (int w = 32; w > 0; w /= 2) {
                    for (int j = 0; j < w; j++) {
                        lanes[j] += lanes[j + w];
                    }
                }
                total += lanes[0];
            }
        }
        return f32 ? (float) total : total;
    }

    /** An outer-axis sum: FLOAT64 one running sum from the first value; FLOAT32 runs of 64 in float, met in double. */
    private static double definedStridedSum(double[] v, int base, int n, int stride, boolean f32) {
        if (!f32) {
            double acc = v[base];
            for (int k = 1; k < n; k++) {
                acc += v[base + k * stride];
            }
            return acc;
        }
        double total = 0;
        for (int k0 = 0; k0 < n; k0 += 64) {
            float run = (float) v[base + k0 * stride];
            for (int k = k0 + 1; k < Math.min(n, k0 + 64); k++) {
                run += (float) v[base + k * stride];
            }
            total += run;
        }
        return (float) total;
    }

    @Test
    void sumsHaveTheDefinedBitsWhateverTheWidthAndThreads() {
        for (DType t : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            for (int[] s : SHAPES) {
                int outer = s[0];
                int n = s[1];
                int inner = s[2];
                if (n == 0) {
                    continue;
                }
                double[] v = new double[outer * n * inner];
                for (int i = 0; i < v.length; i++) {
                    // mixed magnitudes, so that any change of order changes low bits
                    double g = random.nextGaussian() * Math.pow(10, random.nextInt(7) - 3);
                    v[i] = t == DType.FLOAT32 ? (float) g : g;
                }
                CpuBuffer x = t == DType.FLOAT32 ? (CpuBuffer) backend.upload(toFloats(v), t)
                        : (CpuBuffer) backend.upload(v, t);
                CpuBuffer y = (CpuBuffer) backend.allocate(t, (long) outer * inner);
                backend.reduce(ReduceOp.SUM, x, outer, n, inner, y);
                double[] got = backend.readDoubles(y);
                for (int o = 0; o < outer; o++) {
                    for (int i = 0; i < inner; i++) {
                        double expected = inner == 1 ? definedContiguousSum(v, o * n, n, t == DType.FLOAT32)
                                : definedStridedSum(v, o * n * inner + i, n, inner, t == DType.FLOAT32);
                        assertEquals(Double.doubleToRawLongBits(expected), Double.doubleToRawLongBits(got[o * inner + i]),
                                "sum " + t + " (" + outer + ", " + n + ", " + inner + ") at " + o + "," + i + ": expected "
                                        + expected + ", got " + got[o * inner + i] + " (" + FloatLanes.SPECIES + ", "
                                        + Parallel.THREADS + " threads)");
                    }
                }
            }
        }
    }

    @Test
    void fewColumnTilesAreCutOnePerThread() {
        // (1, rows, 300): 300 columns are one tile of at most 1024, so without the cut one thread sums them all
        int rows = 2 * Parallel.ELEMENTWISE_GRAIN / 300 + 1;
        ColumnTiles split = ColumnTiles.of(1, rows, 300);
        assertEquals(Math.min(Parallel.THREADS, 5), split.perRow(), "tiles of " + split.width() + " columns, "
                + Parallel.THREADS + " threads");
        assertEquals(0, split.perRow() == 1 ? 0 : split.width() % ColumnTiles.MIN_WIDTH);
        assertTrue(split.width() * split.perRow() >= 300 && split.width() * (split.perRow() - 1) < 300);
        // too little work to share (and tasks enough already): one tile a row, as before
        assertEquals(1, ColumnTiles.of(1, Math.max(1, Parallel.ELEMENTWISE_GRAIN / 300), 300).perRow());
        assertEquals(2, ColumnTiles.of(Parallel.THREADS, rows, 2000).perRow());
    }

    /** A left-to-right float running sum: what the kernel must beat. */
    private static float naiveFloatSum(float[] v) {
        float s = 0;
        for (float x : v) {
            s += x;
        }
        return s;
    }

    private float reduceSum(float[] v) {
        CpuBuffer y = (CpuBuffer) backend.allocate(DType.FLOAT32, 1);
        backend.reduce(ReduceOp.SUM, backend.upload(v, DType.FLOAT32), 1, v.length, 1, y);
        return y.floats()[0];
    }

    @Test
    void sumOfTenMillionTenthsDoesNotDrift() {
        // 10^7 copies of 0.1f: the double sum is 1000000.0149011612 (exact: 48 bits suffice); a naive float loop
        // drifts to 1087937, its roundings all in one direction
        float[] v = new float[10_000_000];
        Arrays.fill(v, 0.1f);
        double exact = 10_000_000 * (double) 0.1f;
        double tol = 1e-6 * exact;
        assertTrue(Math.abs(naiveFloatSum(v) - exact) > 1000 * tol, "the naive loop misses by " + (naiveFloatSum(v)
                - exact));
        assertEquals(exact, reduceSum(v), tol);
    }

    @Test
    void largeRandomFloatSumIsCloseToTheDoubleSum() {
        int n = 3_000_001;
        float[] v = new float[n];
        double exact = 0;
        for (int i = 0; i < n; i++) {
            v[i] = (float) (random.nextDouble() * 2 + 0.5);
            exact += v[i];
        }
        CpuBuffer y = (CpuBuffer) backend.allocate(DType.FLOAT32, 1);
        backend.reduce(ReduceOp.SUM, backend.upload(v, DType.FLOAT32), 1, n, 1, y);
        assertEquals(exact, y.floats()[0], Math.abs(exact) * 2e-7);
    }

    private static final int[][] SHAPES = {
        {1, 1, 1}, {1, 7, 1}, {3, 33, 1}, {5, 1, 9}, {2, 17, 31}, {4, 3, 1030}, {1, 130, 17}, {0, 5, 3},
        {3, 0, 1}, {2, 0, 5}, {7, 4099, 1}, {1, Parallel.ELEMENTWISE_GRAIN * 2 + 9, 1}, {3, 70, 2050},
        {2, 100_000, 1}, {1, 40, 100_000}, {5, 3 * SumOrder.BLOCK, 1}, {3, 9 * SumOrder.BLOCK + 17, 1},
        // fewer column tiles than threads: the rows are split by runs of 64 among the threads (a last short run in
        // the second and third; two column tiles in the third)
        {1, 1024, 300}, {2, 300, 700}, {1, 1000, 300}, {1, 333, 1500},
    };

    @Test
    void everyOpDtypeAndLayoutMatchesADoubleReference() {
        for (DType t : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            for (ReduceOp op : new ReduceOp[] {ReduceOp.SUM, ReduceOp.MAX, ReduceOp.MIN}) {
                for (int[] s : SHAPES) {
                    if (s[1] == 0 && op != ReduceOp.SUM) {
                        continue;
                    }
                    check(op, t, s[0], s[1], s[2]);
                }
            }
        }
    }

    private void check(ReduceOp op, DType t, int outer, int n, int inner) {
        int size = outer * n * inner;
        double[] v = new double[size];
        for (int i = 0; i < size; i++) {
            v[i] = t == DType.FLOAT32 ? (float) random.nextGaussian() : random.nextGaussian();
        }
        CpuBuffer x = t == DType.FLOAT32 ? (CpuBuffer) backend.upload(toFloats(v), t) : (CpuBuffer) backend.upload(v, t);
        CpuBuffer y = (CpuBuffer) backend.allocate(t, (long) outer * inner);
        assertTrue(VectorKernels.reduce(op, x, outer, n, inner, y));
        double[] got = backend.readDoubles(y);
        for (int o = 0; o < outer; o++) {
            for (int i = 0; i < inner; i++) {
                double acc = op == ReduceOp.SUM ? 0 : v[o * n * inner + i];
                double magnitude = 0;
                for (int k = 0; k < n; k++) {
                    double e = v[(o * n + k) * inner + i];
                    magnitude += Math.abs(e);
                    acc = switch (op) {
                        case SUM -> acc + e;
                        case MAX -> Math.max(acc, e);
                        default -> Math.min(acc, e);
                    };
                }
                double tolerance = op != ReduceOp.SUM ? 0
                        : (t == DType.FLOAT32 ? 1e-6 : 1e-14) * (magnitude + 1);
                assertEquals(acc, got[o * inner + i], tolerance,
                        op + " " + t + " (" + outer + ", " + n + ", " + inner + ") at " + o + "," + i);
            }
        }
    }

    @Test
    void maxAndMinPropagateNaNAndOrderSignedZeros() {
        for (DType t : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            for (int at : new int[] {0, 5, 20, 36}) {
                double[] v = new double[37];
                for (int i = 0; i < v.length; i++) {
                    v[i] = i - 18;
                }
                v[at] = Double.NaN;
                for (ReduceOp op : new ReduceOp[] {ReduceOp.MAX, ReduceOp.MIN, ReduceOp.SUM}) {
                    assertTrue(Double.isNaN(reduceAll(op, t, v)), op + " with NaN at " + at + " " + t);
                }
            }
            double[] zeros = new double[19];
            Arrays.fill(zeros, -0.0);
            zeros[11] = 0.0;
            assertEquals(0.0, reduceAll(ReduceOp.MAX, t, zeros), 0.0);
            assertEquals(Double.doubleToRawLongBits(0.0), Double.doubleToRawLongBits(reduceAll(ReduceOp.MAX, t, zeros)));
            assertEquals(Double.doubleToRawLongBits(-0.0), Double.doubleToRawLongBits(reduceAll(ReduceOp.MIN, t, zeros)));
        }
    }

    private double reduceAll(ReduceOp op, DType t, double[] v) {
        CpuBuffer x = t == DType.FLOAT32 ? (CpuBuffer) backend.upload(toFloats(v), t) : (CpuBuffer) backend.upload(v.clone(), t);
        CpuBuffer y = (CpuBuffer) backend.allocate(t, 1);
        backend.reduce(op, x, 1, v.length, 1, y);
        return backend.readDoubles(y)[0];
    }

    private static float[] toFloats(double[] v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            f[i] = (float) v[i];
        }
        return f;
    }
}
