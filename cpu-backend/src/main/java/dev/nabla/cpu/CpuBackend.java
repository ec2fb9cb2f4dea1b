package dev.nabla.cpu;

import dev.nabla.DType;
import dev.nabla.Device;
import dev.nabla.LeakReport;
import dev.nabla.MemoryStats;
import dev.nabla.backend.AllocationTracker;
import dev.nabla.backend.Backend;
import dev.nabla.backend.BinaryOp;
import dev.nabla.backend.Buffer;
import dev.nabla.backend.FusedProgram;
import dev.nabla.backend.IndexCheck;
import dev.nabla.backend.MatrixEpilogue;
import dev.nabla.backend.MatrixRuns;
import dev.nabla.backend.OptimizerStep;
import dev.nabla.backend.Philox;
import dev.nabla.backend.RandomDistribution;
import dev.nabla.backend.ReduceOp;
import dev.nabla.backend.UnaryOp;
import dev.nabla.backend.WindowGeometry;

/**
 * The CPU backend: Java arrays from a pool, Vector API kernels on the common fast paths (dense float operands,
 * scalar and row broadcasts, inner-axis reductions, GEMM) and generic scalar loops, defined by the primitives'
 * scalar definitions, for everything else.
 */
final class CpuBackend implements Backend {
    private final BufferPool pool;

    CpuBackend() {
        this(defaultPool(Runtime.getRuntime().maxMemory() / 4));
    }

    /**
     * The pool of a backend made by the provider: {@code -Dnabla.cpu.poisonBuffers=true} hands out every buffer full
     * of garbage ({@link BufferPool#poisoned}), as {@code MALLOC_PERTURB_} does for malloc, so that a kernel reading
     * an element it never wrote gives a wrong answer at once instead of the zeros of a fresh array.
     */
    static BufferPool defaultPool(long capacityBytes) {
        return Boolean.getBoolean("nabla.cpu.poisonBuffers")
                ? BufferPool.poisoned(capacityBytes) : new BufferPool(capacityBytes);
    }

    /** A backend on this pool (tests: {@link BufferPool#poisoned}). */
    CpuBackend(BufferPool pool) {
        this.pool = pool;
        VectorSupport.tellOnceIfMissing();
    }
    private final AllocationTracker tracker = new AllocationTracker();

    @Override
    public Device device() {
        return Device.cpu();
    }

    private static CpuBuffer cpu(Buffer b) {
        return (CpuBuffer) b;
    }

    @Override
    public Buffer allocate(DType dtype, long size) {
        if (size > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("cpu: " + size + " elements exceed the 2^31 limit of one CPU buffer");
        }
        int n = (int) size;
        CpuBuffer b = new CpuBuffer(dtype, n, pool.take(dtype, n), pool);
        if (AllocationTracker.enabled()) {
            // a small array is never released explicitly by a tensor: forget it when the GC finds the buffer unreachable
            b.track(tracker.record((long) n * dtype.byteSize(), b.requiresRelease() ? null : b));
        }
        return b;
    }

    /** Counts the arrays of 16 KiB and more (see {@link BufferPool}). */
    @Override
    public MemoryStats memoryStats() {
        return pool.stats();
    }

    @Override
    public LeakReport leakReport() {
        return tracker.report(device());
    }

    @Override
    public boolean hasPrefixViews() {
        return true;
    }

    @Override
    public Buffer prefix(Buffer buffer, long size) {
        return CpuBuffer.prefixOf(cpu(buffer), Math.toIntExact(size));
    }

    @Override
    public Buffer upload(Object data, DType dtype) {
        int n = java.lang.reflect.Array.getLength(data);
        CpuBuffer b = (CpuBuffer) allocate(dtype, n);
        if (data instanceof boolean[] z) {
            byte[] dst = b.bools();
            for (int i = 0; i < n; i++) {
                dst[i] = (byte) (z[i] ? 1 : 0);
            }
        } else {
            System.arraycopy(data, 0, b.live(), 0, n);
        }
        return b;
    }

