package dev.nabla.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.nabla.DType;
import dev.nabla.backend.BinaryOp;
import dev.nabla.backend.UnaryOp;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The vector element-wise paths against the ops' scalar definitions, bit for bit, evaluated here by an independent
 * index walk: every layout the fast path claims, odd lengths for the vector tails, 0- and 1-sized dimensions, and
 * lengths past the parallel grain. The build runs this class at every vector width and at several thread counts.
 */
class ElementwiseKernelsTest {
    private final CpuBackend backend = TestBuffers.backend();
    private final Random random = new Random(42);
    private static final int[] LENGTHS = {0, 1, 3, 7, 16, 17, 31, 33, 100, 1021, Parallel.ELEMENTWISE_GRAIN * 2 + 5};
    private static final double[] SPECIALS = {Double.NaN, 0.0, -0.0, Double.POSITIVE_INFINITY,
        Double.NEGATIVE_INFINITY, 1.0, -1.0, 100.0, -100.0, 1e-30, 89.0, -89.0, 1e-310, -1e-310, 1e300, -1e300,
        Float.MIN_VALUE, -Float.MIN_VALUE, 1e-40, Float.MAX_VALUE, -Float.MAX_VALUE, 0.5};

    private CpuBuffer upload(double[] values, DType t) {
        if (t == DType.FLOAT32) {
            float[] f = new float[values.length];
            for (int i = 0; i < f.length; i++) {
                f[i] = (float) values[i];
            }
            return (CpuBuffer) backend.upload(f, t);
        }
        return (CpuBuffer) backend.upload(values.clone(), t);
    }

    /** The stored value after rounding to the dtype. */
    private static double stored(double v, DType t) {
        return t == DType.FLOAT32 ? (float) v : v;
    }

