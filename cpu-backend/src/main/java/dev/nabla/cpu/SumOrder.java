package dev.nabla.cpu;

/**
 * The order in which the CPU backend adds floating-point numbers, fixed so that a sum's bits depend only on the
 * data and its shape: never on the vector width, the thread count, the split of work among threads, or the JIT tier.
 *
 * <p>A contiguous sum of {@code n} elements (a reduction over the innermost axis) cuts them into blocks of
 * {@link #BLOCK} consecutive elements (the last may be shorter). Within a block, element {@code i} (counted from the
 * block's start) is added to lane {@code i mod LANES}, lanes starting at +0 and adding in increasing {@code i}, in
 * the element dtype; the {@link #LANES} lanes are then folded pairwise, {@code lane[j] += lane[j + w]} for
 * {@code w = LANES/2, LANES/4, ..., 1}. The block results are added in sequence, from +0, in double, and the total
 * is rounded once to the element dtype.
 *
 * <p>A sum over an outer axis ({@code (outer, n, inner)} with {@code inner > 1}) adds, for each output, the
 * {@code n} values in order: FLOAT64 in one double running sum; FLOAT32 in runs of {@link #ROWS} values summed in
 * float, each run's sum added in sequence to a double total.
 *
 * <p>Why: every lane adds a few dozen values, so FLOAT32 stays within a few ulps of the exact sum where a plain float
 * running sum stops growing at 2^24; any vector of 2 to 16 floats covers whole lanes, so widths cannot change the
 * order; blocks are independent, so threads cannot either. MAX and MIN are exact in any order.
 */
final class SumOrder {
    /** Elements per block of a contiguous sum. */
    static final int BLOCK = 4096;
    /** Lanes of a block; a multiple of every vector length in elements (512 bits hold 16 floats). */
    static final int LANES = 64;
    /** Values per float run of an outer-axis FLOAT32 sum. */
    static final int ROWS = 64;

    private SumOrder() {
    }

    /** The sum of elements {@code [start, start + len)} of a row-major {@code (outer, n)} array, one block. */
    @FunctionalInterface
    interface BlockSum {
        double sum(int start, int len);
    }

    /**
     * Contiguous sums of the rows of an {@code (outer, n)} array, {@code n > 0}, whose blocks {@code block} sums in
     * this order: the blocks in parallel, then each row's block sums in sequence in double from +0 into
     * {@code out[row]} (rounded once to its dtype). A block sum is never -0 (the lanes start at +0), so a one-block
     * row gets exactly its block's sum.
     */
    static void rows(int outer, int n, CpuBuffer out, BlockSum block) {
        int blocks = (n + BLOCK - 1) / BLOCK;
        double[] sums = new double[outer * blocks];
        Parallel.range(outer * blocks, Math.max(1, Parallel.ELEMENTWISE_GRAIN / BLOCK), (lo, hi) -> {
            for (int t = lo; t < hi; t++) {
                int from = (t % blocks) * BLOCK;
                sums[t] = block.sum((t / blocks) * n + from, Math.min(BLOCK, n - from));
            }
        });
        for (int r = 0; r < outer; r++) {
            double total = 0;
            for (int b = 0; b < blocks; b++) {
                total += sums[r * blocks + b];
            }
            out.set(r, total);
        }
    }
}
