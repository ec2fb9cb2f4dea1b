package dev.nabla.cuda;

import java.nio.ByteBuffer;

/**
 * Every CUDA driver call the backend makes (context, stream, events, memory, copies, module load, function lookup,
 * launch) and its cuBLAS binding, behind one small interface: {@link JcudaDriverApi} is the real driver through
 * JCuda, {@link EmulatedDriver} runs the same kernels compiled for the host, so the backend's own code (allocator,
 * staging, stream order, launch arguments, GEMM mapping) runs as written without a GPU.
 *
 * <p>Handles (contexts, streams, events, modules, functions) are opaque objects of the implementation; device
 * memory is a raw 64-bit address. Every call throws {@link CudaException} naming the call when it fails.
 */
interface CudaDriver {
    /** What a device reports. */
    record Properties(String name, int multiprocessors, int computeMajor, int computeMinor, long totalMemory) {
    }

    /** Page-locked host memory: the implementation's handle and a native-order view of its bytes. */
    record Pinned(Object handle, ByteBuffer buffer) {
    }

    /** True for the emulator (it says so in {@code Device.diagnose()}). */
    boolean emulated();

    Properties properties(int ordinal);

    /** Retains the device's primary context (cuBLAS shares it) and makes it current on the calling thread. */
    Object openContext(int ordinal);

    /** Makes {@code context} current on the calling thread. */
    void makeCurrent(Object context);

    /** A new blocking stream (it synchronizes with the legacy default stream). */
    Object createStream();

    /**
     * A new non-blocking stream ({@code CU_STREAM_NON_BLOCKING}: it does not synchronize with the legacy default
     * stream). Graphs are captured on one, so that no synchronous copy of another thread meets the capture.
     */
    Object createNonBlockingStream();

    /**
     * {@code cuStreamBeginCapture} in relaxed mode: work queued on the stream is recorded into a graph instead of
     * running until {@link #streamEndCapture}. Calls that necessarily conflict with the capture (waiting for the
     * capturing stream) fail and invalidate it; merely unsafe ones (an allocation, which the graph then keeps, as the
     * backend does with the blocks it retains) are allowed, so the backend refuses those it cannot allow itself.
     */
    void streamBeginCapture(Object stream);

    /**
     * {@code cuStreamEndCapture}: ends the capture and returns the graph, or throws (CUDA_ERROR_STREAM_CAPTURE_INVALIDATED)
     * when a call during the capture invalidated it; the stream leaves capture mode either way.
     */
    Object streamEndCapture(Object stream);

    /** {@code cuGraphInstantiate}: an executable graph. */
    Object graphInstantiate(Object graph);

    /** {@code cuGraphLaunch}: queues the whole graph on the stream as one call. */
    void graphLaunch(Object exec, Object stream);

    /** {@code cuGraphExecDestroy}. */
    void graphExecDestroy(Object exec);

    /** {@code cuGraphDestroy}. */
    void graphDestroy(Object graph);

    /** Waits for the stream; surfaces asynchronous errors. */
    void streamSynchronize(Object stream);

    /** The raw {@code CUstream} value, for cuBLAS. */
    long streamAddress(Object stream);

    /** Free device memory in bytes, or -1 when unknown. */
    long freeMemory();

    /** {@code cuMemAlloc}: a device address, or 0 when the device is out of memory. */
    long memAlloc(long bytes);

    void memFree(long address);

    /** {@code cuMemHostAlloc}. */
    Pinned hostAlloc(long bytes);

    /** Synchronous copy from a Java array (float[], double[], int[], byte[]) on the legacy default stream. */
    void memcpyHtoD(long dst, Object array, long bytes);

    /** Synchronous copy into a Java array. */
    void memcpyDtoH(Object array, long src, long bytes);

    void memcpyHtoDAsync(long dst, Pinned src, long srcOffset, long bytes, Object stream);

    void memcpyDtoHAsync(Pinned dst, long dstOffset, long src, long bytes, Object stream);

    void memcpyDtoDAsync(long dst, long src, long bytes, Object stream);

    void memsetD8Async(long dst, byte value, long count, Object stream);

    void memsetD32Async(long dst, int value, long count, Object stream);

    Object eventCreate();

    void eventRecord(Object event, Object stream);

    void eventSynchronize(Object event);

    /** True when the work recorded before the event has completed ({@code cuEventQuery}). */
    boolean eventQuery(Object event);

    /**
     * Loads a PTX module; a failure's message includes the JIT's error log. {@code name} is the module's name
     * (the emulator maps it to its compiled code).
     */
    Object moduleLoad(String name, String ptx);

    /** {@code cuModuleGetFunction}. */
    Object moduleGetFunction(Object module, String name);

    /** {@code cuLaunchKernel} with no dynamic shared memory. */
    void launch(Object function, int gridX, int gridY, int gridZ, int blockX, int blockY, int blockZ, Object stream,
            KernelArgs args);

    /** The cuBLAS binding: the library found, or null and why not ({@link BlasBinding#failures()}). */
    BlasBinding blas();

    /** cuBLAS as found: the calls, where they came from, and what failed before. */
    record BlasBinding(Blas blas, String location, java.util.List<String> failures) {
    }
}
