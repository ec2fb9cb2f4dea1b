package dev.nabla.cuda;

/**
 * How a reduction of {@code (outer, n, inner)} is laid on the GPU: which first-pass kernel, and into how many
 * segments the reduced axis is split so that few outputs (a sum of everything) still occupy every multiprocessor.
 * With more than one segment the first pass writes partial accumulators and {@code reduce_finish} combines them.
 *
 * @param kind the first-pass kernel
 * @param segments pieces of the reduced axis per output (1: the first pass writes the output)
 * @param segmentLength elements of the reduced axis per piece (a multiple of 4 for the row kernel's packed loads)
 * @param blocks grid size of the first pass
 */
record ReducePlan(Kind kind, long segments, long segmentLength, long blocks) {
    /** The first-pass kernels of reduce.cu. */
    enum Kind {
        /** {@code inner == 1}, rows of at most {@link #LANES_ROW_LIMIT}: several rows per warp. */
        ROWS_LANES,
        /** {@code inner == 1}, short rows: a warp per row. */
        ROWS_WARP,
        /** {@code inner == 1}, long rows: a 256-thread block per (row, segment). */
        ROWS_BLOCK,
        /**
         * {@code inner > 1}: a 32 x 8 block per (32 columns, outer index, segment); for {@code inner < 32} a
         * {@link #columnWidth} x (256 / width) block, so the lanes without a column walk more of the reduced axis.
         */
        COLS
    }

    /** Rows up to this length share a warp (32 / width rows, width the power of two at least n). */
    static final long LANES_ROW_LIMIT = 16;
    /** Rows up to this length go to a warp each. */
    static final long WARP_ROW_LIMIT = 1024;
    /** A row segment is at least this long, so a block's 256 threads each load a few 16-byte packs. */
    static final long MIN_ROW_SEGMENT = 8192;
    /** A column segment spans at least this many rows of the reduced axis. */
    static final long MIN_COL_SEGMENT = 64;

    /** The plan for a GPU with {@code multiprocessors} SMs. */
    static ReducePlan choose(long outer, long n, long inner, int multiprocessors) {
        long targetBlocks = (long) Math.max(1, multiprocessors) * 8;
        long maxGrid = (long) Math.max(1, multiprocessors) * 32;
        if (inner == 1) {
            long rows = outer;
            if (n <= LANES_ROW_LIMIT) {
                long rowsPerBlock = (KernelLaunch.THREADS / 32) * (32 / laneWidth(n));
                return new ReducePlan(Kind.ROWS_LANES, 1, n, clamp((rows + rowsPerBlock - 1) / rowsPerBlock, maxGrid));
            }
            if (n <= WARP_ROW_LIMIT) {
                long warpsPerBlock = KernelLaunch.THREADS / 32;
                return new ReducePlan(Kind.ROWS_WARP, 1, n, clamp((rows + warpsPerBlock - 1) / warpsPerBlock, maxGrid));
            }
            // NOTE: half the blocks of the other kinds: a thread of the row kernel keeps four 16-byte loads in
            // flight, so four blocks per SM saturate memory, and four still fit at its 40 registers a thread where
            // eight did not (six fit, and 8 per SM ran as 1.33 waves)
            long rowTarget = targetBlocks / 2;
            long segments = Math.max(1, Math.min(ceilDiv(rowTarget, rows), n / MIN_ROW_SEGMENT));
            long length = roundUp4(ceilDiv(n, segments));
            segments = ceilDiv(n, length);
            return new ReducePlan(Kind.ROWS_BLOCK, segments, length, clamp(rows * segments, maxGrid));
        }
        long tiles = ceilDiv(inner, 32);
        long base = tiles * outer;
        long segments = Math.max(1, Math.min(ceilDiv(targetBlocks, base), n / MIN_COL_SEGMENT));
        long length = ceilDiv(n, segments);
        segments = ceilDiv(n, length);
        return new ReducePlan(Kind.COLS, segments, length, clamp(base * segments, maxGrid));
    }

    /** The block width (columns per block) of {@link Kind#COLS}: 32, or the power of two at least a smaller inner. */
    static int columnWidth(long inner) {
        return (int) Math.min(32, laneWidth(inner));
    }

    /** The lanes per row of {@link Kind#ROWS_LANES}: the power of two at least {@code n} (1 to 16). */
    static long laneWidth(long n) {
        return n <= 1 ? 1 : Long.highestOneBit(n - 1) << 1;
    }

    private static long clamp(long blocks, long max) {
        return Math.max(1, Math.min(blocks, max));
    }

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }

    private static long roundUp4(long v) {
        return (v + 3) & ~3L;
    }
}
