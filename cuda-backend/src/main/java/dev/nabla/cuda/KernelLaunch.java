package dev.nabla.cuda;

/**
 * One kernel launch: the arguments in the order of the kernel's C signature, then {@link #launch}. Device pointers
 * travel as their 64-bit addresses; a {@link StridedIter} travels by value as its packed longs.
 */
final class KernelLaunch {
    /** Threads per block of the 1-D kernels. */
    static final int THREADS = 256;

    private final DeviceContext context;
    private final String kernel;
    private final KernelArgs args = new KernelArgs();

    private KernelLaunch(DeviceContext context, String kernel) {
        this.context = context;
        this.kernel = kernel;
    }

    /** A launch of {@code kernel} on {@code context}'s stream. */
    static KernelLaunch of(DeviceContext context, String kernel) {
        return new KernelLaunch(context, kernel);
    }

    KernelLaunch pointer(long address) {
        args.add(new KernelArgs.Ptr(address));
        return this;
    }

    KernelLaunch i64(long value) {
        args.add(new KernelArgs.I64(value));
        return this;
    }

    KernelLaunch i32(int value) {
        args.add(new KernelArgs.I32(value));
        return this;
    }

    KernelLaunch f64(double value) {
        args.add(new KernelArgs.F64(value));
        return this;
    }

    KernelLaunch iter(StridedIter it) {
        args.add(new KernelArgs.Iter(it.pack()));
        return this;
    }

    /** Queues a 1-D launch of {@code blocks} x {@link #THREADS}. */
    void launch(KernelModules modules, long blocks) {
        launch(modules, (int) blocks, 1, 1, THREADS, 1);
    }

    /** Queues a 1-D launch of {@code blocks} x {@link #THREADS} of a kernel already looked up (generated PTX). */
    void launchGenerated(Object function, long blocks) {
        queue(function, (int) blocks, 1, 1, THREADS, 1);
    }

    /** Queues a launch with an explicit grid and block shape (no dynamic shared memory). */
    void launch(KernelModules modules, int gridX, int gridY, int gridZ, int blockX, int blockY) {
        queue(modules.function(kernel), gridX, gridY, gridZ, blockX, blockY);
    }

    private void queue(Object f, int gridX, int gridY, int gridZ, int blockX, int blockY) {
        try {
            context.run(d -> d.launch(f, gridX, gridY, gridZ, blockX, blockY, 1, context.stream(), args));
        } catch (CudaException e) {
            throw new CudaException(e.code(), e.getMessage() + " (launch of " + kernel + ")");
        }
    }

    /**
     * Blocks for a grid-stride loop over {@code work} items of {@link #THREADS} threads: enough to fill the GPU,
     * capped so huge tensors do not launch millions of short-lived blocks.
     */
    static long blocksFor(long work, int multiprocessors) {
        long needed = (work + THREADS - 1) / THREADS;
        long cap = (long) Math.max(1, multiprocessors) * 32;
        return Math.max(1, Math.min(needed, cap));
    }
}
