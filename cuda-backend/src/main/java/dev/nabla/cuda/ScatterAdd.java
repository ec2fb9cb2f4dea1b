package dev.nabla.cuda;

/**
 * {@code Backend.scatterAdd} on the device with the CPU's bits: each destination element adds its terms in list
 * order. Atomic adds, the usual way, add in whatever order the threads arrive, and the first GPU run showed float
 * sums differing in the last bit between runs (a traced col2im against the same eager one). Instead the
 * {@code (index, position)} pairs are sorted as 64-bit keys {@code index << 32 | position}, which are distinct, so
 * any correct sort gives the same order; then one thread per destination element walks its run of positions.
 *
 * <p>The sort is bitonic: every stage is a fixed pattern of compare-exchanges, so it needs no device-side counts
 * or host round trip (a CUDA graph can record it). Stages whose distances fit a 4096-key tile run in shared memory
 * in one launch per stage; each longer distance is one launch over global memory,
 * {@code log2(n / 4096)·(log2(n / 4096) + 1)/2} of them for {@code n} keys (none up to 4096 positions, 36 at 2^20),
 * each a pass over the keys: on a GPU, where a launch costs microseconds, this is the price of the CPU's bits.
 */
final class ScatterAdd {
    /** Keys one block sorts in shared memory ({@code NABLA_SORT_TILE} in indexing.cu). */
    static final long TILE = 4096;
    /** Positions sort below the 32-bit index: at most 2^32 − 1 of them. */
    private static final long MAX_POSITIONS = 0xFFFF_FFFFL;

    private final DeviceContext context;
    private final KernelModules modules;
    private final CachingAllocator allocator;

    ScatterAdd(DeviceContext context, KernelModules modules, CachingAllocator allocator) {
        this.context = context;
        this.modules = modules;
        this.allocator = allocator;
    }

    /** {@code dst[o, indices[j], i] += src[o, j, i]} in order of j; the caller has queued the index check. */
    void run(CudaBuffer dst, long outer, long axisSize, long inner, CudaBuffer indices, CudaBuffer src) {
        long count = indices.size();
        if (outer * count * inner == 0) {
            return;
        }
        if (count > MAX_POSITIONS) {
            throw new IllegalArgumentException("scatterAdd on " + context.device() + ": " + count
                    + " indices, at most " + MAX_POSITIONS);
        }
        long n = Math.max(2, Long.highestOneBit(count - 1) << 1);
        CachingAllocator.Block keys = allocator.allocate(n * Long.BYTES);
        CachingAllocator.Block starts = allocator.allocate((axisSize + 1) * Long.BYTES);
        try {
            int sms = context.multiprocessors();
            KernelLaunch.of(context, Kernels.scatterKeys()).pointer(indices.address()).pointer(keys.address())
                    .i64(count).i64(axisSize).i64(n).launch(modules, KernelLaunch.blocksFor(n, sms));
            sort(keys.address(), n);
            KernelLaunch.of(context, Kernels.scatterStarts()).pointer(keys.address()).pointer(starts.address())
                    .i64(count).i64(axisSize).launch(modules, KernelLaunch.blocksFor(axisSize + 1, sms));
            long total = outer * axisSize * inner;
            KernelLaunch.of(context, Kernels.scatterAdd(dst.dtype())).pointer(keys.address())
                    .pointer(starts.address()).pointer(src.address()).pointer(dst.address()).i64(outer)
                    .i64(axisSize).i64(inner).i64(count).launch(modules, KernelLaunch.blocksFor(total, sms));
        } finally { // safe at once: only work queued after these kernels can reuse the blocks
            allocator.free(keys);
            allocator.free(starts);
        }
    }

    /** Sorts {@code n} (a power of two) keys ascending. */
    private void sort(long keys, long n) {
        long width = Math.min(n, TILE);
        int tiles = (int) (n / width);
        int threads = (int) Math.min(KernelLaunch.THREADS, width / 2);
        tile(keys, n, 2, width, 1, tiles, threads);
        for (long size = 2 * TILE; size <= n; size <<= 1) {
            for (long distance = size / 2; distance >= TILE; distance >>= 1) {
                KernelLaunch.of(context, Kernels.sortKeysStep()).pointer(keys).i64(n).i64(size).i64(distance)
                        .launch(modules, KernelLaunch.blocksFor(n / 2, context.multiprocessors()));
            }
            tile(keys, n, size, size, TILE / 2, tiles, threads);
        }
    }

    private void tile(long keys, long n, long first, long last, long firstDistance, int tiles, int threads) {
        KernelLaunch.of(context, Kernels.sortKeysTile()).pointer(keys).i64(n).i64(first).i64(last)
                .i64(firstDistance).launch(modules, tiles, 1, 1, threads, 1);
    }
}
