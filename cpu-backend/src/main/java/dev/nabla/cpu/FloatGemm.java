package dev.nabla.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * FLOAT32 GEMM in the BLIS structure without packing A: B is packed into panels of {@link #NR} columns (all of K),
 * and a register-blocked micro-kernel computes one {@code MR × NR} tile of C per call with FMAs, reading A's
 * {@link #MR} rows where they lie (an A stored transposed is first copied row-major: {@link #multiplyRowMajor}) and
 * B's panel contiguously.
 *
 * <p>Why these sizes: C2 hoists every broadcast of A into its own register, so a kernel needs {@code MR·V + V + MR}
 * registers for {@code MR} rows and {@code V} vectors of columns; 6 × 2 takes 20 and keeps 12 independent FMA
 * chains, enough for one 512-bit or two 256-bit FMAs a cycle at 4 cycles' latency. Measured single-threaded on the
 * benchmark host (Zen 4, AVX-512, loaded; {@code StepGemmBench}'s W5 shapes), 6 × 2 ran 95-114 GFLOP/s against
 * 82-109 for 3 × 3 and 76-91 for 4 × 2, under AVX-512 and under {@code -XX:UseAVX=2} (16 registers) alike. NR = 2
 * vectors also divides the usual layer widths (256 at 16 lanes: no padded columns, where 3 vectors padded 11%).
 * Packing A (each row panel copied once per depth slice) took 9% of W5's step in JFR samples; the kernel's A reads are
 * short contiguous runs of one row that the hardware prefetches, so row panels are read in place; a partial last
 * panel is the full panel ending at row m, and only an A of fewer than MR rows is copied.
 * A last column panel of at most one vector of columns is packed one vector wide and computed by a 6 × 1 kernel
 * ({@link #panelWidth}): the 9- and 10-column products of W5 and W7 padded to two vectors did twice the FMAs
 * (single-threaded, 4 alternating runs: 64 × 1568 × 10 90-97 → 56-75 µs, 4096 × 64 × 9 202-241 → 153-196, W7's
 * first kernel gradient 900-1130 → 707-1042).
 *
 * <p><b>Orientation.</b> {@code C = op(A)·op(B)} may instead be computed as {@code Cᵀ = op(B)ᵀ·op(A)ᵀ} and transposed
 * ({@link #multiplyTransposed}): the operand read in place and the one packed swap roles. {@link #cost} prices each way
 * (padded tiles, B's packing, which is cheap for B's stored rows and an element at a time for a B stored transposed,
 * and the row-major copy of an A stored transposed); the transposed way is taken when it is clearly cheaper ({@link
 * #TRANSPOSE_GAIN}). It picks: W5's weight gradient {@code hᵀ·g} (256 × 10: 10 columns padded to 32; 24 µs, transposed
 * 17); W7's kernel gradient {@code g·colsᵀ} (32 × 144 over 12,544 depths: packing {@code colsᵀ} transposed is 1.8 M
 * floats, the other way 0.4 M; 3.0 ms, transposed 1.3 ms in two runs at load 1-2). It leaves W5's forward {@code h·W2},
 * whose transposed form packs {@code hᵀ} an element at a time, which costs what the padding did.
 *
 * <p><b>Work split.</b> When there are at least as many column panels as threads, each task takes a group of column
 * panels (of one batch) and, a depth slice at a time, packs them itself (into a pooled array of its own, which the next
 * task reuses while it is in cache: one array for all of B was written back to memory on every call) and computes all
 * rows for them, so a product is one fork and join and no thread waits for another's packing; a group is at most {@link
 * #GROUP_FLOATS} floats of a depth slice of B, packed just before the task sweeps it once per row panel from L2
 * (packing all depths first left only the last slice there: W7's conv2 kernel gradient 1.30 → 1.05 ms). Otherwise (a
 * narrow result: a matrix times a vector, a layer of ten outputs) B is packed first and tasks take row panels. Tasks
 * are claimed one at a time ({@link Parallel#tasks}), up to {@link #TASKS_PER_THREAD} a thread, so a worker that starts
 * late on a loaded host does not hold back the caller. A product of fewer tiles than that over many depth slices (a
 * convolution's kernel gradient) shares the slices instead ({@link #multiplyOverDepth}). Either way each element of C
 * is the same sequence of FMAs: one chain over each depth slice of {@link #KC}, the slices added in order ({@link
 * ScalarKernels#matmul} does the same), so neither the split nor the vector width changes a bit.
 *
 * <p><b>Epilogue.</b> A {@link GemmEpilogue} (a traced plan's bias add and relu) is applied by each column-group task
 * to its columns once they are final, while they are in its core's cache; on the other paths (row panels, whose
 * partial last panel rewrites rows of another task's, the depth split, the transposed orientation) to the whole
 * result after the product.
 */
final class FloatGemm {
    private static final VectorSpecies<Float> F = FloatLanes.SPECIES;
    private static final int L = F.length();
    static final int MR = 6;
    static final int NR = 2 * L;
    /**
     * The width of a last column panel with at most one vector of columns left ({@link #panelWidth}): packed
     * {@code L} wide and computed by {@link #microKernelNarrow}, where padding it to {@link #NR} doubled the work.
     */
    static final int NR_NARROW = L;
    static final int KC = 256;
    private static final VectorMask<Float> ALL = F.maskAll(true);
    /** Floats of B's depth slice (KC × panels · NR) one column task sweeps per row panel: 256 KiB, within L2. */
    static final int GROUP_FLOATS = 64 * 1024;
    /** About 2 MFLOP (tens of µs) of a product pays for waking a worker; smaller products stay on the caller. */
    private static final long MIN_FLOPS_PER_THREAD = 2L << 20;
    /**
     * What pays for a worker that is awake (polling after the op before, as in a training step, {@link
     * Parallel#workersAwake}): a quarter MFLOP, a few µs of one core. W5's three products of its ten-output layer
     * (0.65 MFLOP each) on two threads against one, alone in JMH, three alternations: {@code h·W2} 15.5 → 12.5 µs,
     * {@code hᵀ·g} 15.8 → 14.1, {@code g·W2ᵀ} 12.0 → 9.0.
     */
    private static final long MIN_FLOPS_PER_AWAKE_THREAD = 1L << 18;
    /**
     * Tasks per thread when the work allows: a thread that starts late (a loaded host) then finds most of the
     * product done by the others rather than half of it waiting for it.
     */
    private static final int TASKS_PER_THREAD = 4;
    /** Depths per slab of a transposed B panel's packing: 64 × NR floats, 8 KiB at 16 lanes. */
    private static final int PACK_SLAB = 64;
    /** Fewest depths per packing task when few panels are packed by several threads. */
    private static final int PACK_CHUNK = 512;

    private FloatGemm() {
    }

    /**
     * {@code c[batch] = op(a[batch]) · op(b[batch])} for every batch, dense (m, n) results; {@code a} is (m, k) or
     * (k, m) when {@code ta}, {@code b} is (k, n) or (n, k) when {@code tb}.
     */
    static void multiply(float[] a, boolean ta, float[] b, boolean tb, float[] c, Gemm.Batch[] batches, int m, int k,
            int n, BufferPool pool) {
        multiply(a, ta, null, b, tb, null, c, null, batches, m, k, n, pool, null);
    }

    /**
     * {@link #multiply} with either operand, and C, stored in {@link Runs} where they are not null (one batch): B is
     * packed from its runs; an A read in place is copied dense first; C's tiles are written into its runs (a tile
     * that crosses from one run into the next through the scratch tile). The bits are those of dense matrices.
     */
    static void multiply(float[] a, boolean ta, Runs aRuns, float[] b, boolean tb, Runs bRuns, float[] c, Runs cRuns,
            Gemm.Batch[] batches, int m, int k, int n, BufferPool pool, GemmEpilogue epilogue) {
        if ((aRuns != null || bRuns != null || cRuns != null || epilogue != null) && batches.length != 1) {
            throw new IllegalArgumentException("matrices in runs and epilogues are for one product, not "
                    + batches.length);
        }
        if (m == 0 || n == 0 || batches.length == 0) {
            return;
        }
        if (k == 0) {
            if (cRuns == null) {
                java.util.Arrays.fill(c, 0, batches.length * m * n, 0f);
            } else {
                Runs.copy(new float[m * n], 0, Runs.dense(n), c, batches[0].cOff(), cRuns, m, n);
            }
            if (epilogue != null) {
                epilogue.applyAll(c, batches[0].cOff(), cRuns, m, n);
            }
            return;
        }
        if (TRANSPOSE_GAIN * cost(n, k, m, !tb, !ta) + (double) m * n < cost(m, k, n, ta, tb)) {
            multiplyTransposed(a, ta, aRuns, b, tb, bRuns, c, cRuns, batches, m, k, n, pool);
            if (epilogue != null) {
                epilogue.applyAll(c, batches[0].cOff(), cRuns, m, n);
            }
        } else {
            multiplyAsGiven(a, ta, aRuns, b, tb, bRuns, c, cRuns, batches, m, k, n, pool, epilogue);
        }
    }

    /** {@link #multiply} in the orientation given: B packed, A read in place (row-major: {@link #multiplyRowMajor}). */
    private static void multiplyAsGiven(float[] a, boolean ta, Runs aRuns, float[] b, boolean tb, Runs bRuns,
            float[] c, Runs cRuns, Gemm.Batch[] batches, int m, int k, int n, BufferPool pool, GemmEpilogue epilogue) {
        if (aRuns != null) {
            int rows = ta ? k : m;
            int cols = ta ? m : k;
            float[] dense = (float[]) pool.take(dev.nabla.DType.FLOAT32, rows * cols);
            try {
                Runs.copy(a, batches[0].aOff(), aRuns, dense, 0, Runs.dense(cols), rows, cols);
                Gemm.Batch[] rebased = {new Gemm.Batch(0, batches[0].bOff(), batches[0].cOff())};
                multiplyAsGiven(dense, ta, null, b, tb, bRuns, c, cRuns, rebased, m, k, n, pool, epilogue);
            } finally {
                pool.give(dev.nabla.DType.FLOAT32, dense);
            }
            return;
        }
        if (ta) {
            multiplyRowMajor(a, b, tb, bRuns, c, cRuns, batches, m, k, n, pool, epilogue);
            return;
        }
        int nPanels = (n + NR - 1) / NR;
        int mPanels = (m + MR - 1) / MR;
        long flops = 2L * m * n * k * batches.length;
        long perThread = Parallel.workersAwake() ? MIN_FLOPS_PER_AWAKE_THREAD : MIN_FLOPS_PER_THREAD;
        int threads = (int) Math.min(Parallel.THREADS, Math.max(1, flops / perThread));
        int slices = (k + KC - 1) / KC;
        if (batches.length == 1 && threads > 1 && nPanels * mPanels < TASKS_PER_THREAD * threads
                && slices >= TASKS_PER_THREAD * threads) {
            multiplyOverDepth(a, b, tb, bRuns, c, cRuns, batches[0], m, k, n, threads, pool);
            if (epilogue != null) {
                epilogue.applyAll(c, batches[0].cOff(), cRuns, m, n);
            }
            return;
        }
        int panelSize = k * NR;
        if (nPanels >= Parallel.THREADS) {
            int perGroup = Math.max(1, GROUP_FLOATS / (Math.min(k, KC) * NR));
            int groups = Math.max((nPanels + perGroup - 1) / perGroup,
                    Math.min(nPanels, TASKS_PER_THREAD * threads));
            int widest = (nPanels + groups - 1) / groups;
            Parallel.tasks(batches.length * groups, threads, t -> {
                int batch = t / groups;
                int j0 = (int) ((long) nPanels * (t % groups) / groups);
                int j1 = (int) ((long) nPanels * (t % groups + 1) / groups);
                Gemm.Batch bt = batches[batch];
                // the task's panels in an array of its own, reused through the pool: one array for all of B
                // (W7's conv2 forward: 7.2 MB) was written back to memory on every call, twice B's traffic
                float[] packed = (float[]) pool.take(dev.nabla.DType.FLOAT32, widest * Math.min(k, KC) * NR);
                try {
                    Scratch scratch = Scratch.get();
                    for (int from = 0; from < k; from += KC) {
                        int to = Math.min(k, from + KC);
                        packGroup(b, bt.bOff(), tb, bRuns, k, n, j0, j1, from, to, packed);
                        tiles(a, bt.aOff(), packed, -j0 * (to - from) * NR, c, bt.cOff(), cRuns, m, k, n, from,
                                to, from > 0, 0, mPanels, j0, j1, scratch);
                    }
                    if (epilogue != null) {
                        // the task's columns are final (all rows, all depths), and still in this core's cache
                        epilogue.apply(c, bt.cOff(), cRuns, n, 0, m, j0 * NR, Math.min(n, j1 * NR));
                    }
                } finally {
                    pool.give(dev.nabla.DType.FLOAT32, packed);
                }
            });
            return;
        }
        float[] packedB = (float[]) pool.take(dev.nabla.DType.FLOAT32, batches.length * nPanels * panelSize);
        try {
            // few panels, each packed in depth chunks: a transposed B's packing (one float at a time) was one
            // thread's serial work while the other waited
            int chunks = Math.max(1, Math.min(TASKS_PER_THREAD * threads / nPanels, k / PACK_CHUNK));
            Parallel.tasks(batches.length * nPanels * chunks, threads, t -> {
                int panel = t / chunks;
                int chunk = t % chunks;
                int from = (int) ((long) k * chunk / chunks);
                int jp = panel % nPanels;
                packB(b, batches[panel / nPanels].bOff(), tb, bRuns, k, n, jp, from,
                        (int) ((long) k * (chunk + 1) / chunks),
                        packedB, panel * panelSize + from * panelWidth(n, jp));
            });
            int rowPanels = batches.length * mPanels;
            int tasks = Math.min(rowPanels, TASKS_PER_THREAD * threads);
            Parallel.tasks(tasks, threads, t -> {
                Scratch s = Scratch.get();
                int from = (int) ((long) rowPanels * t / tasks);
                int to = (int) ((long) rowPanels * (t + 1) / tasks);
                while (from < to) {
                    int batch = from / mPanels;
                    int p0 = from % mPanels;
                    int p1 = Math.min(mPanels, p0 + to - from);
                    Gemm.Batch bt = batches[batch];
                    tiles(a, bt.aOff(), packedB, batch * nPanels * panelSize, c, bt.cOff(), cRuns, m, k, n, 0, k,
                            false, p0, p1, 0, nPanels, s);
                    from += p1 - p0;
                }
            });
            if (epilogue != null) {
                // after all tasks: a partial last row panel rewrites rows of the panel above it (another task's)
                epilogue.applyAll(c, batches[0].cOff(), cRuns, m, n);
            }
        } finally {
            pool.give(dev.nabla.DType.FLOAT32, packedB);
        }
    }

    /**
     * {@link #multiplyAsGiven} for an A stored transposed: each distinct A (broadcast batches share one) is first
     * copied row-major, so that the kernels read A at a depth stride of one. The kernel's six loads of A then index
     * {@code aAt + p + r·rs}, linear in the depth with a constant scale, and C2 hoists their range checks out of the
     * loop; with the depth stride in a variable (m, for A read in place transposed) the checks stayed in, and the
     * kernel ran 87 against 98 GFLOP/s (single-threaded, in L1, AVX2 Zen 3, whose FMA peak is ~97 a core).
     */
    private static void multiplyRowMajor(float[] a, float[] b, boolean tb, Runs bRuns, float[] c, Runs cRuns,
            Gemm.Batch[] batches, int m, int k, int n, BufferPool pool, GemmEpilogue epilogue) {
        java.util.Map<Integer, Integer> copies = new java.util.LinkedHashMap<>();
        for (Gemm.Batch bt : batches) {
            copies.putIfAbsent(bt.aOff(), copies.size() * m * k);
        }
        float[] rowMajor = (float[]) pool.take(dev.nabla.DType.FLOAT32, Math.multiplyExact(copies.size(), m * k));
        try {
            copies.forEach((from, to) -> TransposeCopy.transpose(a, from, m, k, rowMajor, to));
            Gemm.Batch[] rebased = new Gemm.Batch[batches.length];
            for (int i = 0; i < batches.length; i++) {
                rebased[i] = new Gemm.Batch(copies.get(batches[i].aOff()), batches[i].bOff(), batches[i].cOff());
            }
            multiplyAsGiven(rowMajor, false, null, b, tb, bRuns, c, cRuns, rebased, m, k, n, pool, epilogue);
        } finally {
            pool.give(dev.nabla.DType.FLOAT32, rowMajor);
        }
    }

    /**
     * A result of few tiles over a deep K (conv1's kernel gradient in W7: (16, 9) over 50,176 depths, which ran on
     * one thread, packing its one panel alone): the depth slices are shared among the threads, each slice's tiles
     * computed into a partial of its own (packing only its depths), and the partials are then added in slice order,
     * as {@link #tiles} adds them, so the bits are the same.
     */
    private static void multiplyOverDepth(float[] a, float[] b, boolean tb, Runs bRuns, float[] c, Runs cRuns,
            Gemm.Batch bt, int m, int k, int n, int threads, BufferPool pool) {
        int slices = (k + KC - 1) / KC;
        int nPanels = (n + NR - 1) / NR;
        int mPanels = (m + MR - 1) / MR;
        int size = m * n;
        float[] partial = (float[]) pool.take(dev.nabla.DType.FLOAT32, slices * size);
        try {
            int tasks = Math.min(slices, TASKS_PER_THREAD * threads);
            Parallel.tasks(tasks, threads, t -> {
                // pooled, as in multiplyAsGiven: a new array per task was the largest part (40%) of what W7's traced
                // step allocated
                float[] packed = (float[]) pool.take(dev.nabla.DType.FLOAT32, nPanels * KC * NR);
                try {
                    Scratch scratch = Scratch.get();
                    for (int sl = slices * t / tasks; sl < slices * (t + 1) / tasks; sl++) {
                        int from = sl * KC;
                        int to = Math.min(k, from + KC);
                        packGroup(b, bt.bOff(), tb, bRuns, k, n, 0, nPanels, from, to, packed);
                        tiles(a, bt.aOff(), packed, 0, partial, sl * size, null, m, k, n, from, to, false, 0,
                                mPanels, 0, nPanels, scratch);
                    }
                } finally {
                    pool.give(dev.nabla.DType.FLOAT32, packed);
                }
            });
            // the slices added in order into the first one, then copied out
            for (int sl = 1; sl < slices; sl++) {
                for (int e = 0; e < size; e++) {
                    partial[e] += partial[sl * size + e];
                }
            }
            if (cRuns == null) {
                System.arraycopy(partial, 0, c, bt.cOff(), size);
            } else {
                Runs.copy(partial, 0, Runs.dense(n), c, bt.cOff(), cRuns, m, n);
            }
        } finally {
            pool.give(dev.nabla.DType.FLOAT32, partial);
        }
    }

    /**
     * The price, in vector FMAs, of computing an (m, n) product over k in this orientation: the padded tiles, plus
     * packing B (k × n padded to panels), which costs about one vector copy per NR floats when B's rows are its
     * stored rows and one scalar load and store per float when B is stored transposed ({@code tb}: its columns are
     * contiguous, and the panel is filled element by element), plus one scalar copy per element of an A stored
     * transposed ({@code ta}: {@link #multiplyRowMajor}).
     */
    private static double cost(int m, int k, int n, boolean ta, boolean tb) {
        double tiles = (double) padded(m, MR) * paddedColumns(n) * k / L;
        double packed = (double) k * paddedColumns(n);
        return tiles + (tb ? packed : 2 * packed / L) + (ta ? (double) m * k : 0);
    }

    /**
     * How much cheaper the transposed product must look (its cost plus one scalar copy per element of C) before it is
     * taken: the model is rough, and an orientation that only ties costs the transposition's cache misses. At 1.25,
     * W7's first kernel gradient {@code g·colsᵀ} (16 × 9 over 50,176 depths; the model's costs 1.71 M as given, 1.41 M
     * transposed) stayed as given under AVX-512 (as given, 18 padded rows of the six-row kernel; transposed, 12),
     * where it took 280-282 µs against 230-232 transposed (3 alternations, 600 calls each); AVX2's costs already chose
     * the transposed way. No other product of W5 or W7 changes orientation between 1.25 and 1.15.
     */
    private static final double TRANSPOSE_GAIN = 1.15;

    private static long padded(int size, int multiple) {
        return (size + multiple - 1) / multiple * (long) multiple;
    }

    /** Columns as packed: whole panels of {@link #NR}, the last one {@link #NR_NARROW} wide when that holds it. */
    private static long paddedColumns(int n) {
        int panels = (n + NR - 1) / NR;
        return panels == 0 ? 0 : (panels - 1) * (long) NR + panelWidth(n, panels - 1);
    }

    /**
     * The packed width of column panel {@code jp}: {@link #NR}, or {@link #NR_NARROW} for a last panel of at most
     * that many columns (W7's kernel gradients and W5's and W7's ten-output layers: 9 and 10 columns). Only the last
     * panel can be narrow, so panel {@code jp} still starts {@code jp · NR} floats a depth into a packed slice.
     */
    static int panelWidth(int n, int jp) {
        return n - jp * NR <= NR_NARROW ? NR_NARROW : NR;
    }

    /**
     * The product as {@code Cᵀ = op(B)ᵀ · op(A)ᵀ}, then transposed into C (see Orientation above). Each element is
     * the same FMA chain with its two factors swapped, which rounds the same (the product is exact inside the FMA),
     * so the bits do not change.
     */
    private static void multiplyTransposed(float[] a, boolean ta, Runs aRuns, float[] b, boolean tb, Runs bRuns,
            float[] c, Runs cRuns, Gemm.Batch[] batches, int m, int k, int n, BufferPool pool) {
        int size = m * n;
        Gemm.Batch[] swapped = new Gemm.Batch[batches.length];
        for (int i = 0; i < batches.length; i++) {
            swapped[i] = new Gemm.Batch(batches[i].bOff(), batches[i].aOff(), i * size);
        }
        float[] ct = (float[]) pool.take(dev.nabla.DType.FLOAT32, batches.length * size);
        try {
            multiplyAsGiven(b, !tb, bRuns, a, !ta, aRuns, ct, null, swapped, n, k, m, pool, null);
            if (cRuns != null) {
                float[] dense = (float[]) pool.take(dev.nabla.DType.FLOAT32, size);
                try {
                    TransposeCopy.transpose(ct, 0, m, n, dense, 0);
                    Runs.copy(dense, 0, Runs.dense(n), c, batches[0].cOff(), cRuns, m, n);
                } finally {
                    pool.give(dev.nabla.DType.FLOAT32, dense);
                }
                return;
            }
            for (int bi = 0; bi < batches.length; bi++) {
                TransposeCopy.transpose(ct, bi * size, m, n, c, batches[bi].cOff());
            }
        } finally {
            pool.give(dev.nabla.DType.FLOAT32, ct);
        }
    }

    /**
     * A thread's copies of a partial row panel of A and of a partial tile of C, and the narrow kernel's tile (small:
     * not pooled).
     */
    private static final class Scratch {
        /**
         * One a thread, since a task runs to its end on its thread: one Scratch a task (with the narrow kernel's
         * tile) was 18 of the 70 KB that W5's traced step allocated, and 40 of W7's 176.
         */
        private static final ThreadLocal<Scratch> OF_THREAD = ThreadLocal.withInitial(Scratch::new);
        // made when first needed (an A of fewer than MR rows; a partial tile): zeroing both for every task was 3% of
        // W5's first product in JFR samples
        private float[] edgeA;
        private float[] edgeC;
        private float[] narrowTile;
        private int[] panelColumns;

        static Scratch get() {
            return OF_THREAD.get();
        }

        float[] edgeA() {
            if (edgeA == null) {
                edgeA = new float[MR * KC];
            }
            return edgeA;
        }

        float[] edgeC() {
            if (edgeC == null) {
                edgeC = new float[MR * NR];
            }
            return edgeC;
        }

        float[] narrowTile() {
            if (narrowTile == null) {
                narrowTile = new float[MR * L];
            }
            return narrowTile;
        }

        /** At least {@code panels} ints for {@link #packGroup}'s panel offsets (one array a call was 13 KB a step). */
        int[] panelColumns(int panels) {
            if (panelColumns == null || panelColumns.length < panels) {
                panelColumns = new int[panels];
            }
            return panelColumns;
        }
    }

    /**
     * Row panels {@code [p0, p1)} of C times the packed B panels {@code [j0, j1)} over depths {@code [from, to)}
     * (slice-aligned; the panels hold just those depths), added onto C when {@code onto} and written over it
     * otherwise: per depth slice, each row panel of A meets every B panel of the range while its rows are in L1.
     */
    private static void tiles(float[] a, int aOff, float[] packedB, int bBase, float[] c, int cOff, Runs cRuns,
            int m, int k, int n, int from, int to, boolean onto, int p0, int p1, int j0, int j1, Scratch s) {
        int depth = to - from;
        Runs cr = cRuns != null ? cRuns : Runs.dense(n);
        int ldc = cr.rowStride();
        for (int pc = from; pc < to; pc += KC) {
            int kc = Math.min(KC, to - pc);
            boolean accumulate = onto || pc > from;
            for (int ip = p0; ip < p1; ip++) {
                int i = ip * MR;
                int rows = Math.min(MR, m - i);
                // a partial last panel is computed as the full panel ending at row m (rows computed twice, written
                // once: the same FMAs give the same bits) and only A with fewer than MR rows in all is copied
                int skip = rows < MR && m >= MR ? MR - rows : 0;
                // ...and written straight into C when this call writes each tile once (one depth slice, nothing
                // under it): the rows it shares with the panel above get the values that panel wrote (or will write,
                // from another task), where a scratch tile and its copy were 4% of W7's traced step in JFR samples
                // (the 16 and 32 output channels of its convolutions: a third and a sixth of their tiles)
                boolean overlapped = skip > 0 && !onto && depth <= KC;
                float[] ap = a;
                int aAt = aOff + (i - skip) * k + pc;
                int rs = k;
                if (rows < MR && skip == 0) {
                    ap = s.edgeA();
                    packEdgeA(a, aAt, k, rows, kc, ap);
                    aAt = 0;
                    rs = kc;
                }
                for (int jp = j0; jp < j1; jp++) {
                    int j = jp * NR;
                    int w = panelWidth(n, jp);
                    int bAt = bBase + jp * depth * NR + (pc - from) * w;
                    int cols = Math.min(w, n - j);
                    // a narrow panel is written straight into C with masked stores: through the scratch tile, the
                    // copy cost what the kernel did in a ten-column product (64 x 1568 x 10, JFR samples)
                    // (a dense C is one run a row: no divisions per tile, which a product 9 deep would feel)
                    int cEnd = cRuns == null ? n : Math.min(n, cRuns.runEnd(j));
                    if ((rows == MR || overlapped) && (cols == w || w == NR_NARROW) && j + cols <= cEnd) {
                        int cAt = cOff + (i - skip) * ldc + (cRuns == null ? j : cRuns.col(j));
                        if (w == NR) {
                            microKernel(kc, ap, aAt, rs, packedB, bAt, c, cAt, ldc, accumulate);
                        } else {
                            microKernelNarrow(kc, ap, aAt, rs, packedB, bAt, c, cAt, ldc, accumulate,
                                    cols == w ? ALL : F.indexInRange(0, cols), s.narrowTile());
                        }
                    } else {
                        float[] edge = s.edgeC();
                        if (w == NR) {
                            microKernel(kc, ap, aAt, rs, packedB, bAt, edge, 0, w, false);
                        } else {
                            microKernelNarrow(kc, ap, aAt, rs, packedB, bAt, edge, 0, w, false, ALL,
                                    s.narrowTile());
                        }
                        // whole vectors and a masked one: the scalar copy of the rows showed in the profile of
                        // a shallow product (W7's first convolution: 9 depths, a third of its tiles partial)
                        for (int r = 0; r < rows; r++) {
                            // each stretch of the row within one run of C (the whole row when C is dense)
                            for (int q = 0, end; q < cols; q = end) {
                                end = Math.min(cols, cr.runEnd(j + q) - j);
                                int at = cOff + (i + r) * ldc + cr.col(j + q);
                                int e = (skip + r) * w + q;
                                if (accumulate) {
                                    RunLanes.add(edge, e, c, at, end - q);
                                } else {
                                    RunLanes.copy(edge, e, c, at, end - q);
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /** Copies all {@code rows < MR} rows of A over {@code kc} depths as MR rows of {@code kc}, zero-padded. */
    private static void packEdgeA(float[] a, int at, int rowStride, int rows, int kc, float[] dst) {
        java.util.Arrays.fill(dst, rows * kc, MR * kc, 0f);
        for (int r = 0; r < rows; r++) {
            System.arraycopy(a, at + r * rowStride, dst, r * kc, kc);
        }
    }

    /**
     * Packs column panels {@code [j0, j1)} of B over depths {@code [from, to)} into {@code dst}, panel {@code jp}'s
     * slice at {@code (jp - j0)·(to - from)·NR}. B's stored rows are copied a depth at a time across all the group's
     * whole panels, so B is read along its rows: panel by panel, each panel's walk down the depths touched a line of
     * a new row (a new page, for wide B) per depth, and packing was 43% of W7's conv2 product (144 × 12,544) in
     * JFR samples, single-threaded on an AVX2 Zen 3 (28% after).
     */
    private static void packGroup(float[] b, int bOff, boolean tb, Runs runs, int k, int n, int j0, int j1,
            int from, int to, float[] dst) {
        int sliceSize = (to - from) * NR;
        if (tb) {
            for (int jp = j0; jp < j1; jp++) {
                packB(b, bOff, true, runs, k, n, jp, from, to, dst, (jp - j0) * sliceSize);
            }
            return;
        }
        // the group's whole panels that lie within one run (all of them but a last partial one, for a dense B),
        // copied a depth at a time; a B in runs (a permuted tensor read in place) is packed the same way: packed
        // panel by panel, W7's traced dCols2 product (144 × 12,544) took 0.73-1.09 ms against 0.65-0.98 for a dense
        // copy of B and the dense product, and 0.62-0.64 against 0.64-0.71 this way (one JVM, alternating)
        Runs r = runs != null ? runs : Runs.dense(n);
        int[] column = Scratch.get().panelColumns(j1 - j0);
        for (int jp = j0; jp < j1; jp++) {
            int j = jp * NR;
            column[jp - j0] = j + NR <= n && r.runEnd(j) >= j + NR ? r.col(j) : -1;
        }
        for (int p = from; p < to; p++) {
            int src = bOff + p * r.rowStride();
            int d = (p - from) * NR - j0 * sliceSize;
            for (int jp = j0; jp < j1; jp++) {
                int c = column[jp - j0];
                if (c >= 0) {
                    int at = d + jp * sliceSize;
                    FloatVector.fromArray(F, b, src + c).intoArray(dst, at);
                    FloatVector.fromArray(F, b, src + c + L).intoArray(dst, at + L);
                }
            }
        }
        for (int jp = j0; jp < j1; jp++) {
            if (column[jp - j0] < 0) {
                packB(b, bOff, false, runs, k, n, jp, from, to, dst, (jp - j0) * sliceSize);
            }
        }
    }

    /**
     * Packs column panel {@code jp} of B over depths {@code [from, to)} as {@code to - from} rows of its
     * {@link #panelWidth}, zero past n; depth {@code from} goes to {@code dst[at]}.
     */
    private static void packB(float[] b, int bOff, boolean tb, Runs runs, int k, int n, int jp, int from, int to,
            float[] dst, int at) {
        int width = panelWidth(n, jp);
        int j = jp * NR;
        int cols = Math.min(width, n - j);
        at -= from * width;
        if (tb) {
            packTransposed(b, bOff, runs != null ? runs : Runs.dense(k), j, cols, width, from, to, dst, at);
            return;
        }
        Runs r = runs != null ? runs : Runs.dense(n);
        if (r.runEnd(j) < j + cols) {
            // the panel's columns cross from one run into the next (a permuted B read in place): copied a piece
            // within one run at a time, the padding zeroed first
            if (cols < width) {
                for (int p = from; p < to; p++) {
                    java.util.Arrays.fill(dst, at + p * width + cols, at + (p + 1) * width, 0f);
                }
            }
            for (int q = 0, end; q < cols; q = end) {
                end = Math.min(cols, r.runEnd(j + q) - j);
                int src = bOff + r.col(j + q) - q;
                for (int p = from; p < to; p++) {
                    int s = src + p * r.rowStride();
                    int d = at + p * width;
                    for (int x = q; x < end; x++) {
                        dst[d + x] = b[s + x];
                    }
                }
            }
            return;
        }
        packRows(b, bOff + r.col(j), r.rowStride(), cols, width, from, to, dst, at);
    }

    /**
     * Packs depths {@code [from, to)} of a panel of B stored transposed: column {@code q} of the panel is stored row
     * {@code j + q}, its depth {@code p} at {@code bOff + (j + q) · rowStride + col(p)}, contiguous within a run.
     */
    private static void packTransposed(float[] b, int bOff, Runs runs, int j, int cols, int width, int from, int to,
            float[] dst, int at) {
        // stored (n, k): one column of op(B) is contiguous; transposed in slabs of depth so that the slab of
        // the panel being written stays in L1 while the columns are read (a long K otherwise evicts it). The
        // padding columns are zeroed in one bulk fill first: written element by element with the others they
        // were most of the packing of a narrow B (W7's first kernel gradient has 9 columns of 32)
        if (cols < width) {
            java.util.Arrays.fill(dst, at + from * width, at + to * width, 0f);
        }
        int rs = runs.rowStride();
        int blocked = TransposeCopy.BLOCKS ? cols / TransposeCopy.BLOCK * TransposeCopy.BLOCK : 0;
        for (int p0 = from; p0 < to; p0 += PACK_SLAB) {
            int p1 = Math.min(to, p0 + PACK_SLAB);
            // each stretch of the slab within one run (the whole slab when B is dense)
            for (int s0 = p0, s1; s0 < p1; s0 = s1) {
                s1 = Math.min(p1, runs.runEnd(s0));
                int base = bOff + runs.col(s0) - s0;
                // eight columns by eight depths at a time where whole blocks fit, then the columns and depths left
                int pb = blocked > 0 ? s0 + (s1 - s0) / TransposeCopy.BLOCK * TransposeCopy.BLOCK : s0;
                for (int q = 0; q < blocked; q += TransposeCopy.BLOCK) {
                    for (int p = s0; p < pb; p += TransposeCopy.BLOCK) {
                        TransposeCopy.block(b, base + (j + q) * rs + p, rs, dst, at + p * width + q, width);
                    }
                }
                for (int q = 0; q < cols; q++) {
                    int src = base + (j + q) * rs;
                    int first = q < blocked ? pb : s0;
                    if (width == NR) {
                        packColumn(b, src, dst, at + q, NR, first, s1);
                    } else {
                        packColumn(b, src, dst, at + q, NR_NARROW, first, s1);
                    }
                }
            }
        }
    }

    /**
     * Packs depths {@code [from, to)} of a panel of B whose depth {@code p} row of the panel's columns is contiguous
     * at {@code src + p · rowStride}.
     */
    private static void packRows(float[] b, int src0, int rowStride, int cols, int width, int from, int to,
            float[] dst, int at) {
        // whole vectors a depth, the last one masked: System.arraycopy's call per 32 floats showed in W5's profile,
        // and a partial panel's copy and fill per depth were most of the packing of a ten-column B
        if (cols == NR) {
            for (int p = from; p < to; p++) {
                copyPanelRow(b, src0 + p * rowStride, dst, at + p * NR);
            }
            return;
        }
        // a narrow panel (at most one vector) or a wide one of one vector and a part: its whole vector if any, then,
        // if columns are left, a masked load that leaves the padding zero
        int whole = cols / L * L;
        VectorMask<Float> tail = F.indexInRange(whole, cols);
        for (int p = from; p < to; p++) {
            int src = src0 + p * rowStride;
            int d = at + p * width;
            if (whole > 0) {
                FloatVector.fromArray(F, b, src).intoArray(dst, d);
            }
            if (whole < cols) {
                FloatVector.fromArray(F, b, src + whole, tail).intoArray(dst, d + whole);
            }
        }
    }

    /**
     * One depth of a full panel for {@link #packRows}: {@link #NR} floats from {@code b[src]} to {@code dst[d]}. A
     * plain loop, which C2 vectorizes: as two Vector API loads and stores, inlined with {@code packB} into
     * {@link #packGroup}, the loaded vectors were heap objects (C2's inlining budget spent), 230 MB/s of them in W7's
     * traced step; and {@code System.arraycopy}'s call per panel row showed in W5's profile. {@code packGroup}'s own
     * copy of whole panels keeps the Vector API: as this loop, W7's conv2 product took 1.14 ms instead of 0.79.
     */
    private static void copyPanelRow(float[] b, int src, float[] dst, int d) {
        for (int q = 0; q < NR; q++) {
            dst[d + q] = b[src + q];
        }
    }

    /**
     * {@code dst[d + p·stride] = b[src + p]} for the depths {@code [p0, p1)}: one column of a B stored transposed into
     * its panel. Called with a constant stride, so that C2, inlining it, sees the store's index as the loop variable
     * times a constant and hoists its range check (with the panel's width in a variable the check ran per element).
     */
    private static void packColumn(float[] b, int src, float[] dst, int d, int stride, int p0, int p1) {
        for (int p = p0; p < p1; p++) {
            dst[d + p * stride] = b[src + p];
        }
    }

    /**
     * {@code C[MR × NR] (+)= A[MR rows] · Bpanel} over {@code kc}: A's element (r, p) is {@code a[aAt + r·rs + p]};
     * the accumulators live in registers for the whole depth and C is touched once at the end.
     */
    static void microKernel(int kc, float[] a, int aAt, int rs, float[] bp, int bAt, float[] c, int cAt, int ldc,
            boolean accumulate) {
        FloatVector c00 = FloatVector.zero(F);
        FloatVector c01 = FloatVector.zero(F);
        FloatVector c10 = FloatVector.zero(F);
        FloatVector c11 = FloatVector.zero(F);
        FloatVector c20 = FloatVector.zero(F);
        FloatVector c21 = FloatVector.zero(F);
        FloatVector c30 = FloatVector.zero(F);
        FloatVector c31 = FloatVector.zero(F);
        FloatVector c40 = FloatVector.zero(F);
        FloatVector c41 = FloatVector.zero(F);
        FloatVector c50 = FloatVector.zero(F);
        FloatVector c51 = FloatVector.zero(F);
        for (int p = 0; p < kc; p++) {
            int bi = bAt + p * NR;
            int ai = aAt + p;
            FloatVector b0 = FloatVector.fromArray(F, bp, bi);
            FloatVector b1 = FloatVector.fromArray(F, bp, bi + L);
            FloatVector a0 = FloatVector.broadcast(F, a[ai]);
            c00 = a0.fma(b0, c00);
            c01 = a0.fma(b1, c01);
            FloatVector a1 = FloatVector.broadcast(F, a[ai + rs]);
            c10 = a1.fma(b0, c10);
            c11 = a1.fma(b1, c11);
            FloatVector a2 = FloatVector.broadcast(F, a[ai + 2 * rs]);
            c20 = a2.fma(b0, c20);
            c21 = a2.fma(b1, c21);
            FloatVector a3 = FloatVector.broadcast(F, a[ai + 3 * rs]);
            c30 = a3.fma(b0, c30);
            c31 = a3.fma(b1, c31);
            FloatVector a4 = FloatVector.broadcast(F, a[ai + 4 * rs]);
            c40 = a4.fma(b0, c40);
            c41 = a4.fma(b1, c41);
            FloatVector a5 = FloatVector.broadcast(F, a[ai + 5 * rs]);
            c50 = a5.fma(b0, c50);
            c51 = a5.fma(b1, c51);
        }
        // NOTE: C's tile is written inline, not through a helper: a call that C2 declines to inline (the kernel is
        // near its node-count cutoff) would box every accumulator
        if (accumulate) {
            c00 = c00.add(FloatVector.fromArray(F, c, cAt));
            c01 = c01.add(FloatVector.fromArray(F, c, cAt + L));
            c10 = c10.add(FloatVector.fromArray(F, c, cAt + ldc));
            c11 = c11.add(FloatVector.fromArray(F, c, cAt + ldc + L));
            c20 = c20.add(FloatVector.fromArray(F, c, cAt + 2 * ldc));
            c21 = c21.add(FloatVector.fromArray(F, c, cAt + 2 * ldc + L));
            c30 = c30.add(FloatVector.fromArray(F, c, cAt + 3 * ldc));
            c31 = c31.add(FloatVector.fromArray(F, c, cAt + 3 * ldc + L));
            c40 = c40.add(FloatVector.fromArray(F, c, cAt + 4 * ldc));
            c41 = c41.add(FloatVector.fromArray(F, c, cAt + 4 * ldc + L));
            c50 = c50.add(FloatVector.fromArray(F, c, cAt + 5 * ldc));
            c51 = c51.add(FloatVector.fromArray(F, c, cAt + 5 * ldc + L));
        }
        c00.intoArray(c, cAt);
        c01.intoArray(c, cAt + L);
        c10.intoArray(c, cAt + ldc);
        c11.intoArray(c, cAt + ldc + L);
        c20.intoArray(c, cAt + 2 * ldc);
        c21.intoArray(c, cAt + 2 * ldc + L);
        c30.intoArray(c, cAt + 3 * ldc);
        c31.intoArray(c, cAt + 3 * ldc + L);
        c40.intoArray(c, cAt + 4 * ldc);
        c41.intoArray(c, cAt + 4 * ldc + L);
        c50.intoArray(c, cAt + 5 * ldc);
        c51.intoArray(c, cAt + 5 * ldc + L);
    }

    /**
     * {@link #microKernel} for a panel of one vector of columns ({@link #NR_NARROW}): the same chain of FMAs for each
     * element of C, in six registers instead of twelve. A method of its own because one kernel for both widths (the
     * second column's FMAs and stores under an invariant {@code if}) ran the wide tiles 12% slower (single-threaded,
     * B in L2, three alternations: 77-84 against 90-96 GFLOP/s); this one runs 55-65. {@code tile} is scratch of
     * {@code MR · L} floats for a tile that is masked or added onto C.
     */
    static void microKernelNarrow(int kc, float[] a, int aAt, int rs, float[] bp, int bAt, float[] c, int cAt,
            int ldc, boolean accumulate, VectorMask<Float> cols, float[] tile) {
        FloatVector c0 = FloatVector.zero(F);
        FloatVector c1 = FloatVector.zero(F);
        FloatVector c2 = FloatVector.zero(F);
        FloatVector c3 = FloatVector.zero(F);
        FloatVector c4 = FloatVector.zero(F);
        FloatVector c5 = FloatVector.zero(F);
        for (int p = 0; p < kc; p++) {
            int ai = aAt + p;
            FloatVector b0 = FloatVector.fromArray(F, bp, bAt + p * NR_NARROW);
            c0 = FloatVector.broadcast(F, a[ai]).fma(b0, c0);
            c1 = FloatVector.broadcast(F, a[ai + rs]).fma(b0, c1);
            c2 = FloatVector.broadcast(F, a[ai + 2 * rs]).fma(b0, c2);
            c3 = FloatVector.broadcast(F, a[ai + 3 * rs]).fma(b0, c3);
            c4 = FloatVector.broadcast(F, a[ai + 4 * rs]).fma(b0, c4);
            c5 = FloatVector.broadcast(F, a[ai + 5 * rs]).fma(b0, c5);
        }
        // NOTE: no vector is passed to a method here: a call that C2 declines to inline boxes its vector arguments
        // (as the six calls of a row-store helper were, three of them past C2's node-count cutoff, in W7's steps).
        // A full tile written over C is stored in place; otherwise the accumulators go to the scratch tile with plain
        // stores, and writeNarrowTile, which takes arrays only, masks and accumulates (with the twelve masked loads
        // and stores inline, C1 ran out of virtual registers on this kernel; see C1CompilationTest)
        boolean direct = cols == ALL && !accumulate;
        float[] out = direct ? c : tile;
        int at = direct ? cAt : 0;
        int stride = direct ? ldc : L;
        c0.intoArray(out, at);
        c1.intoArray(out, at + stride);
        c2.intoArray(out, at + 2 * stride);
        c3.intoArray(out, at + 3 * stride);
        c4.intoArray(out, at + 4 * stride);
        c5.intoArray(out, at + 5 * stride);
        if (!direct) {
            writeNarrowTile(tile, c, cAt, ldc, accumulate, cols);
        }
    }

    /**
     * {@link #microKernelNarrow}'s tile ({@link #MR} rows of {@code L} floats in {@code tile}) written into C, or
     * added onto it when {@code accumulate}, the first {@code cols} lanes of each row.
     */
    private static void writeNarrowTile(float[] tile, float[] c, int cAt, int ldc, boolean accumulate,
            VectorMask<Float> cols) {
        for (int r = 0; r < MR; r++) {
            FloatVector v = FloatVector.fromArray(F, tile, r * L);
            int at = cAt + r * ldc;
            if (accumulate) {
                v = v.add(FloatVector.fromArray(F, c, at, cols));
            }
            v.intoArray(c, at, cols);
        }
    }
}
