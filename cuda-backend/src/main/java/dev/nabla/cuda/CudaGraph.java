package dev.nabla.cuda;

import dev.nabla.DType;
import dev.nabla.backend.Replay;
import java.util.List;

/**
 * A CUDA graph captured from the backend's own calls ({@code cuStreamBeginCapture} on a capture stream,
 * {@code cuStreamEndCapture}, {@code cuGraphInstantiate}) and launched with one {@code cuGraphLaunch} on the
 * device's stream.
 *
 * <p>What the capture keeps: the blocks the body freed (a reduction's scratch space, temporaries), whose addresses
 * the graph baked in, stay out of the allocator's cache until {@link #close}; the index checks of the body write the
 * graph's own error record ({@link IndexErrors}). What fails it: anything that waits for the device, uploads through
 * the staging ring, or frees device memory ({@link DeviceContext#refuseWhileCapturing}), and the driver's own
 * refusals; then {@link #capture} returns null and nothing of the body ran. Capture runs in relaxed mode, so an
 * allocation from the driver during the capture is allowed: the graph keeps the block (PyTorch's private graph pool,
 * in small).
 */
final class CudaGraph implements Replay {
    private static final System.Logger LOG = System.getLogger("dev.nabla");

    private final DeviceContext context;
    private final CachingAllocator allocator;
    private final IndexErrors indexErrors;
    private final Object graph;
    private final Object exec;
    private final List<CachingAllocator.Retained> kept;
    private final IndexErrors.Record errors;
    private boolean closed;

    private CudaGraph(DeviceContext context, CachingAllocator allocator, IndexErrors indexErrors, Object graph,
            Object exec, List<CachingAllocator.Retained> kept, IndexErrors.Record errors) {
        this.context = context;
        this.allocator = allocator;
        this.indexErrors = indexErrors;
        this.graph = graph;
        this.exec = exec;
        this.kept = kept;
        this.errors = errors;
    }

    /** The body's work as a graph, or null when it cannot be captured (nothing ran). */
    static CudaGraph capture(CudaBackend backend, DeviceContext context, CachingAllocator allocator,
            IndexErrors indexErrors, Runnable body) {
        // before the capture: allocating and resetting the graph's error record are not capturable
        IndexErrors.Record errors = new IndexErrors.Record((CudaBuffer) backend.allocate(DType.INT32, 4));
        indexErrors.reset(errors);
        Object graph = null;
        RuntimeException failure = null;
        List<CachingAllocator.Retained> kept;
        try {
            context.beginCapture();
        } catch (CudaException e) { // another thread captures on this device
            errors.buffer.release();
            return null;
        }
        allocator.retainFreesOf(Thread.currentThread());
        indexErrors.captureInto(errors);
        try {
            body.run();
        } catch (RuntimeException e) {
            failure = e;
        } finally {
            indexErrors.captureEnded();
            kept = allocator.stopRetaining();
            try {
                graph = context.endCapture();
            } catch (CudaException e) {
                if (failure == null) {
                    failure = e;
                }
            }
        }
        Object exec = null;
        if (failure == null) {
            try {
                Object g = graph;
                exec = context.call(d -> d.graphInstantiate(g));
            } catch (CudaException e) {
                failure = e;
            }
        }
        if (failure != null) {
            if (graph != null) {
                Object g = graph;
                context.run(d -> d.graphDestroy(g));
            }
            free(allocator, kept);
            errors.buffer.release();
            String why = failure.getMessage();
            LOG.log(System.Logger.Level.DEBUG, () -> context.device() + ": not captured as a CUDA graph (" + why
                    + "); run without a graph");
            return null;
        }
        return new CudaGraph(context, allocator, indexErrors, graph, exec, kept, errors);
    }

    private static void free(CachingAllocator allocator, List<CachingAllocator.Retained> kept) {
        for (CachingAllocator.Retained r : kept) {
            allocator.free(r.block(), r.dtype());
        }
    }

    @Override
    public synchronized void launch() {
        if (closed) {
            throw new IllegalStateException(context.device() + ": CUDA graph launched after close()");
        }
        indexErrors.launched(errors, () -> context.run(d -> d.graphLaunch(exec, context.stream())));
    }

    /** Destroys the graph; its kept blocks return to the cache (stream order: after its last launch's work). */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        context.run(d -> {
            d.graphExecDestroy(exec);
            d.graphDestroy(graph);
        });
        free(allocator, kept);
        indexErrors.retire(errors);
    }
}
