package dev.nabla.cuda;

import dev.nabla.backend.OptimizerStep;

import dev.nabla.LeakReport;
import dev.nabla.MemoryStats;
import dev.nabla.backend.AllocationTracker;

import dev.nabla.DType;
import dev.nabla.Device;
import dev.nabla.backend.Backend;
import dev.nabla.backend.BinaryOp;
import dev.nabla.backend.Buffer;
import dev.nabla.backend.FusedProgram;
import dev.nabla.backend.IndexCheck;
import dev.nabla.backend.RandomDistribution;
import dev.nabla.backend.Replay;
import dev.nabla.backend.ReduceOp;
import dev.nabla.backend.UnaryOp;
import dev.nabla.backend.WindowGeometry;

/**
 * The CUDA backend of one device: every primitive is a kernel of the shipped PTX (or a cuBLAS GEMM, or a driver
 * memcpy/memset) queued on the device's one stream, so calls return at once and the host reads ({@code read*}),
 * {@link #synchronize} and {@link #close} are the only points that wait; they also raise the errors of the index
 * checks queued since ({@link IndexErrors}).
 */
final class CudaBackend implements Backend {
    private final DeviceContext context;
    private final KernelModules modules;
    private final DriverMemory memory;
    private final CachingAllocator allocator;
    private final AllocationTracker tracker = new AllocationTracker();
    private final HostTransfer transfer;
    private final Matmul matmul;
    private final String cublasStatus;
    private final IndexErrors indexErrors;

    private final CublasSetup cublas;
    private volatile boolean closed;

    CudaBackend(Device device, CudaDriver driver) {
        this.context = DeviceContext.open(device, driver);
        this.modules = new KernelModules(context);
        this.memory = new DriverMemory(context);
        this.allocator = new CachingAllocator(device, memory, CudaBackend::reclaimUnreachableBuffers);
        this.transfer = new HostTransfer(context);
        this.cublas = CublasSetup.create(context);
        this.matmul = new Matmul(context, modules, cublas.cublas(), cublas.handle());
        this.cublasStatus = cublas.status();
        this.indexErrors = new IndexErrors(context, modules, (CudaBuffer) allocate(DType.INT32, 4));
    }

