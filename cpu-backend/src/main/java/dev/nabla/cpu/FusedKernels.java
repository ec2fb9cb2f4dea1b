package dev.nabla.cpu;

import dev.nabla.DType;
import dev.nabla.backend.FusedProgram;
import dev.nabla.backend.UnaryOp;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * One pass for a fused element-wise program: each thread's range is cut into blocks that stay in L1, and every step
 * runs over a block with the same lane loops the unfused op uses ({@link FloatLanes#unary}, {@link FloatLanes#row}),
 * so each step rounds exactly as the unfused op and the result has the same bits, while the intermediates never go
 * to memory. A dense input is read in place and a one-value input as a broadcast; any other broadcast (a row or a
 * column) is gathered block by block into scratch, runs of the innermost dimension at a time. A program ending in a
 * sum over its last axes ({@link #sumRows}) computes each {@link SumOrder} block into scratch and sums it there, as
 * the unfused sum would sum it from memory.
 */
final class FusedKernels {
    /**
     * Elements per block (-Dnabla.cpu.fusedBlock): 32 KiB of floats; with the steps working in place, a chain's
     * scratch is one or two blocks.
     */
    private static final int BLOCK = Integer.getInteger("nabla.cpu.fusedBlock", 8192);
    /**
     * Programs of at least this many elements run compiled (-Dnabla.cpu.fusedCompileMin; 0 compiles all): a new
     * kernel starts in the interpreter, where the Vector API is slow, so small, rarely run programs are better off
     * in the block interpreter, whose loops are compiled already.
     */
    static final long COMPILE_MIN = Long.getLong("nabla.cpu.fusedCompileMin", 1 << 16);
    private static final ThreadLocal<float[][]> FLOAT_SCRATCH = new ThreadLocal<>();
    private static final ThreadLocal<double[][]> DOUBLE_SCRATCH = new ThreadLocal<>();

    private FusedKernels() {
    }

    /**
     * How each external input is read: its array ({@code floats} or {@code doubles}, by the program's dtype), and
     * whether it is one value to broadcast or a broadcast to gather block by block (else dense, read in place); and
     * the program's compiled kernel when it runs one ({@code FloatKernel} or {@code DoubleKernel}, looked up once
     * per op rather than per thread range). A gathered input is read through its {@link RowLayout}'s merged
     * dimensions ({@code views[k]}: dims, then strides), in runs as long as its strides allow: a convolution's
     * product read permuted into NCHW in rows of H·W (784 floats for W7's first layer) rather than W (28), a
     * per-channel bias filled H·W at a time.
     */
    private record Inputs(float[][] floats, double[][] doubles, boolean[] scalar, boolean[] gathered, int[] slot,
            Object kernel, long[][][] views) {
        static Inputs of(FusedProgram p, CpuBuffer[] in, Compile compile) {
            boolean single = p.dtype() == DType.FLOAT32;
            float[][] f = single ? new float[in.length][] : null;
            double[][] d = single ? null : new double[in.length][];
            boolean[] scalar = new boolean[in.length];
            boolean[] gathered = new boolean[in.length];
            long[][][] views = new long[in.length][][];
            for (int k = 0; k < in.length; k++) {
                scalar[k] = p.isScalar(k) || p.size() == 1;
                gathered[k] = !scalar[k] && !p.isDense(k);
                if (gathered[k]) {
                    RowLayout merged = RowLayout.of(p.shape(), p.inputStrides()[k]);
                    views[k] = new long[][] {merged.dims(), merged.strides(0)};
                }
                if (single) {
                    f[k] = in[k].floats();
                } else {
                    d[k] = in[k].doubles();
                }
            }
            Object kernel = compile == Compile.NEVER ? null : single
                    ? FusedCompiler.floatKernel(p, scalar, compile == Compile.ALWAYS)
                    : FusedCompiler.doubleKernel(p, scalar, compile == Compile.ALWAYS);
            return new Inputs(f, d, scalar, gathered, slots(p.steps()), kernel, views);
        }
    }

    /**
     * The scratch block each step writes: the block of an operand step it is the last reader of when there is one
     * (element-wise, so in place), else a free one; a chain of any length then works in one block, which stays in
     * L1 with the inputs' blocks, where a block per step went out to L2.
     */
    static int[] slots(FusedProgram.Step[] steps) {
        int[] lastRead = new int[steps.length];
        for (int k = 0; k < steps.length; k++) {
            FusedProgram.Step s = steps[k];
            if (s.a() >= 0) {
                lastRead[s.a()] = k;
            }
            if (s.binary() != null && s.b() >= 0) {
                lastRead[s.b()] = k;
            }
        }
        int[] slot = new int[steps.length];
        java.util.ArrayDeque<Integer> free = new java.util.ArrayDeque<>();
        int used = 0;
        for (int k = 0; k < steps.length; k++) {
            FusedProgram.Step s = steps[k];
            if (s.a() >= 0 && lastRead[s.a()] == k) {
                free.push(slot[s.a()]);
            }
            if (s.binary() != null && s.b() >= 0 && s.b() != s.a() && lastRead[s.b()] == k) {
                free.push(slot[s.b()]);
            }
            slot[k] = free.isEmpty() ? used++ : free.pop();
        }
        return slot;
    }

    /** Whether a program runs its compiled kernel: never, once the JIT has compiled it, or at once. */
    enum Compile { NEVER, WHEN_HOT, ALWAYS }

    private static Compile compile(FusedProgram p) {
        return p.size() < COMPILE_MIN ? Compile.NEVER : Compile.WHEN_HOT;
    }

    static void run(FusedProgram p, CpuBuffer[] in, CpuBuffer out) {
        run(p, in, out, compile(p));
    }

    /** {@link #run}, with the program's compiled kernel ({@link FusedCompiler}) as {@code compile} says. */
    static void run(FusedProgram p, CpuBuffer[] in, CpuBuffer out, Compile compile) {
        Inputs x = Inputs.of(p, in, compile);
        if (p.dtype() == DType.FLOAT32) {
            float[] z = out.floats();
            Parallel.range((int) p.size(), Parallel.ELEMENTWISE_GRAIN,
                    (lo, hi) -> floats(p, x, z, 0, lo, hi));
        } else {
            double[] z = out.doubles();
            Parallel.range((int) p.size(), Parallel.ELEMENTWISE_GRAIN,
                    (lo, hi) -> doubles(p, x, z, 0, lo, hi));
        }
    }

    private static final ThreadLocal<float[]> FLOAT_BLOCK = ThreadLocal.withInitial(() -> new float[SumOrder.BLOCK]);
    private static final ThreadLocal<double[]> DOUBLE_BLOCK =
            ThreadLocal.withInitial(() -> new double[SumOrder.BLOCK]);

    /**
     * {@code out[r] = sum of the program's result (outer, n) along n}, in {@link SumOrder}'s order (the unfused
     * sum's bits): each block of the result is computed into scratch and summed there.
     */
    static void sumRows(FusedProgram p, CpuBuffer[] in, int outer, int n, CpuBuffer out) {
        Inputs x = Inputs.of(p, in, compile(p));
        if (n <= SumOrder.BLOCK) {
            shortRows(p, x, outer, n, out);
            return;
        }
        SumOrder.rows(outer, n, out, p.dtype() == DType.FLOAT32 ? (start, len) -> {
            float[] block = FLOAT_BLOCK.get();
            floats(p, x, block, -start, start, start + len);
            return FloatReductions.blockSum(block, 0, len, new float[SumOrder.LANES]);
        } : (start, len) -> {
            double[] block = DOUBLE_BLOCK.get();
            doubles(p, x, block, -start, start, start + len);
            return DoubleReductions.blockSum(block, 0, len, new double[SumOrder.LANES]);
        });
    }

    /**
     * {@link #sumRows} for rows of one {@link SumOrder} block each: whole rows are computed a block's worth at a time
     * and each summed from scratch: the same values summed in the same order. Row by row, a softmax's rows of 10
     * paid the pass's set-up (and a transcendental's widening buffer) once per row: 95 us for the sum of
     * {@code exp} over 128 x 10, against 3.5 us for the unfused {@code exp}.
     */
    private static void shortRows(FusedProgram p, Inputs x, int outer, int n, CpuBuffer out) {
        int rowsPer = SumOrder.BLOCK / n;
        int groups = (outer + rowsPer - 1) / rowsPer;
        boolean single = p.dtype() == DType.FLOAT32;
        Parallel.range(groups, Math.max(1, Parallel.ELEMENTWISE_GRAIN / (rowsPer * n)), (lo, hi) -> {
            float[] lanes = single ? new float[SumOrder.LANES] : null;
            double[] wideLanes = single ? null : new double[SumOrder.LANES];
            for (int g = lo; g < hi; g++) {
                int first = g * rowsPer;
                int last = Math.min(outer, first + rowsPer);
                if (single) {
                    float[] block = FLOAT_BLOCK.get();
                    floats(p, x, block, -first * n, first * n, last * n);
                    for (int r = first; r < last; r++) {
                        out.set(r, FloatReductions.blockSum(block, (r - first) * n, n, lanes));
                    }
                } else {
                    double[] block = DOUBLE_BLOCK.get();
                    doubles(p, x, block, -first * n, first * n, last * n);
                    for (int r = first; r < last; r++) {
                        out.set(r, DoubleReductions.blockSum(block, (r - first) * n, n, wideLanes));
                    }
                }
            }
        });
    }

    /**
     * Where a step reads an operand within the block at {@code at}: a step's scratch block, or external input
     * {@code index} at {@code offset} (0 when it was gathered into scratch, or is one value to broadcast).
     */
    private record Operand(boolean step, int index, int offset, boolean scalar) {
        static Operand of(int code, boolean[] scalar, boolean[] gathered, int at) {
            if (code >= 0) {
                return new Operand(true, code, 0, false);
            }
            int e = -1 - code;
            return new Operand(false, e, scalar[e] || gathered[e] ? 0 : at, scalar[e]);
        }
    }

    private static float[][] floatScratch(int steps) {
        float[][] s = FLOAT_SCRATCH.get();
        if (s == null || s.length < steps) {
            s = new float[steps][BLOCK];
            FLOAT_SCRATCH.set(s);
        }
        return s;
    }

    private static double[][] doubleScratch(int steps) {
        double[][] s = DOUBLE_SCRATCH.get();
        if (s == null || s.length < steps) {
            s = new double[steps][BLOCK];
            DOUBLE_SCRATCH.set(s);
        }
        return s;
    }

    /**
     * Elements {@code [lo, hi)} of the result, element {@code i} into {@code z[i + shift]}: a block at a time, by the
     * program's compiled kernel ({@link FusedCompiler}) when it has one, the interpreter doing the rest.
     */
    private static void floats(FusedProgram p, Inputs in, float[] z, int shift, int lo, int hi) {
        float[][] ext0 = in.floats();
        FusedProgram.Step[] steps = p.steps();
        float[][] scratch = floatScratch(steps.length + ext0.length);
        float[][] ext = ext0.clone();
        FusedCompiler.FloatKernel kernel = (FusedCompiler.FloatKernel) in.kernel();
        int[] offsets = new int[ext.length];
        for (int at = lo; at < hi; at += BLOCK) {
            int n = Math.min(BLOCK, hi - at);
            int done = 0;
            if (kernel != null) {
                gatherBlock(p, in, ext0, ext, scratch, offsets, at, n);
                done = kernel.run(ext, offsets, z, at + shift, n);
            }
            if (done < n) {
                gatherBlock(p, in, ext0, ext, scratch, offsets, at + done, n - done);
                interpretFloats(p, in, ext, scratch, z, shift, at + done, n - done);
            }
        }
    }

    /**
     * Points {@code ext} and {@code offsets} at block {@code [at, at + n)} of each input, gathering where needed;
     * the arrays are {@code float[][]} or {@code double[][]}, by the program's dtype.
     */
    private static void gatherBlock(FusedProgram p, Inputs in, Object[] ext0, Object[] ext, Object[] scratch,
            int[] offsets, int at, int n) {
        int steps = p.steps().length;
        for (int k = 0; k < ext.length; k++) {
            if (in.gathered()[k]) {
                ext[k] = scratch[steps + k];
                long[][] view = in.views()[k];
                if (ext0[k] instanceof float[] f) {
                    gather(f, null, view[0], view[1], at, n, (float[]) ext[k], null);
                } else {
                    gather(null, (double[]) ext0[k], view[0], view[1], at, n, null, (double[]) ext[k]);
                }
            }
            offsets[k] = in.scalar()[k] || in.gathered()[k] ? 0 : at;
        }
    }

    /** Block {@code [at, at + n)} step by step, its inputs already gathered. */
    private static void interpretFloats(FusedProgram p, Inputs in, float[][] ext, float[][] scratch, float[] z,
            int shift, int at, int n) {
        boolean[] scalar = in.scalar();
        boolean[] gathered = in.gathered();
        int[] slot = in.slot();
        FusedProgram.Step[] steps = p.steps();
        int last = steps.length - 1;
        for (int k = 0; k <= last; k++) {
            FusedProgram.Step s = steps[k];
            float[] dst = k == last ? z : scratch[slot[k]];
            int d = k == last ? at + shift : 0;
            if (s.unary() != null) {
                Operand o = Operand.of(s.a(), scalar, gathered, at);
                float[] src = o.step() ? scratch[slot[o.index()]] : ext[o.index()];
                if (!o.scalar() && s.unary() == UnaryOp.RELU) {
                    relu(src, o.offset(), dst, d, n);
                    continue;
                }
                if (o.scalar()) {
                    java.util.Arrays.fill(dst, d, d + n, src[0]);
                } else if (src != dst || o.offset() != d) {
                    System.arraycopy(src, o.offset(), dst, d, n);
                }
                FloatLanes.unary(s.unary(), dst, dst, d, d + n);
            } else {
                Operand a = Operand.of(s.a(), scalar, gathered, at);
                Operand b = Operand.of(s.b(), scalar, gathered, at);
                float[] x = a.step() ? scratch[slot[a.index()]] : ext[a.index()];
                float[] y = b.step() ? scratch[slot[b.index()]] : ext[b.index()];
                if (!arithmetic(s.binary(), x, a.offset(), a.scalar(), y, b.offset(), b.scalar(), dst, d, n)) {
                    FloatLanes.row(s.binary(), x, a.offset(), a.scalar(), y, b.offset(), b.scalar(), dst, null, d, n);
                }
            }
        }
    }

    /** Elements {@code [lo, hi)} of the result, element {@code i} into {@code z[i + shift]}, as {@link #floats}. */
    private static void doubles(FusedProgram p, Inputs in, double[] z, int shift, int lo, int hi) {
        double[][] ext0 = in.doubles();
        FusedProgram.Step[] steps = p.steps();
        double[][] scratch = doubleScratch(steps.length + ext0.length);
        double[][] ext = ext0.clone();
        FusedCompiler.DoubleKernel kernel = (FusedCompiler.DoubleKernel) in.kernel();
        int[] offsets = new int[ext.length];
        for (int at = lo; at < hi; at += BLOCK) {
            int n = Math.min(BLOCK, hi - at);
            int done = 0;
            if (kernel != null) {
                gatherBlock(p, in, ext0, ext, scratch, offsets, at, n);
                done = kernel.run(ext, offsets, z, at + shift, n);
            }
            if (done < n) {
                gatherBlock(p, in, ext0, ext, scratch, offsets, at + done, n - done);
                interpretDoubles(p, in, ext, scratch, z, shift, at + done, n - done);
            }
        }
    }

    /** As {@link #interpretFloats}. */
    private static void interpretDoubles(FusedProgram p, Inputs in, double[][] ext, double[][] scratch, double[] z,
            int shift, int at, int n) {
        boolean[] scalar = in.scalar();
        boolean[] gathered = in.gathered();
        int[] slot = in.slot();
        FusedProgram.Step[] steps = p.steps();
        int last = steps.length - 1;
        for (int k = 0; k <= last; k++) {
            FusedProgram.Step s = steps[k];
            double[] dst = k == last ? z : scratch[slot[k]];
            int d = k == last ? at + shift : 0;
            if (s.unary() != null) {
                Operand o = Operand.of(s.a(), scalar, gathered, at);
                double[] src = o.step() ? scratch[slot[o.index()]] : ext[o.index()];
                if (o.scalar()) {
                    java.util.Arrays.fill(dst, d, d + n, src[0]);
                } else if (src != dst || o.offset() != d) {
                    System.arraycopy(src, o.offset(), dst, d, n);
                }
                DoubleLanes.unary(s.unary(), dst, dst, d, d + n);
            } else {
                Operand a = Operand.of(s.a(), scalar, gathered, at);
                Operand b = Operand.of(s.b(), scalar, gathered, at);
                double[] x = a.step() ? scratch[slot[a.index()]] : ext[a.index()];
                double[] y = b.step() ? scratch[slot[b.index()]] : ext[b.index()];
                DoubleLanes.row(s.binary(), x, a.offset(), a.scalar(), y, b.offset(), b.scalar(), dst, null, d, n);
            }
        }
    }

    /**
     * Copies elements {@code [at, at + n)} of the broadcast view ({@code shape}, {@code strides}) of {@code fs} or
     * {@code ds} into {@code fd} or {@code dd} from 0, a run of the innermost dimension at a time.
     */
    private static void gather(float[] fs, double[] ds, long[] shape, long[] strides, int at, int n, float[] fd,
            double[] dd) {
        int rank = shape.length;
        long[] idx = new long[rank];
        long rest = at;
        long offset = 0;
        for (int i = rank - 1; i >= 0; i--) {
            idx[i] = rest % shape[i];
            rest /= shape[i];
            offset += idx[i] * strides[i];
        }
        int inner = rank - 1;
        long innerStride = strides[inner];
        int done = 0;
        while (done < n) {
            int run = (int) Math.min(n - done, shape[inner] - idx[inner]);
            if (innerStride == 1) {
                if (fd != null) {
                    System.arraycopy(fs, (int) offset, fd, done, run);
                } else {
                    System.arraycopy(ds, (int) offset, dd, done, run);
                }
            } else if (innerStride == 0) {
                if (fd != null) {
                    java.util.Arrays.fill(fd, done, done + run, fs[(int) offset]);
                } else {
                    java.util.Arrays.fill(dd, done, done + run, ds[(int) offset]);
                }
            } else {
                // a transposed or sliced view: the program's contract allows any strides
                for (int j = 0; j < run; j++) {
                    int from = (int) (offset + j * innerStride);
                    if (fd != null) {
                        fd[done + j] = fs[from];
                    } else {
                        dd[done + j] = ds[from];
                    }
                }
            }
            done += run;
            // to the start of the next row: carry through the outer dimensions
            offset -= idx[inner] * innerStride;
            idx[inner] = 0;
            for (int i = inner - 1; i >= 0; i--) {
                idx[i]++;
                offset += strides[i];
                if (idx[i] < shape[i]) {
                    break;
                }
                offset -= idx[i] * strides[i];
                idx[i] = 0;
            }
        }
    }

    /*
     * NOTE: the loops below repeat FloatLanes' vector forms with the operator a literal in its own loop: called per
     * block with a different op each time, FloatLanes.row's per-vector switch made C2 deoptimize on every new op
     * (its profile had seen one), and the fused pass ran no faster than four unfused ones. Same operations, same bits.
     */

    /** {@code z[d + j] = relu(x[xi + j])} for {@code j < n}, as FloatLanes' RELU. */
    private static void relu(float[] x, int xi, float[] z, int d, int n) {
        var f = FloatLanes.F;
        int j = 0;
        int bound = f.loopBound(n);
        FloatVector zero = FloatVector.zero(f);
        for (; j < bound; j += f.length()) {
            FloatVector v = FloatVector.fromArray(f, x, xi + j);
            zero.blend(v, v.compare(VectorOperators.GT, 0f).or(v.test(VectorOperators.IS_NAN))).intoArray(z, d + j);
        }
        for (; j < n; j++) {
            z[d + j] = (float) UnaryOp.RELU.apply(x[xi + j]);
        }
    }

    /**
     * {@code z[d + j] = op(x, y)} for add, sub, mul, div; false for other ops. NOTE: one loop per operand layout, with
     * no conditional choice between a loaded and a broadcast vector inside it: such a phi made C2 box the vectors.
     */
    private static final int ADD_ = 0;
    private static final int SUB_ = 1;
    private static final int MUL_ = 2;
    private static final int DIV_ = 3;

    private static boolean arithmetic(dev.nabla.backend.BinaryOp op, float[] x, int xi, boolean xb, float[] y, int yi,
            boolean yb, float[] z, int d, int n) {
        if (xb && yb || !(op == dev.nabla.backend.BinaryOp.ADD || op == dev.nabla.backend.BinaryOp.SUB
                || op == dev.nabla.backend.BinaryOp.MUL || op == dev.nabla.backend.BinaryOp.DIV)) {
            return false;
        }
        var f = FloatLanes.F;
        int bound = f.loopBound(n);
        FloatVector sx = FloatVector.broadcast(f, x[xi]);
        FloatVector sy = FloatVector.broadcast(f, y[yi]);
        int j = 0;
        int code = switch (op) {
            case ADD -> ADD_;
            case SUB -> SUB_;
            case MUL -> MUL_;
            default -> DIV_;
        };
        int layout = (xb ? 8 : yb ? 4 : 0) + code;
        switch (layout) {
            case 0 + ADD_ -> {
                for (; j < bound; j += f.length()) {
                    FloatVector.fromArray(f, x, xi + j).add(FloatVector.fromArray(f, y, yi + j)).intoArray(z, d + j);
                }
            }
            case 0 + SUB_ -> {
                for (; j < bound; j += f.length()) {
                    FloatVector.fromArray(f, x, xi + j).sub(FloatVector.fromArray(f, y, yi + j)).intoArray(z, d + j);
                }
            }
            case 0 + MUL_ -> {
                for (; j < bound; j += f.length()) {
                    FloatVector.fromArray(f, x, xi + j).mul(FloatVector.fromArray(f, y, yi + j)).intoArray(z, d + j);
                }
            }
            case 0 + DIV_ -> {
                for (; j < bound; j += f.length()) {
                    FloatVector.fromArray(f, x, xi + j).div(FloatVector.fromArray(f, y, yi + j)).intoArray(z, d + j);
                }
            }
            case 8 + ADD_ -> {
                for (; j < bound; j += f.length()) {
                    sx.add(FloatVector.fromArray(f, y, yi + j)).intoArray(z, d + j);
                }
            }
            case 8 + SUB_ -> {
                for (; j < bound; j += f.length()) {
                    sx.sub(FloatVector.fromArray(f, y, yi + j)).intoArray(z, d + j);
                }
            }
            case 8 + MUL_ -> {
                for (; j < bound; j += f.length()) {
                    sx.mul(FloatVector.fromArray(f, y, yi + j)).intoArray(z, d + j);
                }
            }
            case 8 + DIV_ -> {
                for (; j < bound; j += f.length()) {
                    sx.div(FloatVector.fromArray(f, y, yi + j)).intoArray(z, d + j);
                }
            }
            case 4 + ADD_ -> {
                for (; j < bound; j += f.length()) {
                    FloatVector.fromArray(f, x, xi + j).add(sy).intoArray(z, d + j);
                }
            }
            case 4 + SUB_ -> {
                for (; j < bound; j += f.length()) {
                    FloatVector.fromArray(f, x, xi + j).sub(sy).intoArray(z, d + j);
                }
            }
            case 4 + MUL_ -> {
                for (; j < bound; j += f.length()) {
                    FloatVector.fromArray(f, x, xi + j).mul(sy).intoArray(z, d + j);
                }
            }
            case 4 + DIV_ -> {
                for (; j < bound; j += f.length()) {
                    FloatVector.fromArray(f, x, xi + j).div(sy).intoArray(z, d + j);
                }
            }
            default -> throw new AssertionError(layout + " " + op);
        }
        int as = xb ? 0 : 1;
        int bs = yb ? 0 : 1;
        for (; j < n; j++) {
            z[d + j] = (float) op.apply(x[xi + j * as], y[yi + j * bs]);
        }
        return true;
    }
}
