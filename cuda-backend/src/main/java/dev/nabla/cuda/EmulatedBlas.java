package dev.nabla.cuda;

import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import java.lang.foreign.MemorySegment;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The emulator's cuBLAS: a column-major reference GEMM with cuBLAS's argument conventions (operation flags,
 * leading dimensions, strided batches, a handle bound to a stream), queued on the handle's stream. It checks the
 * arguments as cuBLAS does ({@code CUBLAS_STATUS_INVALID_VALUE} for a leading dimension smaller than the rows of
 * the stored matrix), so {@link Matmul}'s row-major mapping is exercised, not trusted. Products accumulate in the
 * GEMM's dtype over k in order, without FMA (cuBLAS's order is its own, so real results may differ in the last
 * bits).
 */
final class EmulatedBlas implements Blas {
    private final EmulatedDriver driver;
    private final AtomicLong handles = new AtomicLong(1);
    private final Map<Long, Long> streams = new ConcurrentHashMap<>();
    private final java.util.Set<Long> inUse = ConcurrentHashMap.newKeySet();

    EmulatedBlas(EmulatedDriver driver) {
        this.driver = driver;
    }

    @Override
    public long createHandle() {
        long h = handles.getAndIncrement();
        streams.put(h, 0L);
        return h;
    }

    @Override
    public void destroy(long handle) {
        check(streams.remove(handle) != null, "cublasDestroy_v2", 1);
    }

    @Override
    public void setStream(long handle, long stream) {
        check(streams.containsKey(handle), "cublasSetStream_v2", 1);
        streams.put(handle, stream);
    }

    @Override
    public void setMathMode(long handle, int mode) {
        check(streams.containsKey(handle), "cublasSetMathMode", 1);
    }

    private static void check(boolean ok, String call, int status) {
        if (!ok) {
            throw new IllegalStateException(call + " failed: " + Cublas.statusName(status));
        }
    }

    @Override
    public void gemm(boolean isDouble, long handle, int transa, int transb, int m, int n, int k, long a, int lda,
            long strideA, long b, int ldb, long strideB, long c, int ldc, long strideC, int batchCount) {
        String name = isDouble ? "cublasDgemm" : "cublasSgemm";
        Long stream = streams.get(handle);
        check(stream != null, name, 1);
        check(stream != 0, name + " (no stream set: the legacy default stream is not emulated)", 7);
        boolean ta = transa == Cublas.OP_T;
        boolean tb = transb == Cublas.OP_T;
        check((transa == Cublas.OP_N || ta) && (transb == Cublas.OP_N || tb), name, 7);
        check(m >= 0 && n >= 0 && k >= 0 && batchCount >= 1, name, 7);
        check(lda >= Math.max(1, ta ? k : m), name + " (lda " + lda + ")", 7);
        check(ldb >= Math.max(1, tb ? n : k), name + " (ldb " + ldb + ")", 7);
        check(ldc >= Math.max(1, m), name + " (ldc " + ldc + ")", 7);
        int size = isDouble ? 8 : 4;
        long aCols = ta ? m : k;
        long bCols = tb ? k : n;
        if (m == 0 || n == 0) {
            return;
        }
        // a cuBLAS handle is not thread-safe: two threads inside one handle at once is an error here
        if (!inUse.add(handle)) {
            throw new IllegalStateException(name + " failed: handle " + handle + " used by two threads at once "
                    + "(cuBLAS handles are not thread-safe)");
        }
        try {
            java.util.concurrent.locks.LockSupport.parkNanos(50_000); // widen the window a real call occupies
            enqueue(isDouble, stream, ta, tb, m, n, k, a, lda, strideA, b, ldb, strideB, c, ldc, strideC, batchCount,
                    size, aCols, bCols);
        } finally {
            inUse.remove(handle);
        }
    }

    private void enqueue(boolean isDouble, long stream, boolean ta, boolean tb, int m, int n, int k, long a, int lda,
            long strideA, long b, int ldb, long strideB, long c, int ldc, long strideC, int batchCount, int size,
            long aCols, long bCols) {
        driver.stream(stream).enqueue(() -> {
            for (int batch = 0; batch < batchCount; batch++) {
                MemorySegment sa = EmulatedDriver.at(a + batch * strideA * size, ((aCols - 1) * lda + (ta ? k : m)) * size);
                MemorySegment sb = EmulatedDriver.at(b + batch * strideB * size, ((bCols - 1) * ldb + (tb ? n : k)) * size);
                MemorySegment sc = EmulatedDriver.at(c + batch * strideC * size, ((long) (n - 1) * ldc + m) * size);
                for (int j = 0; j < n; j++) {
                    for (int i = 0; i < m; i++) {
                        if (isDouble) {
                            double acc = 0;
                            for (int l = 0; l < k; l++) {
                                double x = sa.getAtIndex(JAVA_DOUBLE, ta ? l + (long) i * lda : i + (long) l * lda);
                                double y = sb.getAtIndex(JAVA_DOUBLE, tb ? j + (long) l * ldb : l + (long) j * ldb);
                                acc += x * y;
                            }
                            sc.setAtIndex(JAVA_DOUBLE, i + (long) j * ldc, acc);
                        } else {
                            float acc = 0;
                            for (int l = 0; l < k; l++) {
                                float x = sa.getAtIndex(JAVA_FLOAT, ta ? l + (long) i * lda : i + (long) l * lda);
                                float y = sb.getAtIndex(JAVA_FLOAT, tb ? j + (long) l * ldb : l + (long) j * ldb);
                                acc += x * y;
                            }
                            sc.setAtIndex(JAVA_FLOAT, i + (long) j * ldc, acc);
                        }
                    }
                }
            }
        });
    }
}
