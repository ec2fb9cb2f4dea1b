package dev.nabla.cpu;

import dev.nabla.DType;
import dev.nabla.backend.FusedProgram;

/**
 * One pass for a fused element-wise program: each thread's range is cut into blocks that stay in L1, and every step
 * runs over a block with the same lane loops the unfused op uses ({@link FloatLanes#unary}, {@link FloatLanes#row}),
 * so each step rounds exactly as the unfused op and the result has the same bits, while the intermediates never go
 * to memory. A dense input is read in place and a one-value input as a broadcast; any other broadcast (a row or a
 * column) is gathered block by block into scratch, runs of the innermost dimension at a time. A program ending in a
 * sum over its last axes ({@link #sumRows}) computes each {@link SumOrder} block into scratch and sums it there, as
 * the unfused sum would sum it from memory. The passes over the blocks are {@link FloatFusedBlocks} and
 * {@link DoubleFusedBlocks}, one template's twins.
 */
final class FusedKernels {
    /**
     * Elements per block (-Dnabla.cpu.fusedBlock): 32 KiB of floats; with the steps working in place, a chain's
     * scratch is one or two blocks.
     */
    static final int BLOCK = Integer.getInteger("nabla.cpu.fusedBlock", 8192);
    /**
     * Programs of at least this many elements run compiled (-Dnabla.cpu.fusedCompileMin; 0 compiles all): a new
     * kernel starts in the interpreter, where the Vector API is slow, so small, rarely run programs are better off
     * in the block interpreter, whose loops are compiled already.
     */
    static final long COMPILE_MIN = Long.getLong("nabla.cpu.fusedCompileMin", 1 << 16);

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
    record Inputs(float[][] floats, double[][] doubles, boolean[] scalar, boolean[] gathered, int[] slot,
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
            FloatFusedBlocks.run(p, x, out);
        } else {
            DoubleFusedBlocks.run(p, x, out);
        }
    }

    /**
     * {@code out[r] = sum of the program's result (outer, n) along n}, in {@link SumOrder}'s order (the unfused
     * sum's bits): each block of the result is computed into scratch and summed there.
     */
    static void sumRows(FusedProgram p, CpuBuffer[] in, int outer, int n, CpuBuffer out, CpuBuffer values) {
        Inputs x = Inputs.of(p, in, compile(p));
        boolean single = p.dtype() == DType.FLOAT32;
        float[] keepFloats = values != null && single ? values.floats() : null;
        double[] keepDoubles = values != null && !single ? values.doubles() : null;
        if (n <= SumOrder.BLOCK) {
            if (single) {
                FloatFusedBlocks.shortRows(p, x, outer, n, out, keepFloats);
            } else {
                DoubleFusedBlocks.shortRows(p, x, outer, n, out, keepDoubles);
            }
            return;
        }
        SumOrder.rows(outer, n, out, single ? (start, len) -> FloatFusedBlocks.blockSum(p, x, start, len, keepFloats)
                : (start, len) -> DoubleFusedBlocks.blockSum(p, x, start, len, keepDoubles));
    }

    /**
     * Where a step reads an operand within the block at {@code at}: a step's scratch block, or external input
     * {@code index} at {@code offset} (0 when it was gathered into scratch, or is one value to broadcast).
     */
    record Operand(boolean step, int index, int offset, boolean scalar) {
        static Operand of(int code, boolean[] scalar, boolean[] gathered, int at) {
            if (code >= 0) {
                return new Operand(true, code, 0, false);
            }
            int e = -1 - code;
            return new Operand(false, e, scalar[e] || gathered[e] ? 0 : at, scalar[e]);
        }
    }
}
