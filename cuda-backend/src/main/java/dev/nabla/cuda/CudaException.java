package dev.nabla.cuda;

/** A CUDA driver call failed; the message names the call, the device and the driver's error name. */
public final class CudaException extends RuntimeException {
    private final int code;

    CudaException(int code, String message) {
        super(message);
        this.code = code;
    }

    /** The driver's {@code CUresult} code. */
    public int code() {
        return code;
    }
}
