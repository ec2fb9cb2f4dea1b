package dev.nabla.cuda;

import jcuda.driver.CUresult;

/** Checks driver return codes (JCuda runs with exceptions disabled, so every call's code is ours to read). */
final class CudaCalls {
    private CudaCalls() {
    }

    /** Throws a {@link CudaException} naming {@code what} unless {@code result} is CUDA_SUCCESS. */
    static void check(int result, String what) {
        if (result != CUresult.CUDA_SUCCESS) {
            throw new CudaException(result, what + " failed: " + errorName(result));
        }
    }

    /** The symbolic name of a driver result, e.g. {@code CUDA_ERROR_OUT_OF_MEMORY (2)}. */
    static String errorName(int result) {
        String name;
        try {
            name = CUresult.stringFor(result);
        } catch (RuntimeException | LinkageError e) {
            name = "CUDA error";
        }
        return name + " (" + result + ")";
    }
}
