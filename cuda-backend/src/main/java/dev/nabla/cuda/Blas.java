package dev.nabla.cuda;

/** The cuBLAS calls the backend makes: {@link Cublas} (the library, through FFM) or the emulator's reference. */
interface Blas {
    /** A new handle (bound to the context current on this thread). */
    long createHandle();

    void destroy(long handle);

    void setStream(long handle, long stream);

    void setMathMode(long handle, int mode);

    /**
     * Column-major {@code C = op(A) op(B)} ({@code alpha = 1, beta = 0}) for FLOAT32 or FLOAT64 ({@code isDouble}),
     * {@code batchCount} times with the given element strides (a single plain GEMM when the count is 1).
     */
    void gemm(boolean isDouble, long handle, int transa, int transb, int m, int n, int k, long a, int lda,
            long strideA, long b, int ldb, long strideB, long c, int ldc, long strideC, int batchCount);
}
