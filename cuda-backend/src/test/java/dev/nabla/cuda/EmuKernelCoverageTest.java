package dev.nabla.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nabla.DType;
import dev.nabla.Device;
import dev.nabla.backend.Backend;
import dev.nabla.backend.Backends;
import dev.nabla.backend.BinaryOp;
import dev.nabla.backend.Buffer;
import dev.nabla.backend.IndexCheck;
import dev.nabla.backend.ReduceOp;
import dev.nabla.backend.UnaryOp;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The kernels the public API reaches rarely or never (BOOL and INT32 forms that core casts around, the block
 * reductions of ARGMAX, the fallback GEMM when cuBLAS is present), driven through the {@link Backend} interface on
 * cuda-emu and compared with the CPU backend on the same data: every element-wise op and dtype with a tail past the
 * 4-element packs, scalar, two-dimensional (row and column broadcast) and rank-3 strided operands, each reduction plan (one warp per row, segmented
 * rows, segmented columns, both followed by the finishing pass). Together with the suite this executes every kernel
 * but the four same-dtype casts, which the backend never launches (a cast to the same dtype is a copy).
 */
class EmuKernelCoverageTest {
    private static final int N = 1029; // 257 packs of 4 and a tail of 1
    private static Backend cpu;
    private static Backend emu;

    @BeforeAll
    static void backends() {
        EmuTests.requireEmulator();
        cpu = Backends.get(Device.cpu());
        emu = Backends.get(EmuDriverTest.EMU);
    }

    private static Object data(DType t, int n, long seed) {
        Random r = new Random(seed);
        double[] specials = {0.0, -0.0, 1, -1, 2.5, -3.75, Double.NaN, Double.POSITIVE_INFINITY,
                Double.NEGATIVE_INFINITY, 1e-3, 40, -40};
        return switch (t) {
            case FLOAT32 -> {
                float[] a = new float[n];
                for (int i = 0; i < n; i++) {
                    a[i] = (float) (i < specials.length ? specials[i] : r.nextGaussian() * 3);
                }
                yield a;
            }
            case FLOAT64 -> {
                double[] a = new double[n];
                for (int i = 0; i < n; i++) {
                    a[i] = i < specials.length ? specials[i] : r.nextGaussian() * 3;
                }
                yield a;
            }
            case INT32 -> {
                int[] a = new int[n];
                int[] edge = {0, 1, -1, Integer.MAX_VALUE, Integer.MIN_VALUE, 7, -7, 2};
                for (int i = 0; i < n; i++) {
                    a[i] = i < edge.length ? edge[i] : r.nextInt(41) - 20;
                }
                yield a;
            }
            case BOOL -> {
                boolean[] a = new boolean[n];
                for (int i = 0; i < n; i++) {
                    a[i] = r.nextBoolean();
                }
                yield a;
            }
        };
    }

    /** Runs {@code op} on both backends with the same uploads and compares the outputs. */
    private interface Op {
        void run(Backend b, Buffer[] in, Buffer out);
    }

    private static void compare(String what, DType outType, long outSize, boolean approximate, Op op,
            Object... inputs) {
        double[] got = run(emu, outType, outSize, op, inputs);
        double[] want;
        try {
            want = run(cpu, outType, outSize, op, inputs);
        } catch (UnsupportedOperationException e) {
            return; // no CPU form (INT32 transcendentals, which core casts around): the kernel ran, nothing to compare
        }
        assertEquals(want.length, got.length, what);
        for (int i = 0; i < want.length; i++) {
            double w = want[i];
            double g = got[i];
            if (Double.isNaN(w) || Double.compare(w, g) == 0 || w == g) {
                if (Double.isNaN(w)) {
                    assertTrue(Double.isNaN(g), what + " element " + i + ": " + g + ", expected NaN");
                }
                continue;
            }
            // libm transcendentals differ from StrictMath by an ulp (ints truncate them, so by one at most); sums
            // and products accumulate in another order than the CPU's
            double scale = Math.max(1, Math.abs(w));
            double tolerance = !approximate ? 0 : outType == DType.FLOAT32 ? 2e-5 * scale
                    : outType == DType.FLOAT64 ? 1e-12 * scale : 1;
            assertEquals(w, g, tolerance, what + " element " + i);
        }
    }

    private static double[] run(Backend b, DType outType, long outSize, Op op, Object[] inputs) {
        Buffer[] in = new Buffer[inputs.length];
        for (int i = 0; i < inputs.length; i++) {
            Object[] pair = (Object[]) inputs[i];
            in[i] = b.upload(pair[0], (DType) pair[1]);
        }
        Buffer out = b.allocate(outType, outSize);
        try {
            op.run(b, in, out);
            return b.readDoubles(out);
        } finally {
            out.release();
            for (Buffer x : in) {
                x.release();
            }
        }
    }