    private double[] randomValues(int n, UnaryOp op, boolean withSpecials) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            double x = random.nextGaussian() * 3;
            v[i] = switch (op) {
                case LOG, SQRT, RSQRT -> Math.abs(x) + 1e-3;
                default -> x;
            };
        }
        for (int i = 0; withSpecials && i < Math.min(n, SPECIALS.length); i++) {
            v[i] = SPECIALS[i];
        }
        return v;
    }

    /**
     * The fast paths must give the scalar definition's bits exactly (any NaN matches any NaN): a tolerance here would
     * let a host's vector width or the JIT's warm-up change results.
     */
    private static void assertClose(String what, double expected, double actual, DType t) {
        boolean same = Double.isNaN(expected) ? Double.isNaN(actual)
                : Double.doubleToRawLongBits(expected) == Double.doubleToRawLongBits(actual);
        if (!same) {
            fail(what + " " + t + ": expected " + expected + " but got " + actual + " (" + FloatLanes.SPECIES + ")");
        }
    }

    @Test
    void unaryOpsMatchScalarDefinitions() {
        for (DType t : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            for (UnaryOp op : UnaryOp.values()) {
                if (op == UnaryOp.LOGICAL_NOT) {
                    continue;
                }
                for (int n : LENGTHS) {
                    double[] in = randomValues(n, op, true);
                    CpuBuffer x = upload(in, t);
                    CpuBuffer y = (CpuBuffer) backend.allocate(t, n);
                    assertTrue(VectorKernels.unary(op, x, y), op + " " + t + " takes the vector path");
                    double[] got = backend.readDoubles(y);
                    for (int i = 0; i < n; i++) {
                        double expected = stored(op.apply(stored(in[i], t)), t);
                        assertClose(op + "(" + stored(in[i], t) + ") " + t + " n=" + n, expected, got[i], t);
                    }
                }
            }
        }
    }

    @Test
    void reluOfNegativeIsZeroAndSigmoidDoesNotOverflow() {
        for (DType t : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            double[] in = new double[40];
            java.util.Arrays.fill(in, -3);
            in[1] = -1e4;
            in[2] = 1e4;
            CpuBuffer x = upload(in, t);
            CpuBuffer y = (CpuBuffer) backend.allocate(t, in.length);
            backend.unary(UnaryOp.RELU, x, y);
            assertEquals(0.0, backend.readDoubles(y)[0], 0.0);
            backend.unary(UnaryOp.SIGMOID, x, y);
            double[] s = backend.readDoubles(y);
            assertEquals(0.0, s[1], 0.0); // sigmoid(-1e4) underflows to 0, not NaN from inf/inf
            assertEquals(1.0, s[2], 0.0);
            assertEquals(1 / (1 + Math.exp(3)), s[0], 1e-7);
        }
    }

    /** A binary case: shapes of a and b (NumPy broadcast) and whether the vector path must take it. */
    private record Case(long[] a, long[] b, boolean vectorized) {
    }

    private static Case c(long[] a, long[] b) {
        return new Case(a, b, true);
    }

    private static final Case[] CASES = {
        c(new long[] {37}, new long[] {37}),
        c(new long[] {5, 33}, new long[] {5, 33}),
        c(new long[] {5, 33}, new long[] {}),
        c(new long[] {}, new long[] {4, 19}),
        c(new long[] {7, 17}, new long[] {17}),
        c(new long[] {17}, new long[] {9, 17}),
        c(new long[] {7, 18}, new long[] {7, 1}),
        c(new long[] {7, 1}, new long[] {7, 35}),
        c(new long[] {2, 1, 21}, new long[] {3, 21}),
        c(new long[] {3, 1, 5}, new long[] {1, 4, 1}),
        c(new long[] {0, 5}, new long[] {5}),
        c(new long[] {1, 1}, new long[] {1}),
        c(new long[] {1, 40}, new long[] {1, 1}),
        c(new long[] {4, 0, 3}, new long[] {1, 3}),
        c(new long[] {1}, new long[] {}),
        c(new long[] {3, Parallel.ELEMENTWISE_GRAIN + 3}, new long[] {3, 1}),
        c(new long[] {Parallel.ELEMENTWISE_GRAIN * 3 + 1}, new long[] {Parallel.ELEMENTWISE_GRAIN * 3 + 1}),
    };

    @Test
    void binaryOpsMatchScalarDefinitionsOnEveryBroadcastLayout() {
        for (DType t : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            for (Case cs : CASES) {
                for (BinaryOp op : BinaryOp.values()) {
                    checkBinary(op, t, cs.a(), cs.b(), cs.vectorized());
                }
            }
        }
    }

    @Test
    void comparisonsSeeNaNAsUnordered() {
        double[] a = {Double.NaN, 1, Double.NaN, 0.0, -0.0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
        double[] b = {Double.NaN, Double.NaN, 1, -0.0, 0.0, 2, 1, 5, 5, 6, 7, 9, 9, 10, 12, 12, 13, 15, 15};
        for (DType t : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            for (BinaryOp op : BinaryOp.values()) {
                long[] shape = {a.length};
                long[] s = {1};
                CpuBuffer out = (CpuBuffer) backend.allocate(op.isComparison() ? DType.BOOL : t, a.length);
                assertTrue(VectorKernels.binary(op, upload(a, t), s, upload(b, t), s, out, shape));
                double[] got = backend.readDoubles(out);
                for (int i = 0; i < a.length; i++) {
                    double expected = op.isComparison() ? op.apply(a[i], b[i]) : stored(op.apply(a[i], b[i]), t);
                    assertClose(op + "(" + a[i] + ", " + b[i] + ")", expected, got[i], t);
                }
            }
        }
    }

    @Test
    void generalStridesFallBackToTheGenericPath() {
        // a (3, 5) read transposed as (5, 3): inner stride 5, not vectorizable
        CpuBuffer a = upload(randomValues(15, UnaryOp.NEG, false), DType.FLOAT32);
        CpuBuffer b = upload(randomValues(3, UnaryOp.NEG, false), DType.FLOAT32);
        CpuBuffer out = (CpuBuffer) backend.allocate(DType.FLOAT32, 15);
        long[] shape = {5, 3};
        long[] as = {1, 5};
        long[] bs = {0, 1};
        assertTrue(!VectorKernels.binary(BinaryOp.ADD, a, as, b, bs, out, shape));
        backend.binary(BinaryOp.ADD, a, as, b, bs, out, shape);
        double[] av = backend.readDoubles(a);
        double[] bv = backend.readDoubles(b);
        double[] got = backend.readDoubles(out);
        for (int i = 0; i < 5; i++) {
            for (int j = 0; j < 3; j++) {
                assertEquals((float) (av[j * 5 + i] + bv[j]), got[i * 3 + j], 0.0);
            }
        }
    }

    /**
     * C99 Annex F's special cases of pow (F.9.4.4), written out here from the standard, on the vector body, the tail
     * and the strided path of both dtypes. Java's Math.pow answers NaN for the first three rows.
     */
    private static final double NAN = Double.NaN;
    private static final double INF = Double.POSITIVE_INFINITY;
    private static final double[][] POW_CASES = {
        // {x, y, pow(x, y)}
        {1, NAN, 1}, {1, INF, 1}, {1, -INF, 1}, {-1, INF, 1}, {-1, -INF, 1},
        {NAN, 0, 1}, {NAN, -0.0, 1}, {INF, 0, 1}, {-INF, -0.0, 1}, {0, 0, 1},
        {NAN, 1, NAN}, {2, NAN, NAN}, {-2, 0.5, NAN},
        {0, -3, INF}, {-0.0, -3, -INF}, {0, -2, INF}, {-0.0, -2, INF}, {-0.0, -INF, INF},
        {0, 3, 0}, {-0.0, 3, -0.0}, {-0.0, 2, 0}, {0, INF, 0},
        {0.5, -INF, INF}, {2, -INF, 0}, {0.5, INF, 0}, {2, INF, INF}, {-0.5, INF, 0}, {-2, INF, INF},
        {-INF, -3, -0.0}, {-INF, -2, 0}, {-INF, 3, -INF}, {-INF, 2, INF},
        {INF, -1, 0}, {INF, 1, INF}, {2, 10, 1024}, {-2, 3, -8}, {4, 0.5, 2},
    };

    @Test
    void powFollowsC99AnnexFOnEveryPath() {
        int n = POW_CASES.length;
        double[] x = new double[n];
        double[] y = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = POW_CASES[i][0];
            y[i] = POW_CASES[i][1];
        }
        for (DType t : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            for (int i = 0; i < n; i++) {
                assertClose("definition pow(" + x[i] + ", " + y[i] + ")", POW_CASES[i][2],
                        stored(BinaryOp.POW.apply(x[i], y[i]), t), t);
            }
            // dense (vector body and tail), then transposed-strided (the generic loop)
            long[] dense = {1};
            CpuBuffer out = (CpuBuffer) backend.allocate(t, n);
            backend.binary(BinaryOp.POW, upload(x, t), dense, upload(y, t), dense, out, new long[] {n});
            double[] got = backend.readDoubles(out);
            for (int i = 0; i < n; i++) {
                assertClose("dense pow(" + x[i] + ", " + y[i] + ")", POW_CASES[i][2], got[i], t);
            }
            double[] xs = new double[2 * n];
            for (int i = 0; i < n; i++) {
                xs[2 * i] = x[i];
            }
            backend.binary(BinaryOp.POW, upload(xs, t), new long[] {2}, upload(y, t), dense, out, new long[] {n});
            got = backend.readDoubles(out);
            for (int i = 0; i < n; i++) {
                assertClose("strided pow(" + x[i] + ", " + y[i] + ")", POW_CASES[i][2], got[i], t);
            }
        }
    }

    /**
     * POW by a broadcast exponent: 2, 0.5, ±1 and ±0 take one vector operation each ({@code powRow}), the others the
     * definition. One exponent per row (a column broadcast), every special input, rows long and short.
     */
    @Test
    void powByABroadcastExponentMatchesTheDefinition() {
        double[] exponents = {2, 0.5, 1, -1, 0, -0.0, 3, -2, 0.25, 2.0000001, NAN, INF};
        for (DType t : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            for (int n : LENGTHS) {
                double[] av = new double[exponents.length * n];
                for (int r = 0; r < exponents.length; r++) {
                    double[] row = randomValues(n, UnaryOp.NEG, true);
                    System.arraycopy(row, 0, av, r * n, n);
                }
                long[] shape = {exponents.length, n};
                CpuBuffer out = (CpuBuffer) backend.allocate(t, av.length);
                assertTrue(VectorKernels.binary(BinaryOp.POW, upload(av, t), new long[] {n, 1}, upload(exponents, t),
                        new long[] {1, 0}, out, shape), "pow by a column takes the vector path");
                double[] got = backend.readDoubles(out);
                for (int r = 0; r < exponents.length; r++) {
                    for (int j = 0; j < n; j++) {
                        double x = stored(av[r * n + j], t);
                        double y = stored(exponents[r], t);
                        assertClose("pow(" + x + ", " + y + ") n=" + n, stored(BinaryOp.POW.apply(x, y), t),
                                got[r * n + j], t);
                    }
                }
            }
        }
    }

    private void checkBinary(BinaryOp op, DType t, long[] aShape, long[] bShape, boolean vectorized) {
        int rank = Math.max(aShape.length, bShape.length);
        long[] shape = new long[rank];
        long[] as = stridesAs(aShape, rank);
        long[] bs = stridesAs(bShape, rank);
        for (int d = 0; d < rank; d++) {
            shape[d] = Math.max(dim(aShape, d, rank), dim(bShape, d, rank));
            if (dim(aShape, d, rank) == 0 || dim(bShape, d, rank) == 0) {
                shape[d] = 0;
            }
            if (dim(aShape, d, rank) == 1 && shape[d] != 1) {
                as[d] = 0;
            }
            if (dim(bShape, d, rank) == 1 && shape[d] != 1) {
                bs[d] = 0;
            }
        }
        double[] av = randomValues((int) size(aShape), UnaryOp.NEG, false);
        double[] bv = randomValues((int) size(bShape), UnaryOp.NEG, false);
        if (op == BinaryOp.POW) {
            for (int i = 0; i < av.length; i++) {
                av[i] = Math.abs(av[i]);
            }
        }
        // equal values, so that EQ/LE/GE see ties
        for (int i = 0; i < Math.min(av.length, bv.length); i += 3) {
            av[i] = bv[i];
        }
        CpuBuffer a = upload(av, t);
        CpuBuffer b = upload(bv, t);
        long total = size(shape);
        CpuBuffer out = (CpuBuffer) backend.allocate(op.isComparison() ? DType.BOOL : t, total);
        String what = op + " " + t + " " + java.util.Arrays.toString(aShape) + " with "
                + java.util.Arrays.toString(bShape);
        assertEquals(vectorized, VectorKernels.binary(op, a, as, b, bs, out, shape), what + " takes the vector path");
        double[] got = backend.readDoubles(out);
        long[] idx = new long[rank];
        for (int flat = 0; flat < total; flat++) {
            long ao = 0;
            long bo = 0;
            for (int d = 0; d < rank; d++) {
                ao += idx[d] * as[d];
                bo += idx[d] * bs[d];
            }
            double x = stored(av[(int) ao], t);
            double y = stored(bv[(int) bo], t);
            double expected = op.isComparison() ? op.apply(x, y) : stored(op.apply(x, y), t);
            assertClose(what + " at " + flat, expected, got[flat], t);
            for (int d = rank - 1; d >= 0; d--) {
                if (++idx[d] < shape[d]) {
                    break;
                }
                idx[d] = 0;
            }
        }
    }

    private static long dim(long[] s, int d, int rank) {
        int lead = rank - s.length;
        return d < lead ? 1 : s[d - lead];
    }

    private static long[] stridesAs(long[] s, int rank) {
        long[] out = new long[rank];
        long step = 1;
        for (int d = s.length - 1; d >= 0; d--) {
            out[rank - s.length + d] = step;
            step *= s[d];
        }
        return out;
    }

    private static long size(long[] s) {
        long n = 1;
        for (long d : s) {
            n *= d;
        }
        return n;
    }
}
