package dev.nabla.cuda;

import dev.nabla.DType;

/**
 * Batched row-major GEMM on one device: cuBLAS when it loaded, else the tiled {@code gemm_<dtype>} kernel.
 *
 * <p>cuBLAS is column-major; a row-major (m, n) matrix is the column-major (n, m) transpose, so
 * {@code C = op(A) op(B)} is computed as {@code C^T = op(B)^T op(A)^T}: swap the operands and m with n, keep the
 * transpose flags, and no data moves. Batches: the batch dimensions are merged where every operand steps
 * uniformly (broadcast included: stride 0); one strided-batched call covers the innermost merged dimension and a
 * host loop the rest, which for the usual (b, m, k) @ (k, n) shapes is a single call.
 */
final class Matmul {
    private final DeviceContext context;
    private final KernelModules modules;
    private final Blas cublas;
    private final long handle;
    private long handleStream;   // the stream the handle queues on (set when it changes: capture uses another)
    /**
     * The largest grid the fallback kernel is launched with in each dimension: CUDA's 65,535 in y and z (x allows
     * 2^31 - 1, far past any tile count). {@code -Dnabla.cuda.gemmGridLimit} lowers it: the kernel's loop over the
     * tiles its grid does not cover is otherwise only reached beyond four million rows.
     */
    private final int gridLimit = Math.max(1, Integer.getInteger("nabla.cuda.gemmGridLimit", 65535));

    /** @param cublas the binding, or null for the fallback kernel; {@code handle} must belong to this device */
    Matmul(DeviceContext context, KernelModules modules, Blas cublas, long handle) {
        this.context = context;
        this.modules = modules;
        this.cublas = cublas;
        this.handle = handle;
        this.handleStream = cublas == null ? 0 : context.streamAddress();
    }

    /** True when GEMMs go to cuBLAS. */
    boolean usesCublas() {
        return cublas != null;
    }

    /**
     * FLOAT32/FLOAT64 buffers through cuBLAS or the kernel, INT32 through the kernel (it wraps in two's complement,
     * as INT32 matmul is defined; cuBLAS has no such GEMM); see {@code Backend.matmul}. {@code k > 0} and a non-empty
     * output.
     */
    void run(CudaBuffer a, long[] aBatch, boolean ta, CudaBuffer b, long[] bBatch, boolean tb, CudaBuffer out,
            long[] batchShape, long m, long k, long n) {
        long[] outBatch = denseBatchStrides(batchShape, m * n);
        StridedIter batches = StridedIter.of(batchShape, aBatch, bBatch, outBatch);
        boolean fits = m <= Integer.MAX_VALUE && n <= Integer.MAX_VALUE && k <= Integer.MAX_VALUE;
        if (cublas != null && fits && out.dtype().isFloating()) {
            runCublas(a, ta, b, tb, out, batches, (int) m, (int) k, (int) n);
        } else {
            runKernel(a, ta, b, tb, out, batches, m, k, n);
        }
    }

    static long[] denseBatchStrides(long[] batchShape, long matrixSize) {
        long[] s = new long[batchShape.length];
        long step = matrixSize;
        for (int d = batchShape.length - 1; d >= 0; d--) {
            s[d] = step;
            step *= batchShape[d];
        }
        return s;
    }

    // NOTE: synchronized: one cuBLAS handle per device, and a handle must not be used by two threads at once
    private synchronized void runCublas(CudaBuffer a, boolean ta, CudaBuffer b, boolean tb, CudaBuffer out, StridedIter batches,
            int m, int k, int n) {
        boolean isDouble = out.dtype() == DType.FLOAT64;
        int rank = batches.rank();
        long[] shape = batches.shape();
        long[] sa = batches.strides(0);
        long[] sb = batches.strides(1);
        long[] sc = batches.strides(2);
        long inner = rank == 0 ? 1 : shape[rank - 1];
        long innerA = rank == 0 ? 0 : sa[rank - 1];
        long innerB = rank == 0 ? 0 : sb[rank - 1];
        long innerC = rank == 0 ? 0 : sc[rank - 1];
        long outerCount = batches.size() / Math.max(1, inner);
        int lda = ta ? m : k;
        int ldb = tb ? k : n;
        context.makeCurrent(); // cuBLAS launches on the context current on this thread
        long stream = context.streamAddress();
        if (stream != handleStream) { // into a graph being captured on this thread, or back to the device's stream
            cublas.setStream(handle, stream);
            handleStream = stream;
        }
        for (long outer = 0; outer < outerCount; outer++) {
            long oa = 0;
            long ob = 0;
            long oc = 0;
            long rest = outer;
            for (int d = rank - 2; d >= 0; d--) { // the outer batch dimensions, by the host
                long idx = rest % shape[d];
                rest /= shape[d];
                oa += idx * sa[d];
                ob += idx * sb[d];
                oc += idx * sc[d];
            }
            for (long first = 0; first < inner; first += Integer.MAX_VALUE) {
                int count = (int) Math.min(Integer.MAX_VALUE, inner - first);
                // C^T (n x m) = op(B)^T (n x k) . op(A)^T (k x m), all column-major views of the row-major buffers
                cublas.gemm(isDouble, handle, tb ? Cublas.OP_T : Cublas.OP_N, ta ? Cublas.OP_T : Cublas.OP_N, n, m, k,
                        b.address(ob + first * innerB), ldb, innerB, a.address(oa + first * innerA), lda, innerA,
                        out.address(oc + first * innerC), n, innerC, count);
            }
        }
    }

    private void runKernel(CudaBuffer a, boolean ta, CudaBuffer b, boolean tb, CudaBuffer out, StridedIter batches,
            long m, long k, long n) {
        // the kernel loops over its tiles, so the grid only needs to fill the GPU: capped in every dimension
        long tilesX = (n + 63) / 64;
        long tilesY = (m + 63) / 64;
        int gridX = (int) Math.min(tilesX, gridLimit == 65535 ? Integer.MAX_VALUE : gridLimit);
        int gridY = (int) Math.min(tilesY, gridLimit);
        for (StridedIter.Chunk c : batches.chunks()) { // one chunk unless more than 8 batch dimensions stay
            long count = c.inner().size();
            int gridZ = (int) Math.min(count, gridLimit);
            KernelLaunch.of(context, Kernels.gemm(out.dtype()))
                    .pointer(a.address(c.offsets()[0])).pointer(b.address(c.offsets()[1]))
                    .pointer(out.address(c.offsets()[2]))
                    .i64(m).i64(n).i64(k).i64(count).i32(ta ? 1 : 0).i32(tb ? 1 : 0).iter(c.inner())
                    .launch(modules, gridX, gridY, gridZ, KernelLaunch.THREADS, 1);
        }
    }
}