    private static Object[] in(DType t, int n, long seed) {
        return new Object[] {data(t, n, seed), t};
    }

    private static boolean transcendental(UnaryOp op) {
        return switch (op) {
            case EXP, LOG, SIN, COS, TANH, SIGMOID, RSQRT -> true;
            default -> false;
        };
    }

    @Test
    void everyUnaryOpOnEveryDtype() {
        for (UnaryOp op : UnaryOp.values()) {
            for (DType t : DType.values()) {
                compare(op + " " + t, t, N, transcendental(op), (b, x, out) -> b.unary(op, x[0], out),
                        (Object) in(t, N, op.ordinal()));
            }
        }
    }

    @Test
    void everyBinaryOpOnEveryDtypeDenseScalarAndStrided() {
        for (BinaryOp op : BinaryOp.values()) {
            for (DType t : DType.values()) {
                DType outType = op.name().length() == 2 ? DType.BOOL : t; // EQ, NE, LT, LE, GT, GE
                boolean approx = op == BinaryOp.POW;
                compare(op + " " + t + " dense", outType, N, approx,
                        (b, x, out) -> b.binary(op, x[0], new long[] {1}, x[1], new long[] {1}, out, new long[] {N}),
                        in(t, N, 1), in(t, N, 2));
                compare(op + " " + t + " scalar", outType, N, approx,
                        (b, x, out) -> b.binary(op, x[0], new long[] {1}, x[1], new long[] {0}, out, new long[] {N}),
                        in(t, N, 3), in(t, 1, 4));
                compare(op + " " + t + " row broadcast", outType, 7 * 33, approx, // binary_2d
                        (b, x, out) -> b.binary(op, x[0], new long[] {33, 1}, x[1], new long[] {0, 1}, out,
                                new long[] {7, 33}), in(t, 7 * 33, 5), in(t, 33, 6));
                compare(op + " " + t + " column broadcast", outType, 7000 * 3, approx, // binary_2d, past the grid
                        (b, x, out) -> b.binary(op, x[0], new long[] {1, 0}, x[1], new long[] {3, 1}, out,
                                new long[] {7000, 3}), in(t, 7000, 7), in(t, 7000 * 3, 8));
                compare(op + " " + t + " rank 3", outType, 3 * 5 * 7, approx, // binary_strided
                        (b, x, out) -> b.binary(op, x[0], new long[] {35, 7, 1}, x[1], new long[] {7, 0, 1}, out,
                                new long[] {3, 5, 7}), in(t, 105, 9), in(t, 21, 10));
            }
        }
    }

    @Test
    void everyReductionPlanOnEveryDtype() {
        // rows of 10 and 3 sharing warps (with a grid-stride tail); warp rows; block rows, 2 segments; columns
        // and columns: 5 wide (an 8 x 32 block), 2 wide over a long axis (segments), 33 wide (two 32-column tiles)
        long[][] shapes = {{2000, 10, 1}, {37, 3, 1}, {5, 40, 1}, {2, 20000, 1}, {3, 130, 5}, {2, 3000, 2},
            {4, 70, 33}};
        for (ReduceOp op : ReduceOp.values()) {
            for (DType t : DType.values()) {
                for (long[] s : shapes) {
                    DType outType = op == ReduceOp.ARGMAX ? DType.INT32 : t;
                    int size = (int) (s[0] * s[1] * s[2]);
                    compare(op + " " + t + " " + java.util.Arrays.toString(s), outType, s[0] * s[2],
                            op == ReduceOp.SUM && t.isFloating(),
                            (b, x, out) -> b.reduce(op, x[0], s[0], s[1], s[2], out), (Object) in(t, size, 9));
                }
            }
        }
    }

    private static final IndexCheck CHECK = new IndexCheck("gather", "axis 1 of (3, 4, 4)");

    @Test
    void gatherScatterIotaOfEveryDtype() {
        int[] indices = {2, 0, 2, 1, 3};
        for (DType t : DType.values()) {
            compare("gather " + t, t, 3L * indices.length * 4, false,
                    (b, x, out) -> b.gather(x[0], 3, 4, 4, x[1], out, CHECK), in(t, 48, 11),
                    new Object[] {indices, DType.INT32});
            compare("scatterAdd " + t, t, 48, t == DType.FLOAT32, (b, x, out) -> {
                b.fill(out, 0);
                b.scatterAdd(out, 3, 4, 4, x[0], x[1], CHECK);
            }, new Object[] {indices, DType.INT32}, in(t, 3 * indices.length * 4, 12));
            compare("iota " + t, t, N, false, (b, x, out) -> b.iota(out));
        }
    }

