package dev.nabla.cuda;

import dev.nabla.Device;

/**
 * One GPU as the backend drives it: its driver (real or emulated), its primary context (shared with the CUDA
 * runtime, hence with cuBLAS) and the one stream every kernel, copy and GEMM of the device is queued on. Every
 * driver call of the backend goes through {@link #call}, which makes the context current on the calling thread
 * first: a kernel, copy or lookup first used from another thread never runs without a context.
 *
 * <p>The driver keeps the current context per operating-system thread. A virtual thread that parks resumes on any
 * carrier, and other code on a platform thread (cuBLAS, a user's own JCuda calls) may set another context, so no
 * Java-side "already current" cache can be trusted: every call sets it (cuCtxSetCurrent is a thread-local store
 * in the driver, tens of nanoseconds against microseconds for the launch or copy it precedes). A cache per Java
 * thread failed on the first GPU run: CUDA_ERROR_INVALID_CONTEXT from a virtual thread moved to a fresh carrier.
 */
final class DeviceContext {
    private final Device device;
    private final CudaDriver driver;
    private final Object context;
    private final Object stream;
    private final CudaDriver.Properties properties;
    private Object captureStream;          // created by the first capture
    private volatile Thread capturing;     // the thread whose work goes to captureStream, while it captures

    private DeviceContext(Device device, CudaDriver driver) {
        this.device = device;
        this.driver = driver;
        try {
            this.context = driver.openContext(device.index());
            // A blocking stream: it synchronizes with the legacy default stream, which the synchronous copies use.
            this.stream = driver.createStream();
            this.properties = driver.properties(device.index());
        } catch (CudaException e) {
            throw new CudaException(e.code(), device + " " + e.getMessage());
        }
    }

    /** Opens the device (a real driver must have been initialized by {@link DriverProbe}). */
    static DeviceContext open(Device device, CudaDriver driver) {
        return new DeviceContext(device, driver);
    }

    /** A driver call with the result. */
    interface Call<T> {
        T run(CudaDriver driver);
    }

    /** A driver call without a result. */
    interface Action {
        void run(CudaDriver driver);
    }

    /** Runs a driver call with this device's context current; its failure names the device. */
    <T> T call(Call<T> call) {
        makeCurrent();
        try {
            return call.run(driver);
        } catch (CudaException e) {
            throw new CudaException(e.code(), device + " " + e.getMessage());
        }
    }

    /** {@link #call} without a result. */
    void run(Action action) {
        call(d -> {
            action.run(d);
            return null;
        });
    }

    /** Makes this device's context current on the calling OS thread (for a virtual thread, its carrier now). */
    void makeCurrent() {
        driver.makeCurrent(context);
    }

    /** Waits for everything queued on the stream; surfaces asynchronous kernel errors. */
    void synchronize() {
        refuseWhileCapturing("cuStreamSynchronize");
        run(d -> d.streamSynchronize(stream));
    }

    /** The driver's code for a call a stream capture does not allow. */
    static final int CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED = 900;

    /**
     * Throws (CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED) when the calling thread is capturing a graph: {@code call}
     * waits for the device, frees device memory, or stages host memory a graph would read again later, none of
     * which a captured graph can replay. The capture then fails and its caller runs the work normally.
     */
    void refuseWhileCapturing(String call) {
        if (capturing == Thread.currentThread()) {
            throw new CudaException(CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED, device + " " + call
                    + " is not allowed while a CUDA graph is captured");
        }
    }

    /** True when the calling thread is capturing a graph. */
    boolean capturingHere() {
        return capturing == Thread.currentThread();
    }

    /**
     * Starts capturing the calling thread's work into a graph: from now on {@link #stream()} is, for this thread
     * only, a separate non-blocking stream in capture mode (work of other threads still runs on the device's
     * stream, and their synchronous copies never meet the capture). One capture at a time per device.
     */
    synchronized void beginCapture() {
        if (capturing != null) {
            throw new CudaException(CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED, device + " already captures a graph on "
                    + capturing.getName());
        }
        if (captureStream == null) {
            captureStream = call(CudaDriver::createNonBlockingStream);
        }
        run(d -> d.streamBeginCapture(captureStream));
        capturing = Thread.currentThread();
    }

    /** Ends the capture of {@link #beginCapture}: the graph, or a CudaException when the capture broke. */
    synchronized Object endCapture() {
        capturing = null;
        return call(d -> d.streamEndCapture(captureStream));
    }

    Device device() {
        return device;
    }

    CudaDriver driver() {
        return driver;
    }

    /** The stream this thread's work goes to: the device's stream, or the capture stream while it captures. */
    Object stream() {
        return capturing == Thread.currentThread() ? captureStream : stream;
    }

    long streamAddress() {
        return driver.streamAddress(stream());
    }

    String name() {
        return properties.name();
    }

    int multiprocessors() {
        return properties.multiprocessors();
    }

    int computeMajor() {
        return properties.computeMajor();
    }

    int computeMinor() {
        return properties.computeMinor();
    }

    long totalMemory() {
        return properties.totalMemory();
    }
}
