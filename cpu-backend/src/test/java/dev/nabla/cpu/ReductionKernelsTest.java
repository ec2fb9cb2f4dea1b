package dev.nabla.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nabla.DType;
import dev.nabla.backend.ReduceOp;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Vector SUM/MAX/MIN against a double-precision reduction computed here, over contiguous and strided axes. */
class ReductionKernelsTest {
    private final CpuBackend backend = new CpuBackend();
    private final Random random = new Random(7);

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
    void sumKeepsCountingPastTwoToThe24() {
        // 2^24 + 2 ones: a naive float running sum sticks at 2^24 (2^24 + 1 rounds to even, back to 2^24) and
        // returns 16777216; the exact 16777218 is representable and every blocked partial sum is an exact integer
        float[] ones = new float[(1 << 24) + 2];
        Arrays.fill(ones, 1f);
        assertEquals(16777216f, naiveFloatSum(ones), 0f, "the naive loop fails the exact check below");
        assertEquals(16777218f, reduceSum(ones), 0f);
        // 2^24 ones then 2^20 quarters: 2^24 + 2^18 = 17039360; the naive loop adds nothing after 2^24
        float[] tail = new float[(1 << 24) + (1 << 20)];
        Arrays.fill(tail, 0, 1 << 24, 1f);
        Arrays.fill(tail, 1 << 24, tail.length, 0.25f);
        assertEquals(16777216f, naiveFloatSum(tail), 0f, "the naive loop is 262144 short");
        assertEquals(17039360f, reduceSum(tail), 4f);
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
        {2, 100_000, 1}, {1, 40, 100_000},
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
