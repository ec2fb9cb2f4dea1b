package dev.nabla.cuda;

/**
 * cuBLAS for one device: the binding, a handle on the device's stream with the chosen math mode, and a line for
 * {@code Device.diagnose()}; or no binding and the reason, in which case matmul runs the fallback kernel.
 *
 * <p>TF32 is off unless {@code -Dnabla.cuda.tf32=true} or {@code NABLA_CUDA_TF32=1}: FP32 GEMMs then agree with
 * the CPU backend to float32 rounding (PyTorch's default too). {@code -Dnabla.cublas=off} forces the fallback.
 */
record CublasSetup(Blas cublas, long handle, String status) {
    /** True when FP32 GEMMs may use TF32 tensor cores. */
    static boolean tf32Requested() {
        String p = System.getProperty("nabla.cuda.tf32");
        if (p == null) {
            p = System.getenv("NABLA_CUDA_TF32");
        }
        return p != null && (p.equalsIgnoreCase("true") || p.equals("1"));
    }

    static CublasSetup create(DeviceContext context) {
        if ("off".equalsIgnoreCase(System.getProperty("nabla.cublas"))) {
            return new CublasSetup(null, 0, "cuBLAS disabled (-Dnabla.cublas=off): matmul uses the tiled GEMM kernel");
        }
        context.makeCurrent(); // loading creates a handle to probe each candidate
        CudaDriver.BlasBinding loaded = context.driver().blas();
        if (loaded.blas() == null) {
            return new CublasSetup(null, 0, "cuBLAS not found (libcublas.so.13 or .12; tried "
                    + loaded.failures().size() + " places, see -Dnabla.cublas=FILE): matmul uses the tiled GEMM kernel");
        }
        try {
            context.makeCurrent();
            long handle = loaded.blas().createHandle();
            loaded.blas().setStream(handle, context.streamAddress());
            boolean tf32 = tf32Requested();
            loaded.blas().setMathMode(handle, tf32 ? Cublas.TF32_TENSOR_OP_MATH : Cublas.DEFAULT_MATH);
            String passedOver = loaded.failures().stream().filter(f -> f.contains(": binds, but ")).findFirst()
                    .map(f -> " (passed over " + f + ")").orElse("");
            return new CublasSetup(loaded.blas(), handle, "cuBLAS " + loaded.location() + ", TF32 "
                    + (tf32 ? "on" : "off") + passedOver);
        } catch (RuntimeException e) {
            return new CublasSetup(null, 0, "cuBLAS found at " + loaded.location() + " but unusable ("
                    + e.getMessage() + "): matmul uses the tiled GEMM kernel");
        }
    }
}