    // NOTE: the Cleaners of unreachable tensors give their blocks back only after a collection; 50 ms lets the
    // Cleaner thread drain what the GC found before the allocation is retried.
    private static void reclaimUnreachableBuffers() {
        System.gc();
        try {
            Thread.sleep(50);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public Device device() {
        return context.device();
    }

    DeviceContext context() {
        return context;
    }

    KernelModules modules() {
        return modules;
    }

    @Override
    public MemoryStats memoryStats() {
        return allocator.stats();
    }

    @Override
    public LeakReport leakReport() {
        return tracker.report(device());
    }

    /** Gives the allocator's cached free blocks back to the driver. */
    void emptyCache() {
        allocator.releaseCache();
    }

    /** One line on how GEMMs run here. */
    String cublasStatus() {
        return cublasStatus;
    }

    private static CudaBuffer cuda(Buffer b) {
        return (CudaBuffer) b;
    }

    private long blocks(long work) {
        return KernelLaunch.blocksFor(work, context.multiprocessors());
    }

    private KernelLaunch kernel(String name) {
        return KernelLaunch.of(context, name);
    }

    @Override
    public Buffer allocate(DType dtype, long size) {
        CachingAllocator.Block block = allocator.allocate(Math.max(1, size) * dtype.byteSize(), dtype);
        CudaBuffer b = new CudaBuffer(dtype, size, block, allocator);
        if (AllocationTracker.enabled()) {
            b.track(tracker.record(block.bytes(), null));
        }
        return b;
    }

    @Override
    public boolean hasPrefixViews() {
        return true;
    }

    @Override
    public Buffer prefix(Buffer buffer, long size) {
        return CudaBuffer.prefixOf(cuda(buffer), size);
    }

    @Override
    public Buffer upload(Object data, DType dtype) {
        Object host = HostArrays.toDeviceLayout(data, dtype);
        CudaBuffer b = (CudaBuffer) allocate(dtype, java.lang.reflect.Array.getLength(host));
        try {
            transfer.upload(host, dtype, b.address());
        } catch (RuntimeException e) { // e.g. refused during a graph capture
            b.release();
            throw e;
        }
        return b;
    }

    private Object download(Buffer src) {
        CudaBuffer b = cuda(src);
        Object host = transfer.download(b.address(), b.dtype(), b.size());
        indexErrors.raise();
        return host;
    }

    @Override
    public double[] readDoubles(Buffer src) {
        return HostArrays.toDoubles(download(src));
    }

    @Override
    public float[] readFloats(Buffer src) {
        return HostArrays.toFloats(download(src));
    }

    @Override
    public int[] readInts(Buffer src) {
        return HostArrays.toInts(download(src));
    }

    @Override
    public void fill(Buffer out, double value) {
        CudaBuffer o = cuda(out);
        if (o.size() == 0) {
            return;
        }
        if (Double.doubleToRawLongBits(value) == 0) { // +0 is all-zero bits in every dtype (-0 is not)
            context.run(d -> d.memsetD8Async(o.address(), (byte) 0, o.size() * o.dtype().byteSize(),
                    context.stream()));
            return;
        }
        kernel(Kernels.fill(o.dtype())).pointer(o.address()).i64(o.size()).f64(value).launch(modules, blocks(o.size()));
    }

    @Override
    public void iota(Buffer out) {
        CudaBuffer o = cuda(out);
        if (o.size() > 0) {
            kernel(Kernels.iota(o.dtype())).pointer(o.address()).i64(o.size()).launch(modules, blocks(o.size()));
        }
    }

    @Override
    public void unary(UnaryOp op, Buffer in, Buffer out) {
        CudaBuffer x = cuda(in);
        long n = x.size();
        if (n > 0) {
            kernel(Kernels.unary(op, x.dtype())).pointer(x.address()).pointer(cuda(out).address()).i64(n)
                    .launch(modules, blocks((n + 3) / 4));
        }
    }

    @Override
    public void binary(BinaryOp op, Buffer a, long[] aStrides, Buffer b, long[] bStrides, Buffer out, long[] shape) {
        CudaBuffer x = cuda(a);
        CudaBuffer y = cuda(b);
        StridedIter it = StridedIter.of(shape, aStrides, bStrides);
        long n = it.size();
        if (n == 0) {
            return;
        }
        boolean aScalar = it.isBroadcastScalar(0);
        boolean bScalar = it.isBroadcastScalar(1);
        if ((aScalar || it.isDense(0)) && (bScalar || it.isDense(1))) {
            kernel(Kernels.binaryDense(op, x.dtype())).pointer(x.address()).pointer(y.address())
                    .pointer(cuda(out).address()).i64(n).i32(aScalar ? 1 : 0).i32(bScalar ? 1 : 0)
                    .launch(modules, blocks((n + 3) / 4));
        } else if (it.rank() == 2) { // row or column broadcast (a bias add): no division per element
            long[] sa = it.strides(0);
            long[] sb = it.strides(1);
            kernel(Kernels.binary2d(op, x.dtype())).pointer(x.address()).pointer(y.address())
                    .pointer(cuda(out).address()).i64(n).i64(it.shape()[1]).i64(sa[0]).i64(sa[1]).i64(sb[0])
                    .i64(sb[1]).launch(modules, blocks(n));
        } else {
            CudaBuffer o = cuda(out);
            for (StridedIter.Chunk c : it.chunks()) { // one chunk unless more than 8 dimensions stay unmerged
                long m = c.inner().size();
                kernel(Kernels.binaryStrided(op, x.dtype())).pointer(x.address(c.offsets()[0]))
                        .pointer(y.address(c.offsets()[1])).pointer(o.address(c.first())).i64(m).iter(c.inner())
                        .launch(modules, blocks(m));
            }
        }
    }

    /**
     * One generated kernel per program structure ({@link FusedPtx}: rendered once per dtype, steps and input access
     * kinds, loaded through the driver's JIT and cached); programs it declines (a dtype other than FLOAT32/FLOAT64,
     * an op outside the fusible set) or whose parameters would not fit run step by step through
     * {@link Backend#fused}'s default.
     */
    @Override
    public void fused(FusedProgram program, Buffer[] inputs, Buffer out) {
        if (FusedPtx.declines(program) != null) {
            Backend.super.fused(program, inputs, out);
            return;
        }
        FusedPtx.Layout layout = FusedPtx.Layout.of(program);
        long n = layout.size();
        if (n == 0) {
            return;
        }
        if (layout.parameters() > FusedPtx.MAX_PARAMETERS) { // inputs x unmergeable dimensions past the limit
            Backend.super.fused(program, inputs, out);
            return;
        }
        String key = FusedPtx.key(program, layout);
        Object kernel = modules.generated(key, FusedPtx.ENTRY, () -> FusedPtx.render(program, layout));
        KernelLaunch launch = kernel("the fused kernel of " + key).pointer(cuda(out).address());
        for (Buffer in : inputs) {
            launch.pointer(cuda(in).address());
        }
        launch.i64(n);
        if (layout.anyStrided()) {
            for (long d : layout.shape()) {
                launch.i64(d);
            }
            for (int k = 0; k < inputs.length; k++) {
                if (layout.access()[k] == FusedPtx.Access.STRIDED) {
                    for (long s : layout.strides()[k]) {
                        launch.i64(s);
                    }
                }
            }
        }
        launch.launchGenerated(kernel, blocks(n));
    }

    @Override
    public void select(Buffer cond, long[] condStrides, Buffer a, long[] aStrides, Buffer b, long[] bStrides,
            Buffer out, long[] shape) {
        StridedIter it = StridedIter.of(shape, condStrides, aStrides, bStrides);
        long n = it.size();
        if (n > 0) {
            for (StridedIter.Chunk c : it.chunks()) {
                long m = c.inner().size();
                kernel(Kernels.select(a.dtype())).pointer(cuda(cond).address(c.offsets()[0]))
                        .pointer(cuda(a).address(c.offsets()[1])).pointer(cuda(b).address(c.offsets()[2]))
                        .pointer(cuda(out).address(c.first())).i64(m).iter(c.inner()).launch(modules, blocks(m));
            }
        }
    }

    @Override
    public void reduce(ReduceOp op, Buffer in, long outer, long n, long inner, Buffer out) {
        new Reduction(context, modules, allocator).run(op, cuda(in), outer, n, inner, cuda(out), this::fill);
    }

    @Override
    public void matmul(Buffer a, long[] aBatchStrides, boolean transposeA, Buffer b, long[] bBatchStrides,
            boolean transposeB, Buffer out, long[] batchShape, long m, long k, long n) {
        CudaBuffer o = cuda(out);
        if (o.size() == 0) {
            return;
        }
        if (k == 0) {
            fill(o, 0);
            return;
        }
        if (o.dtype().isFloating() || o.dtype() == DType.INT32) {
            matmul.run(cuda(a), aBatchStrides, transposeA, cuda(b), bBatchStrides, transposeB, o, batchShape, m, k, n);
            return;
        }
        // BOOL (core refuses it today): a detour through a FLOAT64 GEMM
        Buffer a64 = allocate(DType.FLOAT64, a.size());
        Buffer b64 = allocate(DType.FLOAT64, b.size());
        Buffer o64 = allocate(DType.FLOAT64, o.size());
        try {
            cast(a, a64);
            cast(b, b64);
            matmul.run(cuda(a64), aBatchStrides, transposeA, cuda(b64), bBatchStrides, transposeB, cuda(o64),
                    batchShape, m, k, n);
            cast(o64, o);
        } finally { // stream order: the blocks are reused only by work queued after these kernels
            a64.release();
            b64.release();
            o64.release();
        }
    }

    @Override
    public void copy(Buffer src, long srcOffset, long[] srcStrides, Buffer dst, long dstOffset, long[] dstStrides,
            long[] shape) {
        CudaBuffer s = cuda(src);
        CudaBuffer d = cuda(dst);
        StridedIter it = StridedIter.of(shape, srcStrides, dstStrides);
        long n = it.size();
        if (n == 0) {
            return;
        }
        if (it.isDense(0) && it.isDense(1)) {
            context.run(drv -> drv.memcpyDtoDAsync(d.address(dstOffset), s.address(srcOffset),
                    n * s.dtype().byteSize(), context.stream()));
            return;
        }
        for (StridedIter.Chunk c : it.chunks()) {
            long m = c.inner().size();
            kernel(Kernels.copy(s.dtype())).pointer(s.address()).pointer(d.address()).i64(m)
                    .i64(srcOffset + c.offsets()[0]).i64(dstOffset + c.offsets()[1]).iter(c.inner())
                    .launch(modules, blocks(m));
        }
    }

    /** The index check does not wait: a bad index is raised at the next synchronization point (IndexErrors). */
    @Override
    public void gather(Buffer src, long outer, long axisSize, long inner, Buffer indices, Buffer out,
            IndexCheck check) {
        CudaBuffer ix = cuda(indices);
        indexErrors.check(check, ix, axisSize, blocks(ix.size()));
        long total = outer * ix.size() * inner;
        if (total > 0) {
            kernel(Kernels.gather(src.dtype())).pointer(cuda(src).address()).pointer(ix.address())
                    .pointer(cuda(out).address()).i64(outer).i64(axisSize).i64(inner).i64(ix.size())
                    .launch(modules, blocks(total));
        }
    }

    @Override
    public void scatterAdd(Buffer dst, long outer, long axisSize, long inner, Buffer indices, Buffer src,
            IndexCheck check) {
        CudaBuffer ix = cuda(indices);
        indexErrors.check(check, ix, axisSize, blocks(ix.size()));
        new ScatterAdd(context, modules, allocator).run(cuda(dst), outer, axisSize, inner, ix, cuda(src));
    }

    /** One thread per column-matrix element (the SPI default computes an index array and gathers through it). */
    @Override
    public void im2col(WindowGeometry g, Buffer x, Buffer cols) {
        long n = g.rows() * g.columns();
        if (n > 0) {
            window(kernel(Kernels.im2col(x.dtype())).pointer(cuda(x).address()).pointer(cuda(cols).address()), g)
                    .launch(modules, blocks(n));
        }
    }

    /** A gather per image element, its terms in the CPU's order (the SPI default would sort a scatter-add's keys). */
    @Override
    public void col2im(WindowGeometry g, Buffer cols, Buffer x) {
        long n = g.inputSize();
        if (n > 0) {
            window(kernel(Kernels.col2im(x.dtype())).pointer(cuda(cols).address()).pointer(cuda(x).address()), g)
                    .launch(modules, blocks(n));
        }
    }

    /** One thread per window (the SPI default gathers the windows, takes an ARGMAX and looks the index up). */
    @Override
    public void maxPoolIndices(WindowGeometry g, Buffer x, Buffer indices) {
        long n = g.columns();
        if (n > 0) {
            window(kernel(Kernels.maxPoolIndices(x.dtype())).pointer(cuda(x).address())
                    .pointer(cuda(indices).address()), g).launch(modules, blocks(n));
        }
    }

    /** The window kernels' geometry arguments, in {@link WindowGeometry}'s order. */
    private static KernelLaunch window(KernelLaunch launch, WindowGeometry g) {
        return launch.i64(g.images()).i64(g.channels()).i64(g.height()).i64(g.width()).i64(g.kernelH())
                .i64(g.kernelW()).i64(g.stride()).i64(g.padTop()).i64(g.padLeft()).i64(g.outH()).i64(g.outW());
    }

    @Override
    public void cast(Buffer in, Buffer out) {
        CudaBuffer x = cuda(in);
        CudaBuffer y = cuda(out);
        long n = y.size();
        if (n == 0) {
            return;
        }
        if (x.dtype() == y.dtype()) {
            copy(x, 0, new long[] {1}, y, 0, new long[] {1}, new long[] {n});
            return;
        }
        kernel(Kernels.cast(x.dtype(), y.dtype())).pointer(x.address()).pointer(y.address()).i64(n)
                .launch(modules, blocks(n));
    }

    @Override
    public void random(RandomDistribution dist, long seed, long counter, double a, double b, Buffer out) {
        CudaBuffer o = cuda(out);
        if (!o.dtype().isFloating()) {
            throw new IllegalArgumentException("random on " + device() + ": dtype must be float32 or float64, got "
                    + o.dtype());
        }
        long n = o.size();
        if (n > 0) {
            kernel(Kernels.random(dist, o.dtype())).pointer(o.address()).i64(n).i64(seed).i64(counter).f64(a).f64(b)
                    .launch(modules, blocks((n + 3) / 4));
        }
    }

    /** A CUDA graph of the body's work (see {@link CudaGraph}), or null when it cannot be captured. */
    @Override
    public Replay capture(Runnable body) {
        return CudaGraph.capture(this, context, allocator, indexErrors, body);
    }

    @Override
    public void synchronize() {
        context.synchronize();
        indexErrors.raise();
    }

    /**
     * Waits for the stream, destroys the cuBLAS handle and gives the cached blocks back to the driver, then throws a
     * pending index error, if any. Buffers still alive keep their memory; the backend must not be used afterwards.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            context.synchronize();
            indexErrors.raise();
        } finally {
            try {
                if (cublas.cublas() != null) {
                    context.makeCurrent();
                    cublas.cublas().destroy(cublas.handle());
                }
            } finally {
                allocator.releaseCache();
            }
        }
    }

    /**
     * One fused kernel per optimizer family (kernels/src/main/cuda/optim.cu), mirroring the step's scalar definition
     * operation by operation; other dtypes take the host round trip of the default.
     */
    @Override
    public void optimizerStep(OptimizerStep step, Buffer param, Buffer grad, Buffer[] slots) {
        CudaBuffer p = cuda(param);
        DType dtype = p.dtype();
        if (!dtype.isFloating()) {
            Backend.super.optimizerStep(step, param, grad, slots);
            return;
        }
        if (p.size() == 0) {
            return;
        }
        long[] s = new long[3];
        for (int k = 0; k < slots.length; k++) {
            s[k] = cuda(slots[k]).address();
        }
        long g = cuda(grad).address();
        KernelLaunch launch = switch (step) {
            case OptimizerStep.Sgd x -> kernel(Kernels.optimizer("sgd", dtype)).pointer(p.address()).pointer(g)
                    .pointer(s[0]).i64(p.size()).f64(x.learningRate()).f64(x.momentum()).i32(x.nesterov() ? 1 : 0)
                    .f64(x.weightDecay());
            case OptimizerStep.Adam x -> kernel(Kernels.optimizer("adam", dtype)).pointer(p.address()).pointer(g)
                    .pointer(s[0]).pointer(s[1]).pointer(s[2]).i64(p.size()).f64(x.learningRate()).f64(x.alpha())
                    .f64(1 - x.beta1()).f64(1 - x.beta2()).f64(x.epsilon()).i32(x.amsgrad() ? 1 : 0)
                    .f64(x.weightDecay());
            case OptimizerStep.RmsProp x -> {
                // slots: mean square, then momentum (if any), then the mean gradient (if centered)
                long momentum = x.momentum() > 0 ? s[1] : 0;
                long mean = x.centered() ? s[x.momentum() > 0 ? 2 : 1] : 0;
                yield kernel(Kernels.optimizer("rmsprop", dtype)).pointer(p.address()).pointer(g).pointer(s[0])
                        .pointer(momentum).pointer(mean).i64(p.size()).f64(x.learningRate()).f64(x.rho())
                        .f64(1 - x.rho()).f64(x.momentum()).f64(x.epsilon()).i32(x.centered() ? 1 : 0)
                        .f64(x.weightDecay());
            }
            case OptimizerStep.Adagrad x -> kernel(Kernels.optimizer("adagrad", dtype)).pointer(p.address())
                    .pointer(g).pointer(s[0]).i64(p.size()).f64(x.learningRate()).f64(x.epsilon())
                    .f64(x.weightDecay());
        };
        launch.launch(modules, blocks(p.size()));
    }
}