    @Override
    public double[] readDoubles(Buffer src) {
        CpuBuffer b = cpu(src);
        double[] out = new double[b.n()];
        for (int i = 0; i < out.length; i++) {
            out[i] = b.get(i);
        }
        return out;
    }

    @Override
    public float[] readFloats(Buffer src) {
        CpuBuffer b = cpu(src);
        if (b.dtype() == DType.FLOAT32) {
            return java.util.Arrays.copyOf(b.floats(), b.n());
        }
        float[] out = new float[b.n()];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) b.get(i);
        }
        return out;
    }

    @Override
    public int[] readInts(Buffer src) {
        CpuBuffer b = cpu(src);
        int[] out = new int[b.n()];
        for (int i = 0; i < out.length; i++) {
            out[i] = (int) b.get(i);
        }
        return out;
    }

    @Override
    public void fill(Buffer out, double value) {
        CpuBuffer o = cpu(out);
        switch (o.dtype()) {
            case FLOAT32 -> java.util.Arrays.fill(o.floats(), 0, o.n(), (float) value);
            case FLOAT64 -> java.util.Arrays.fill(o.doubles(), 0, o.n(), value);
            case INT32 -> java.util.Arrays.fill(o.ints(), 0, o.n(), (int) value);
            case BOOL -> java.util.Arrays.fill(o.bools(), 0, o.n(), (byte) (value != 0 ? 1 : 0));
        }
    }

    @Override
    public void iota(Buffer out) {
        CpuBuffer o = cpu(out);
        for (int i = 0; i < o.n(); i++) {
            o.set(i, i);
        }
    }

    @Override
    public void unary(UnaryOp op, Buffer in, Buffer out) {
        CpuBuffer x = cpu(in);
        CpuBuffer y = cpu(out);
        if (VectorSupport.AVAILABLE && VectorKernels.unary(op, x, y)) {
            return;
        }
        if (x.dtype() == DType.INT32) {
            int[] src = x.ints();
            int[] result = y.ints();
            Parallel.range(y.n(), Parallel.ELEMENTWISE_GRAIN, (lo, hi) -> {
                for (int i = lo; i < hi; i++) {
                    result[i] = op.applyInt(src[i]);
                }
            });
            return;
        }
        Parallel.range(y.n(), Parallel.ELEMENTWISE_GRAIN, (lo, hi) -> {
            for (int i = lo; i < hi; i++) {
                y.set(i, op.apply(x.get(i)));
            }
        });
    }

    /** Fused programs of fewer elements run {@link ScalarFused}. */
    private static final long SMALL_FUSED = 16;

    @Override
    public boolean defersElementwise() {
        return true;
    }

    @Override
    public void fused(FusedProgram program, Buffer[] inputs, Buffer out) {
        if (!program.dtype().isFloating()) {
            Backend.super.fused(program, inputs, out);
            return;
        }
        CpuBuffer[] in = new CpuBuffer[inputs.length];
        for (int i = 0; i < in.length; i++) {
            in[i] = cpu(inputs[i]);
        }
        // NOTE: VectorSupport first, so that FusedKernels (which names Vector API types) is never loaded without it.
        // A program of a few elements (a scalar loss, W1's step) runs the scalar definitions, the same bits: the
        // block pass's set-up (operand layouts, scratch slots, a parallel range) was most of a traced scalar step.
        if (VectorSupport.AVAILABLE && program.size() >= SMALL_FUSED) {
            FusedKernels.run(program, in, cpu(out));
        } else {
            ScalarFused.run(program, in, cpu(out));
        }
    }

    /** One pass for a contiguous sum (over the last axes) of a floating program; the default for anything else. */
    @Override
    public void fusedReduce(FusedProgram program, Buffer[] inputs, ReduceOp op, long outer, long n, long inner,
            Buffer out) {
        if (!onePassSum(program, op, n, inner)) {
            Backend.super.fusedReduce(program, inputs, op, outer, n, inner, out);
            return;
        }
        fusedSum(program, inputs, outer, n, out, null);
    }

    /** One pass, as {@link #fusedReduce}, each block of values copied out as it is summed (on the Vector API). */
    @Override
    public void fusedReduceKeepingValues(FusedProgram program, Buffer[] inputs, ReduceOp op, long outer, long n,
            long inner, Buffer out, Buffer values) {
        if (!onePassSum(program, op, n, inner) || !VectorSupport.AVAILABLE) {
            Backend.super.fusedReduceKeepingValues(program, inputs, op, outer, n, inner, out, values);
            return;
        }
        fusedSum(program, inputs, outer, n, out, cpu(values));
    }

    private static boolean onePassSum(FusedProgram program, ReduceOp op, long n, long inner) {
        return op == ReduceOp.SUM && inner == 1 && n > 0 && program.dtype().isFloating();
    }

    /** The sums of {@link #onePassSum}, the values also copied into {@code values} unless it is null. */
    private static void fusedSum(FusedProgram program, Buffer[] inputs, long outer, long n, Buffer out,
            CpuBuffer values) {
        CpuBuffer[] in = new CpuBuffer[inputs.length];
        for (int i = 0; i < in.length; i++) {
            in[i] = cpu(inputs[i]);
        }
        if (VectorSupport.AVAILABLE) {
            FusedKernels.sumRows(program, in, (int) outer, (int) n, cpu(out), values);
        } else {
            ScalarFused.sumRows(program, in, (int) outer, (int) n, cpu(out));
        }
    }

    @Override
    public void binary(BinaryOp op, Buffer a, long[] aStrides, Buffer b, long[] bStrides, Buffer out,
            long[] shape) {
        CpuBuffer x = cpu(a);
        CpuBuffer y = cpu(b);
        CpuBuffer z = cpu(out);
        if (VectorSupport.AVAILABLE && VectorKernels.binary(op, x, aStrides, y, bStrides, z, shape)) {
            return;
        }
        if (x.dtype() == DType.INT32) {
            intBinary(op, x.ints(), aStrides, y.ints(), bStrides, z, shape);
            return;
        }
        StridedRows.forEach(shape, new long[][] {aStrides, bStrides}, new long[2], (row, off, len) -> {
            long as = StridedRows.inner(aStrides);
            long bs = StridedRows.inner(bStrides);
            int o = (int) (row * len);
            for (int j = 0; j < len; j++) {
                z.set(o + j, op.apply(x.get((int) (off[0] + j * as)), y.get((int) (off[1] + j * bs))));
            }
        });
    }

    /** INT32 operands: {@link BinaryOp#applyInt}, exact and wrapping, never through double. */
    private static void intBinary(BinaryOp op, int[] x, long[] aStrides, int[] y, long[] bStrides, CpuBuffer out,
            long[] shape) {
        long as = StridedRows.inner(aStrides);
        long bs = StridedRows.inner(bStrides);
        byte[] bools = op.isComparison() ? out.bools() : null;
        int[] ints = op.isComparison() ? null : out.ints();
        StridedRows.forEach(shape, new long[][] {aStrides, bStrides}, new long[2], (row, off, len) -> {
            int o = (int) (row * len);
            for (int j = 0; j < len; j++) {
                int v = op.applyInt(x[(int) (off[0] + j * as)], y[(int) (off[1] + j * bs)]);
                if (bools != null) {
                    bools[o + j] = (byte) v;
                } else {
                    ints[o + j] = v;
                }
            }
        });
    }

    @Override
    public void select(Buffer cond, long[] condStrides, Buffer a, long[] aStrides, Buffer b, long[] bStrides,
            Buffer out, long[] shape) {
        CpuBuffer c = cpu(cond);
        CpuBuffer x = cpu(a);
        CpuBuffer y = cpu(b);
        CpuBuffer z = cpu(out);
        StridedRows.forEach(shape, new long[][] {condStrides, aStrides, bStrides}, new long[3], (row, off, len) -> {
            long cs = StridedRows.inner(condStrides);
            long as = StridedRows.inner(aStrides);
            long bs = StridedRows.inner(bStrides);
            int o = (int) (row * len);
            for (int j = 0; j < len; j++) {
                boolean t = c.get((int) (off[0] + j * cs)) != 0;
                z.set(o + j, t ? x.get((int) (off[1] + j * as)) : y.get((int) (off[2] + j * bs)));
            }
        });
    }

    @Override
    public void reduce(ReduceOp op, Buffer in, long outer, long n, long inner, Buffer out) {
        CpuBuffer x = cpu(in);
        CpuBuffer y = cpu(out);
        if (VectorSupport.AVAILABLE && VectorKernels.reduce(op, x, outer, n, inner, y)) {
            return;
        }
        if (op == ReduceOp.SUM && x.dtype().isFloating()) {
            ScalarKernels.sum(x, (int) outer, (int) n, (int) inner, y);
            return;
        }
        Reductions.generic(op, x, (int) outer, (int) n, (int) inner, y);
    }

    @Override
    public void matmul(Buffer a, long[] aBatchStrides, boolean transposeA, Buffer b, long[] bBatchStrides,
            boolean transposeB, Buffer out, long[] batchShape, long m, long k, long n) {
        Gemm.batched(cpu(a), aBatchStrides, transposeA, cpu(b), bBatchStrides, transposeB, cpu(out), batchShape,
                (int) m, (int) k, (int) n);
    }

    /**
     * FLOAT32 and FLOAT64 pack their operands from their runs and write their result's tiles into them ({@link
     * FloatGemm}, {@link DoubleGemm}); the other dtypes copy them dense first.
     */
    @Override
    public void matmul(Buffer a, MatrixRuns aRuns, boolean transposeA, Buffer b, MatrixRuns bRuns,
            boolean transposeB, Buffer out, MatrixRuns outRuns, long m, long k, long n) {
        if (!packedGemm(a.dtype())) {
            Backend.super.matmul(a, aRuns, transposeA, b, bRuns, transposeB, out, outRuns, m, k, n);
            return;
        }
        multiplyInRuns(a, aRuns, transposeA, b, bRuns, transposeB, out, outRuns, m, k, n, null, null);
    }

    /** FLOAT32 and FLOAT64 apply the epilogue to each block of the result as the GEMM finishes it. */
    @Override
    public void matmul(Buffer a, MatrixRuns aRuns, boolean transposeA, Buffer b, MatrixRuns bRuns,
            boolean transposeB, Buffer out, MatrixRuns outRuns, long m, long k, long n, MatrixEpilogue epilogue,
            Buffer bias) {
        if (!packedGemm(a.dtype())) {
            Backend.super.matmul(a, aRuns, transposeA, b, bRuns, transposeB, out, outRuns, m, k, n, epilogue, bias);
            return;
        }
        multiplyInRuns(a, aRuns, transposeA, b, bRuns, transposeB, out, outRuns, m, k, n, epilogue, cpu(bias));
    }

    /**
     * FLOAT32 and FLOAT64 with B not transposed compute the column matrix a group of images at a time, each group
     * summed into its images while in cache ({@link FloatGemm#multiplyCol2im}); the rest take the default.
     */
    @Override
    public void matmulCol2im(Buffer a, MatrixRuns aRuns, boolean transposeA, Buffer b, MatrixRuns bRuns,
            boolean transposeB, long m, long k, long n, WindowGeometry g, Buffer image) {
        if (!packedGemm(a.dtype()) || transposeB || !Gemm.imagesAligned(Runs.of(bRuns), m, n, g)) {
            Backend.super.matmulCol2im(a, aRuns, transposeA, b, bRuns, transposeB, m, k, n, g, image);
            return;
        }
        CpuBuffer x = cpu(image);
        if (x.dtype() == DType.FLOAT32) {
            FloatGemm.multiplyCol2im(cpu(a).floats(), transposeA, Runs.of(aRuns), cpu(b).floats(), Runs.of(bRuns),
                    (int) m, (int) k, (int) n, g, x.floats(), x.pool());
        } else {
            DoubleGemm.multiplyCol2im(cpu(a).doubles(), transposeA, Runs.of(aRuns), cpu(b).doubles(),
                    Runs.of(bRuns), (int) m, (int) k, (int) n, g, x.doubles(), x.pool());
        }
    }

    /**
     * FLOAT32 and FLOAT64 pack the column matrix straight from the image (stride 1, the output the input's size: a
     * "same" convolution; other windows compute the columns first, as the default does).
     */
    @Override
    public void matmul(Buffer a, MatrixRuns aRuns, WindowGeometry aWindows, boolean transposeA, Buffer b,
            MatrixRuns bRuns, WindowGeometry bWindows, boolean transposeB, Buffer out, MatrixRuns outRuns, long m,
            long k, long n, MatrixEpilogue epilogue, Buffer bias) {
        WindowGeometry g = aWindows != null ? aWindows : bWindows;
        if (!packedGemm(a.dtype()) || (aWindows == null) == (bWindows == null) || aWindows != null && aRuns != null
                || bWindows != null && bRuns != null || !FloatWindowKernels.Columns.readable(g)) {
            Backend.super.matmul(a, aRuns, aWindows, transposeA, b, bRuns, bWindows, transposeB, out, outRuns, m, k,
                    n, epilogue, bias);
            return;
        }
        CpuBuffer c = cpu(out);
        if (c.dtype() == DType.FLOAT32) {
            float[] x = cpu(a).floats();
            float[] y = cpu(b).floats();
            FloatGemm.multiplyColumns(x, transposeA, Runs.of(aRuns),
                    aWindows == null ? null : new FloatWindowKernels.Columns(aWindows, x), y, transposeB,
                    Runs.of(bRuns), bWindows == null ? null : new FloatWindowKernels.Columns(bWindows, y), c.floats(),
                    Runs.of(outRuns), (int) m, (int) k, (int) n, c.pool(),
                    epilogue == null ? null : new FloatGemmEpilogue(epilogue, cpu(bias).floats()));
        } else {
            double[] x = cpu(a).doubles();
            double[] y = cpu(b).doubles();
            DoubleGemm.multiplyColumns(x, transposeA, Runs.of(aRuns),
                    aWindows == null ? null : new DoubleWindowKernels.Columns(aWindows, x), y, transposeB,
                    Runs.of(bRuns), bWindows == null ? null : new DoubleWindowKernels.Columns(bWindows, y),
                    c.doubles(), Runs.of(outRuns), (int) m, (int) k, (int) n, c.pool(),
                    epilogue == null ? null : new DoubleGemmEpilogue(epilogue, cpu(bias).doubles()));
        }
    }

    /**
     * FLOAT32 and FLOAT64 compute the convolution a group of images at a time and pool each group from the core's
     * cache, for the windows the product reads in place and 2 × 2 pooling at stride 2 (others as the default does).
     */
    @Override
    public void matmulMaxPool(Buffer a, MatrixRuns aRuns, boolean transposeA, Buffer image, WindowGeometry windows,
            long m, long k, MatrixEpilogue epilogue, Buffer bias, WindowGeometry pool, Buffer pooled,
            Buffer indices) {
        if (!packedGemm(a.dtype()) || !FloatWindowKernels.Columns.readable(windows) || k != windows.rows()
                || epilogue != null && !epilogue.perRow() || windows.images() * m > Integer.MAX_VALUE
                || !FloatWindowKernels.poolsPlanes(pool, (int) (windows.images() * m), windows.outH(),
                        windows.outW())) {
            Backend.super.matmulMaxPool(a, aRuns, transposeA, image, windows, m, k, epilogue, bias, pool, pooled,
                    indices);
            return;
        }
        int[] chosen = cpu(indices).ints();
        if (a.dtype() == DType.FLOAT32) {
            float[] x = cpu(image).floats();
            FloatGemm.multiplyMaxPool(cpu(a).floats(), transposeA, Runs.of(aRuns),
                    new FloatWindowKernels.Columns(windows, x), (int) m, (int) k,
                    epilogue == null ? null : new FloatGemmEpilogue(epilogue, cpu(bias).floats()), pool,
                    cpu(pooled).floats(), chosen, cpu(pooled).pool());
        } else {
            double[] x = cpu(image).doubles();
            DoubleGemm.multiplyMaxPool(cpu(a).doubles(), transposeA, Runs.of(aRuns),
                    new DoubleWindowKernels.Columns(windows, x), (int) m, (int) k,
                    epilogue == null ? null : new DoubleGemmEpilogue(epilogue, cpu(bias).doubles()), pool,
                    cpu(pooled).doubles(), chosen, cpu(pooled).pool());
        }
    }

    private static boolean packedGemm(DType t) {
        return VectorSupport.AVAILABLE && (t == DType.FLOAT32 || t == DType.FLOAT64);
    }

    private static void multiplyInRuns(Buffer a, MatrixRuns aRuns, boolean transposeA, Buffer b, MatrixRuns bRuns,
            boolean transposeB, Buffer out, MatrixRuns outRuns, long m, long k, long n, MatrixEpilogue epilogue,
            CpuBuffer bias) {
        CpuBuffer c = cpu(out);
        Gemm.Batch[] one = {new Gemm.Batch(0, 0, 0)};
        if (c.dtype() == DType.FLOAT32) {
            FloatGemm.multiply(cpu(a).floats(), transposeA, Runs.of(aRuns), cpu(b).floats(), transposeB,
                    Runs.of(bRuns), c.floats(), Runs.of(outRuns), one, (int) m, (int) k, (int) n, c.pool(),
                    epilogue == null ? null : new FloatGemmEpilogue(epilogue, bias.floats()));
        } else {
            DoubleGemm.multiply(cpu(a).doubles(), transposeA, Runs.of(aRuns), cpu(b).doubles(), transposeB,
                    Runs.of(bRuns), c.doubles(), Runs.of(outRuns), one, (int) m, (int) k, (int) n, c.pool(),
                    epilogue == null ? null : new DoubleGemmEpilogue(epilogue, bias.doubles()));
        }
    }

    @Override
    public void copy(Buffer src, long srcOffset, long[] srcStrides, Buffer dst, long dstOffset, long[] dstStrides,
            long[] shape) {
        CpuBuffer s = cpu(src);
        CpuBuffer d = cpu(dst);
        if (StridedRows.isDense(shape, srcStrides) && StridedRows.isDense(shape, dstStrides)) {
            long n = 1;
            for (long x : shape) {
                n *= x;
            }
            System.arraycopy(s.live(), (int) srcOffset, d.live(), (int) dstOffset, (int) n);
            return;
        }
        Object sa = s.live();
        Object da = d.live();
        if (FloatTransposeCopy.tryCopy(sa, srcOffset, srcStrides, da, dstOffset, dstStrides, shape)
                || DoubleTransposeCopy.tryCopy(sa, srcOffset, srcStrides, da, dstOffset, dstStrides, shape)) {
            return;
        }
        // rows shared among the threads: a gradient of a sum broadcasts it over the whole input (W6: 1024x1024)
        long[][] strides = {srcStrides, dstStrides};
        long[] bases = {srcOffset, dstOffset};
        long rows = StridedRows.rows(shape);
        long length = shape.length == 0 ? 1 : Math.max(1, shape[shape.length - 1]);
        Parallel.range((int) rows, (int) Math.max(1, Parallel.ELEMENTWISE_GRAIN / length), (lo, hi) ->
                StridedRows.forRows(shape, strides, bases, lo, hi, (row, off, len) -> {
                    long ss = StridedRows.inner(srcStrides);
                    long ds = StridedRows.inner(dstStrides);
                    if (ss == 1 && ds == 1) {
                        System.arraycopy(sa, (int) off[0], da, (int) off[1], len);
                    } else {
                        stridedCopy(sa, (int) off[0], (int) ss, da, (int) off[1], (int) ds, len);
                    }
                }));
    }

    /**
     * One strided row of a copy, on the typed arrays (a broadcast row, stride 0, is a fill). It used to go through
     * {@code get}/{@code set} in double per element: W6's gradient, a scalar broadcast to 1024x1024, spent most of
     * its time there.
     */
    private static void stridedCopy(Object sa, int so, int ss, Object da, int dO, int ds, int len) {
        switch (sa) {
            case float[] src -> {
                float[] dst = (float[]) da;
                if (ss == 0 && ds == 1) {
                    java.util.Arrays.fill(dst, dO, dO + len, src[so]);
                } else {
                    for (int j = 0; j < len; j++) {
                        dst[dO + j * ds] = src[so + j * ss];
                    }
                }
            }
            case double[] src -> {
                double[] dst = (double[]) da;
                if (ss == 0 && ds == 1) {
                    java.util.Arrays.fill(dst, dO, dO + len, src[so]);
                } else {
                    for (int j = 0; j < len; j++) {
                        dst[dO + j * ds] = src[so + j * ss];
                    }
                }
            }
            case int[] src -> {
                int[] dst = (int[]) da;
                if (ss == 0 && ds == 1) {
                    java.util.Arrays.fill(dst, dO, dO + len, src[so]);
                } else {
                    for (int j = 0; j < len; j++) {
                        dst[dO + j * ds] = src[so + j * ss];
                    }
                }
            }
            case byte[] src -> {
                byte[] dst = (byte[]) da;
                if (ss == 0 && ds == 1) {
                    java.util.Arrays.fill(dst, dO, dO + len, src[so]);
                } else {
                    for (int j = 0; j < len; j++) {
                        dst[dO + j * ds] = src[so + j * ss];
                    }
                }
            }
            default -> throw new IllegalStateException("copy: unexpected array " + sa.getClass());
        }
    }

    @Override
    public void gather(Buffer src, long outer, long axisSize, long inner, Buffer indices, Buffer out,
            IndexCheck check) {
        CpuBuffer ix = cpu(indices);
        IndexKernels.checkIndices(ix.ints(), ix.n(), axisSize, check);
        IndexKernels.gather(cpu(src), (int) outer, (int) axisSize, (int) inner, ix.ints(), ix.n(), cpu(out));
    }

    @Override
    public void scatterAdd(Buffer dst, long outer, long axisSize, long inner, Buffer indices, Buffer src,
            IndexCheck check) {
        CpuBuffer ix = cpu(indices);
        IndexKernels.checkIndices(ix.ints(), ix.n(), axisSize, check);
        IndexKernels.scatterAdd(cpu(dst), (int) outer, (int) axisSize, (int) inner, ix.ints(), ix.n(), cpu(src));
    }

    @Override
    public void im2col(WindowGeometry g, Buffer x, Buffer cols) {
        switch (x.dtype()) {
            case FLOAT32 -> FloatWindowKernels.im2col(g, cpu(x).floats(), cpu(cols).floats());
            case FLOAT64 -> DoubleWindowKernels.im2col(g, cpu(x).doubles(), cpu(cols).doubles());
            default -> Backend.super.im2col(g, x, cols);
        }
    }

    @Override
    public void col2im(WindowGeometry g, Buffer cols, Buffer x) {
        switch (x.dtype()) {
            case FLOAT32 -> FloatWindowKernels.col2im(g, cpu(cols).floats(), cpu(x).floats());
            case FLOAT64 -> DoubleWindowKernels.col2im(g, cpu(cols).doubles(), cpu(x).doubles());
            default -> Backend.super.col2im(g, cols, x);
        }
    }

    @Override
    public void maxPoolGradient(WindowGeometry g, Buffer grad, Buffer indices, Buffer x) {
        if (!maxPoolGradient(g, null, grad, indices, x)) {
            Backend.super.maxPoolGradient(g, grad, indices, x);
        }
    }

    @Override
    public void maskedMaxPoolGradient(WindowGeometry g, Buffer pooled, Buffer grad, Buffer indices, Buffer x) {
        if (!VectorSupport.AVAILABLE || !maxPoolGradient(g, pooled, grad, indices, x)) {
            Backend.super.maskedMaxPoolGradient(g, pooled, grad, indices, x);
        }
    }

    /** The window kernels' max-pool gradient (masked with {@code pooled} unless null); false where they decline. */
    private static boolean maxPoolGradient(WindowGeometry g, Buffer pooled, Buffer grad, Buffer indices, Buffer x) {
        return switch (x.dtype()) {
            case FLOAT32 -> FloatWindowKernels.maxPoolGradient(g, pooled == null ? null : cpu(pooled).floats(),
                    cpu(grad).floats(), cpu(indices).ints(), cpu(x).floats());
            case FLOAT64 -> DoubleWindowKernels.maxPoolGradient(g, pooled == null ? null : cpu(pooled).doubles(),
                    cpu(grad).doubles(), cpu(indices).ints(), cpu(x).doubles());
            default -> false;
        };
    }

    @Override
    public void maxPoolIndices(WindowGeometry g, Buffer x, Buffer indices) {
        switch (x.dtype()) {
            case FLOAT32 -> FloatWindowKernels.maxPoolIndices(g, cpu(x).floats(), cpu(indices).ints());
            case FLOAT64 -> DoubleWindowKernels.maxPoolIndices(g, cpu(x).doubles(), cpu(indices).ints());
            default -> Backend.super.maxPoolIndices(g, x, indices);
        }
    }

    @Override
    public void cast(Buffer in, Buffer out) {
        CpuBuffer x = cpu(in);
        CpuBuffer y = cpu(out);
        int n = y.n();
        // typed loops for the casts training makes (max-pool and max gradients cast a BOOL mask of every window
        // element to the float dtype); each is the generic definition below (set(get)) without the double detour:
        // int and 0/1 bytes convert to float exactly as through double, and float widens exactly
        if (x.dtype() == DType.BOOL && y.dtype() == DType.FLOAT32) {
            byte[] a = x.bools();
            float[] b = y.floats();
            for (int i = 0; i < n; i++) {
                b[i] = a[i];
            }
        } else if (x.dtype() == DType.INT32 && y.dtype() == DType.FLOAT32) {
            int[] a = x.ints();
            float[] b = y.floats();
            for (int i = 0; i < n; i++) {
                b[i] = a[i];
            }
        } else if (x.dtype() == DType.FLOAT32 && y.dtype() == DType.FLOAT64) {
            float[] a = x.floats();
            double[] b = y.doubles();
            for (int i = 0; i < n; i++) {
                b[i] = a[i];
            }
        } else {
            for (int i = 0; i < n; i++) {
                y.set(i, x.get(i));
            }
        }
    }

    @Override
    public void random(RandomDistribution dist, long seed, long counter, double a, double b, Buffer out) {
        CpuBuffer o = cpu(out);
        int n = o.n();
        int blocks = (int) Philox.countersFor(n);
        Parallel.range(blocks, Parallel.ELEMENTWISE_GRAIN / 4, (lo, hi) -> {
            for (int blk = lo; blk < hi; blk++) {
                int[] w = Philox.block(seed, counter + blk);
                for (int j = 0; j < 4 && blk * 4 + j < n; j++) {
                    o.set(blk * 4 + j, Philox.value(dist, w, j, a, b));
                }
            }
        });
    }

    @Override
    public void optimizerStep(OptimizerStep step, Buffer param, Buffer grad, Buffer[] slots) {
        CpuBuffer[] s = new CpuBuffer[slots.length];
        for (int k = 0; k < s.length; k++) {
            s[k] = cpu(slots[k]);
        }
        OptimizerKernels.apply(step, cpu(param), cpu(grad), s);
    }
}