    /** More than 8 dimensions that do not merge: the host loops over the outer ones (the CPU accepts any rank). */
    @Test
    void tenUnmergeableDimensionsForBinarySelectCopyAndBatchedGemm() {
        long[] shape = new long[10];
        long[] dense = new long[10];
        long[] reversed = new long[10];
        long[] broadcast = new long[10];
        java.util.Arrays.fill(shape, 2);
        for (int d = 0; d < 10; d++) {
            dense[d] = 1L << (9 - d);
            reversed[d] = 1L << d; // a full transpose: no neighbours merge
            broadcast[d] = d % 3 == 0 ? 0 : 1L << (9 - d);
        }
        for (DType t : new DType[] {DType.FLOAT32, DType.INT32}) {
            compare("add rank 10 " + t, t, 1024, false, (b, x, out) -> b.binary(BinaryOp.ADD, x[0], reversed, x[1],
                    broadcast, out, shape), in(t, 1024, 31), in(t, 1024, 32));
            compare("select rank 10 " + t, t, 1024, false, (b, x, out) -> b.select(x[0], broadcast, x[1], reversed,
                    x[2], dense, out, shape), in(DType.BOOL, 1024, 33), in(t, 1024, 34), in(t, 1024, 35));
            compare("copy rank 10 " + t, t, 1024, false, (b, x, out) -> b.copy(x[0], 0, reversed, out, 0, dense,
                    shape), (Object) in(t, 1024, 36));
        }
        // 9 batch dimensions of a GEMM through the kernel path (INT32), a transposed layout of a's batches
        long[] batch = new long[9];
        long[] aBatch = new long[9];
        long[] bBatch = new long[9];
        java.util.Arrays.fill(batch, 2);
        for (int d = 0; d < 9; d++) {
            aBatch[d] = 6L << d;            // reversed: does not merge
            bBatch[d] = d % 2 == 0 ? 0 : 6L << (8 - d);
        }
        compare("gemm with 9 batch dimensions", DType.INT32, 512L * 2 * 2, false,
                (b, x, out) -> b.matmul(x[0], aBatch, false, x[1], bBatch, false, out, batch, 2, 3, 2),
                in(DType.INT32, 512 * 6, 37), in(DType.INT32, 512 * 6, 38));
    }

    @Test
    void theGemmKernelLoopsOverTheTilesItsGridDoesNotCover() {
        // a one-block grid stands for the 65,535-block cap that real sizes hit beyond four million rows
        String was = System.getProperty("nabla.cuda.gemmGridLimit");
        System.setProperty("nabla.cuda.gemmGridLimit", "1");
        try {
            Backends.close(EmuDriverTest.EMU); // the next backend reads the property
            emu = Backends.get(EmuDriverTest.EMU);
            int m = 150; // 3 x 2 tiles of 64 per product, 3 products: 18 tiles for one block
            int k = 70;
            int n = 100;
            for (boolean ta : new boolean[] {false, true}) {
                compare("gemm INT32 over 18 tiles, one block, transposed A " + ta, DType.INT32, 3L * m * n, false,
                        (b, x, out) -> b.matmul(x[0], new long[] {(long) m * k}, ta, x[1], new long[] {0}, false,
                                out, new long[] {3}, m, k, n), in(DType.INT32, 3 * m * k, 23),
                        in(DType.INT32, k * n, 24));
            }
        } finally {
            if (was == null) {
                System.clearProperty("nabla.cuda.gemmGridLimit");
            } else {
                System.setProperty("nabla.cuda.gemmGridLimit", was);
            }
            Backends.close(EmuDriverTest.EMU);
            emu = Backends.get(EmuDriverTest.EMU);
        }
    }

    @Test
    void theFallbackGemmWhenCublasIsOff() {
        String was = System.getProperty("nabla.cublas");
        System.setProperty("nabla.cublas", "off");
        try {
            Backends.close(EmuDriverTest.EMU); // the next backend reads the property
            emu = Backends.get(EmuDriverTest.EMU);
            int m = 70;
            int k = 20;
            int n = 65;
            for (DType t : new DType[] {DType.FLOAT32, DType.FLOAT64, DType.INT32}) {
                for (boolean ta : new boolean[] {false, true}) {
                    for (boolean tb : new boolean[] {false, true}) {
                        compare("gemm " + t + " " + ta + " " + tb, t, 2L * m * n, t != DType.INT32,
                                (b, x, out) -> b.matmul(x[0], new long[] {(long) m * k}, ta, x[1], new long[] {0}, tb,
                                        out, new long[] {2}, m, k, n), in(t, 2 * m * k, 21), in(t, k * n, 22));
                    }
                }
            }
            assertTrue(Device.diagnose().contains("cuBLAS disabled"), Device.diagnose());
        } finally {
            if (was == null) {
                System.clearProperty("nabla.cublas");
            } else {
                System.setProperty("nabla.cublas", was);
            }
            Backends.close(EmuDriverTest.EMU);
            emu = Backends.get(EmuDriverTest.EMU);
        }
    }
}
