package dev.nabla.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.nabla.kernels.PtxResources;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@link CudaDriver} without a GPU: the kernels of {@code kernels/src/main/cuda} compiled for the host
 * ({@link EmulatorBuild}) and called through FFM, on memory from the host.
 *
 * <ul>
 *   <li>Device memory is native host memory (one arena per {@code cuMemAlloc}, 256-byte aligned, filled with 0xFF
 *       bytes so that code reading memory it never wrote sees NaNs and -1s), up to {@link #MEMORY} bytes, beyond
 *       which {@code memAlloc} reports out-of-memory as the driver does.</li>
 *   <li>A stream is one host thread that runs its queue in order: launches, async copies, memsets and event
 *       records return at once and run later, so staging buffers reused too early, missing events and reads
 *       without a synchronization give wrong results here as on a GPU. The synchronous copies wait for every
 *       stream first (the legacy default stream's rule). Errors of queued work surface at the next
 *       synchronization, as CUDA's asynchronous errors do.</li>
 *   <li>{@code cuModuleGetFunction} maps a name to the compiled kernel's invoker; a launch checks every argument
 *       against the kernel's PTX {@code .param} list and its C++ signature, packs them, and runs grid x block on the
 *       stream's thread: kernels whose PTX has {@code bar.sync} or {@code shfl.sync} with each thread a fiber,
 *       the others thread after thread.</li>
 *   <li>PTX made at run time (the fused kernels of {@link FusedPtx}) has no host code: {@code cuModuleLoadDataEx}
 *       hands it to {@link PtxInterpreter}, which runs the renderer's instruction subset, bounds-checked against
 *       the buffers the launch's pointers point into, and fails the load as a JIT error for anything else.</li>
 *   <li>cuBLAS is {@link EmulatedBlas}, a column-major reference with cuBLAS's argument conventions.</li>
 * </ul>
 */
@SuppressWarnings("restricted")
final class EmulatedDriver implements CudaDriver {
    /** Device memory the emulator hands out before it reports out-of-memory. */
    static final long MEMORY = Long.getLong("nabla.emu.memory", 4L << 30);
    /** Multiprocessors it reports: few, so that grids stay small (grid-stride loops are correct for any grid). */
    static final int MULTIPROCESSORS = 2;

    private static final int CUDA_ERROR_INVALID_VALUE = 1;
    private static final int CUDA_ERROR_NOT_FOUND = 500;
    private static final int CUDA_ERROR_LAUNCH_FAILED = 719;
    private static final Pattern ENTRY = Pattern.compile("\\.visible\\s+\\.entry\\s+(\\w+)\\s*\\(([^)]*)\\)");
    private static final Pattern PARAM = Pattern.compile(
            "\\.param\\s+(?:\\.align\\s+(\\d+)\\s+)?\\.([a-z]+)(\\d+)\\s+\\w+(?:\\[(\\d+)\\])?");

    private static final Map<String, LongAdder> LAUNCHES = new ConcurrentHashMap<>();
    private static final Map<String, LongAdder> NANOS = new ConcurrentHashMap<>();
    private static volatile EmulatedDriver instance;

    private final Path library;
    private final SymbolLookup lookup;
    private final MethodHandle launch;
    private final MethodHandle setContext;
    private final MethodHandle getContext;
    private final Map<Long, Block> blocks = new ConcurrentHashMap<>();

    private record Block(Arena arena, long bytes) {
    }
    /** The allocated blocks by address (their sizes), to find the buffer a kernel's pointer points into. */
    private final java.util.concurrent.ConcurrentSkipListMap<Long, Long> extents =
            new java.util.concurrent.ConcurrentSkipListMap<>();
    private final AtomicLong used = new AtomicLong();
    private final List<Stream> streams = new ArrayList<>();
    private final Map<Long, Stream> streamsById = new ConcurrentHashMap<>();
    private final AtomicLong ids = new AtomicLong(1);
    private final EmulatedBlas blas = new EmulatedBlas(this);

    /** A kernel: its invoker, its C++ parameter sizes, its PTX parameter sizes and alignments, fibers or not. */
    record Function(String name, MemorySegment invoke, long[] cSizes, int[] ptxSizes, int[] ptxAligns,
            boolean fibers) {
    }

    /**
     * One stream: a thread running its queue in order, and the first error of its queued work. While it captures,
     * work is recorded into {@link #capture} instead of running.
     */
    static final class Stream {
        final long id;
        final boolean blocking;
        final ExecutorService thread;
        final AtomicReference<RuntimeException> error = new AtomicReference<>();
        volatile List<Runnable> capture;
        volatile boolean invalidated;
        Thread capturingThread;

        Stream(long id, boolean blocking) {
            this.id = id;
            this.blocking = blocking;
            this.thread = Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, "cuda-emu stream " + id);
                t.setDaemon(true);
                return t;
            });
        }

        /** Queues {@code work}, or records it while the stream captures (the future is then complete). */
        CompletableFuture<Void> enqueue(Runnable work) {
            List<Runnable> recording = capture;
            if (recording != null) {
                recording.add(work);
                return CompletableFuture.completedFuture(null);
            }
            return execute(work);
        }

        private CompletableFuture<Void> execute(Runnable work) {
            return CompletableFuture.runAsync(() -> {
                if (error.get() != null) {
                    return; // a failed stream runs nothing more until the error is reported
                }
                try {
                    work.run();
                } catch (RuntimeException e) {
                    error.compareAndSet(null, e);
                }
            }, thread);
        }

        void synchronize() {
            try {
                execute(() -> { }).get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CudaException(CUDA_ERROR_LAUNCH_FAILED, "interrupted while waiting for the stream");
            } catch (ExecutionException e) {
                throw new IllegalStateException(e.getCause());
            }
            RuntimeException e = error.getAndSet(null);
            if (e != null) {
                throw e instanceof CudaException c ? new CudaException(c.code(), c.getMessage()
                        + " (reported at the next synchronization)") : e;
            }
        }
    }

    /** An event: completes when the stream reaches its last record. */
    static final class Event {
        volatile CompletableFuture<Void> recorded;
    }

    /** A loaded module: its kernels by name. */
    record Module(String name, Map<String, Function> functions) {
    }

    private EmulatedDriver(Path library) {
        this.library = library;
        this.lookup = SymbolLookup.libraryLookup(library, Arena.global());
        this.launch = Linker.nativeLinker().downcallHandle(lookup.find("nabla_emu_launch").orElseThrow(),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT,
                        JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
        this.setContext = Linker.nativeLinker().downcallHandle(lookup.find("nabla_emu_set_context").orElseThrow(),
                FunctionDescriptor.ofVoid(JAVA_LONG));
        this.getContext = Linker.nativeLinker().downcallHandle(lookup.find("nabla_emu_get_context").orElseThrow(),
                FunctionDescriptor.of(JAVA_LONG));
        String coverage = System.getProperty("nabla.emu.coverage");
        if (coverage != null && !coverage.isBlank()) {
            Runtime.getRuntime().addShutdownHook(new Thread(() -> writeCoverage(Path.of(coverage))));
        }
    }

    /** The emulator of this JVM, building its library on first use; throws with the reason when it cannot. */
    static synchronized EmulatedDriver instance() {
        if (instance == null) {
            EmulatorBuild.Result r = EmulatorBuild.result();
            if (r.library() == null) {
                throw new IllegalStateException("cuda-emu unavailable: " + r.reason());
            }
            instance = new EmulatedDriver(r.library());
        }
        return instance;
    }

    Path library() {
        return library;
    }

    @Override
    public boolean emulated() {
        return true;
    }

    @Override
    public Properties properties(int ordinal) {
        return new Properties("Nabla CUDA emulator (the kernels compiled for the host by "
                + EmulatorBuild.result().compiler() + ")", MULTIPROCESSORS, 7, 5, MEMORY);
    }

    private static final int CUDA_ERROR_INVALID_CONTEXT = 201;
    /** The emulator's one context, as the library's per-OS-thread current context holds it (0 is none). */
    private static final long CONTEXT_ID = 1;
    private final Object context = "cuda-emu context";
    private final LongAdder hostWaits = new LongAdder();
    private final LongAdder syncCopies = new LongAdder();

    @Override
    public Object openContext(int ordinal) {
        if (ordinal != 0) {
            throw new CudaException(101, "cuDevicePrimaryCtxRetain failed: CUDA_ERROR_INVALID_DEVICE (101): the "
                    + "emulator has one device");
        }
        setContext(CONTEXT_ID);
        return context;
    }

    @Override
    public void makeCurrent(Object context) {
        setContext(context == this.context ? CONTEXT_ID : 0);
    }

    /** Sets the calling OS thread's current context, as cuCtxSetCurrent does (a carrier's, for a virtual thread). */
    private void setContext(long id) {
        try {
            setContext.invokeExact(id);
        } catch (Throwable t) {
            throw new IllegalStateException("cuda-emu: nabla_emu_set_context failed", t);
        }
    }

    private long currentContext() {
        try {
            return (long) getContext.invokeExact();
        } catch (Throwable t) {
            throw new IllegalStateException("cuda-emu: nabla_emu_get_context failed", t);
        }
    }

    /** A driver call that needs a current context fails without one, as {@code CUDA_ERROR_INVALID_CONTEXT}. */
    private void needContext(String call) {
        if (currentContext() != CONTEXT_ID) {
            throw new CudaException(CUDA_ERROR_INVALID_CONTEXT, call + " failed: CUDA_ERROR_INVALID_CONTEXT (201): "
                    + "no context is current on thread " + Thread.currentThread().getName());
        }
    }

    /** How often the host waited for a stream or an event (synchronizations, synchronous copies included). */
    long hostWaits() {
        return hostWaits.sum();
    }

    /** How many synchronous host-to-device and device-to-host copies ran. */
    long synchronousCopies() {
        return syncCopies.sum();
    }

    @Override
    public Object createStream() {
        return newStream(true);
    }

    @Override
    public Object createNonBlockingStream() {
        return newStream(false);
    }

    private Object newStream(boolean blocking) {
        needContext("cuStreamCreate");
        Stream s = new Stream(ids.getAndIncrement(), blocking);
        synchronized (this) {
            streams.add(s);
        }
        streamsById.put(s.id, s);
        return s;
    }

    @Override
    public void streamSynchronize(Object stream) {
        needContext("cuStreamSynchronize");
        Stream s = (Stream) stream;
        if (s.capture != null) {
            throw captureUnsupported("cuStreamSynchronize", s);
        }
        hostWaits.increment();
        s.synchronize();
    }

    // ---- stream capture and graphs, in relaxed capture mode as the backend begins it: only calls that necessarily
    // conflict with the capture fail (waiting for the capturing stream, directly or through the legacy stream's
    // implicit synchronization); the backend refuses the merely unsafe ones itself (DeviceContext.refuseWhileCapturing)
    private static final int CUDA_ERROR_ILLEGAL_STATE = 401;
    private static final int CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED = 900;
    private static final int CUDA_ERROR_STREAM_CAPTURE_INVALIDATED = 901;
    private static final int CUDA_ERROR_STREAM_CAPTURE_IMPLICIT = 906;
    private static final int CUDA_ERROR_STREAM_CAPTURE_WRONG_THREAD = 908;
    /** The stream the calling thread captures, if any (one capture per thread). */
    private static final ThreadLocal<Stream> CAPTURING = new ThreadLocal<>();
    private final LongAdder kernelLaunches = new LongAdder();
    private final LongAdder graphLaunches = new LongAdder();

    /** A captured graph: the recorded work, in stream order (the backend captures one stream, so a chain). */
    record Graph(List<Runnable> work) {
    }

    /** An instantiated graph; launching it queues its work as one item of the stream. */
    static final class GraphExec {
        final List<Runnable> work;
        volatile boolean destroyed;

        GraphExec(List<Runnable> work) {
            this.work = work;
        }
    }

    private static CudaException captureUnsupported(String call, Stream s) {
        s.invalidated = true;
        return new CudaException(CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED, call + " failed: "
                + "CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED (900): not allowed while stream " + s.id
                + " captures a graph (the capture is invalidated)");
    }

    @Override
    public void streamBeginCapture(Object stream) {
        needContext("cuStreamBeginCapture");
        Stream s = (Stream) stream;
        if (s.capture != null || CAPTURING.get() != null) {
            throw new CudaException(CUDA_ERROR_ILLEGAL_STATE, "cuStreamBeginCapture failed: "
                    + "CUDA_ERROR_ILLEGAL_STATE (401): a capture is already in progress");
        }
        s.invalidated = false;
        s.capturingThread = Thread.currentThread();
        s.capture = java.util.Collections.synchronizedList(new ArrayList<>());
        CAPTURING.set(s);
    }

    @Override
    public Object streamEndCapture(Object stream) {
        needContext("cuStreamEndCapture");
        Stream s = (Stream) stream;
        List<Runnable> recorded = s.capture;
        if (recorded == null) {
            throw new CudaException(CUDA_ERROR_ILLEGAL_STATE, "cuStreamEndCapture failed: "
                    + "CUDA_ERROR_ILLEGAL_STATE (401): stream " + s.id + " is not capturing");
        }
        if (s.capturingThread != Thread.currentThread()) {
            throw new CudaException(CUDA_ERROR_STREAM_CAPTURE_WRONG_THREAD, "cuStreamEndCapture failed: "
                    + "CUDA_ERROR_STREAM_CAPTURE_WRONG_THREAD (908)");
        }
        s.capture = null;
        s.capturingThread = null;
        CAPTURING.remove();
        if (s.invalidated) {
            throw new CudaException(CUDA_ERROR_STREAM_CAPTURE_INVALIDATED, "cuStreamEndCapture failed: "
                    + "CUDA_ERROR_STREAM_CAPTURE_INVALIDATED (901)");
        }
        return new Graph(List.copyOf(recorded));
    }

    @Override
    public Object graphInstantiate(Object graph) {
        needContext("cuGraphInstantiate");
        return new GraphExec(((Graph) graph).work());
    }

    @Override
    public void graphLaunch(Object exec, Object stream) {
        needContext("cuGraphLaunch");
        GraphExec g = (GraphExec) exec;
        if (g.destroyed) {
            throw new CudaException(CUDA_ERROR_INVALID_VALUE, "cuGraphLaunch failed: CUDA_ERROR_INVALID_VALUE (1): "
                    + "the graph was destroyed");
        }
        graphLaunches.increment();
        ((Stream) stream).enqueue(() -> g.work.forEach(Runnable::run));
    }

    @Override
    public void graphExecDestroy(Object exec) {
        needContext("cuGraphExecDestroy");
        ((GraphExec) exec).destroyed = true;
    }

    @Override
    public void graphDestroy(Object graph) {
        needContext("cuGraphDestroy");
    }

    /** Kernel launches queued to run ({@code cuLaunchKernel} outside a capture) since the JVM started. */
    long kernelLaunches() {
        return kernelLaunches.sum();
    }

    /** {@code cuGraphLaunch} calls since the JVM started. */
    long graphLaunches() {
        return graphLaunches.sum();
    }

    @Override
    public long streamAddress(Object stream) {
        return ((Stream) stream).id;
    }

    Stream stream(long address) {
        Stream s = streamsById.get(address);
        if (s == null) {
            throw new IllegalStateException("unknown stream " + address);
        }
        return s;
    }

    private synchronized List<Stream> allStreams() {
        return List.copyOf(streams);
    }

    /**
     * The legacy default stream's rule: a synchronous copy starts after the work of every blocking stream (a blocking
     * stream that captures cannot be waited for: that invalidates its capture); non-blocking streams are not waited.
     */
    private void waitForLegacyStreams() {
        for (Stream s : allStreams()) {
            if (s.capture != null && s.blocking) {
                s.invalidated = true;
                throw new CudaException(CUDA_ERROR_STREAM_CAPTURE_IMPLICIT, "synchronous copy failed: "
                        + "CUDA_ERROR_STREAM_CAPTURE_IMPLICIT (906): blocking stream " + s.id + " captures a graph");
            }
            if (s.blocking) {
                s.synchronize();
            }
        }
    }

    /** {@code cuMemFree}'s rule: the whole device is idle first (a capturing stream has nothing running). */
    private void waitForAllStreams() {
        for (Stream s : allStreams()) {
            if (s.capture == null) {
                s.synchronize();
            }
        }
    }

    @Override
    public long freeMemory() {
        return MEMORY - used.get();
    }

    @Override
    public long memAlloc(long bytes) {
        needContext("cuMemAlloc");
        if (bytes <= 0) {
            throw new CudaException(CUDA_ERROR_INVALID_VALUE, "cuMemAlloc(" + bytes + " bytes) failed: "
                    + "CUDA_ERROR_INVALID_VALUE (1)");
        }
        if (used.addAndGet(bytes) > MEMORY) {
            used.addAndGet(-bytes);
            return 0;
        }
        Arena arena = Arena.ofShared();
        MemorySegment s = arena.allocate(bytes, 256);
        s.fill((byte) 0xFF);
        blocks.put(s.address(), new Block(arena, bytes));
        extents.put(s.address(), bytes);
        return s.address();
    }

    @Override
    public void memFree(long address) {
        needContext("cuMemFree");
        Block a = blocks.remove(address);
        if (a == null) {
            throw new IllegalStateException("free of unknown device address 0x" + Long.toHexString(address));
        }
        extents.remove(address);
        // cuMemFree synchronizes the device: no queued work can still use the block
        waitForAllStreams();
        used.addAndGet(-a.bytes());
        a.arena().close();
    }

    @Override
    public Pinned hostAlloc(long bytes) {
        needContext("cuMemHostAlloc");
        MemorySegment s = Arena.ofShared().allocate(bytes, 4096);
        return new Pinned(s, s.asByteBuffer().order(ByteOrder.nativeOrder()));
    }

    static MemorySegment at(long address, long bytes) {
        return MemorySegment.ofAddress(address).reinterpret(bytes);
    }

    private static MemorySegment heap(Object array) {
        return switch (array) {
            case float[] f -> MemorySegment.ofArray(f);
            case double[] d -> MemorySegment.ofArray(d);
            case int[] i -> MemorySegment.ofArray(i);
            case byte[] b -> MemorySegment.ofArray(b);
            default -> throw new IllegalArgumentException("no host copy for " + array.getClass().getSimpleName());
        };
    }

    @Override
    public void memcpyHtoD(long dst, Object array, long bytes) {
        needContext("cuMemcpyHtoD");
        syncCopies.increment();
        hostWaits.increment();
        waitForLegacyStreams();
        MemorySegment.copy(heap(array), 0, at(dst, bytes), 0, bytes);
    }

    @Override
    public void memcpyDtoH(Object array, long src, long bytes) {
        needContext("cuMemcpyDtoH");
        syncCopies.increment();
        hostWaits.increment();
        waitForLegacyStreams();
        MemorySegment.copy(at(src, bytes), 0, heap(array), 0, bytes);
    }

    @Override
    public void memcpyHtoDAsync(long dst, Pinned src, long srcOffset, long bytes, Object stream) {
        needContext("cuMemcpyHtoDAsync");
        MemorySegment from = (MemorySegment) src.handle();
        ((Stream) stream).enqueue(() -> MemorySegment.copy(from, srcOffset, at(dst, bytes), 0, bytes));
    }

    @Override
    public void memcpyDtoHAsync(Pinned dst, long dstOffset, long src, long bytes, Object stream) {
        needContext("cuMemcpyDtoHAsync");
        MemorySegment to = (MemorySegment) dst.handle();
        ((Stream) stream).enqueue(() -> MemorySegment.copy(at(src, bytes), 0, to, dstOffset, bytes));
    }

    @Override
    public void memcpyDtoDAsync(long dst, long src, long bytes, Object stream) {
        needContext("cuMemcpyDtoDAsync");
        ((Stream) stream).enqueue(() -> MemorySegment.copy(at(src, bytes), 0, at(dst, bytes), 0, bytes));
    }

    @Override
    public void memsetD8Async(long dst, byte value, long count, Object stream) {
        needContext("cuMemsetD8Async");
        ((Stream) stream).enqueue(() -> at(dst, count).fill(value));
    }

    @Override
    public void memsetD32Async(long dst, int value, long count, Object stream) {
        needContext("cuMemsetD32Async");
        ((Stream) stream).enqueue(() -> {
            MemorySegment s = at(dst, count * 4);
            for (long i = 0; i < count; i++) {
                s.setAtIndex(JAVA_INT, i, value);
            }
        });
    }

    @Override
    public Object eventCreate() {
        needContext("cuEventCreate");
        return new Event();
    }

    @Override
    public void eventRecord(Object event, Object stream) {
        needContext("cuEventRecord");
        if (((Stream) stream).capture != null) {
            // NOTE: stricter than the driver, which records an event node; the backend never records events into a
            // graph (only its staging ring uses events, and uploads refuse to run during a capture)
            throw captureUnsupported("cuEventRecord", (Stream) stream);
        }
        ((Event) event).recorded = ((Stream) stream).enqueue(() -> { });
    }

    @Override
    public void eventSynchronize(Object event) {
        needContext("cuEventSynchronize");
        CompletableFuture<Void> f = ((Event) event).recorded;
        if (f != null && !f.isDone()) {
            hostWaits.increment();
            f.join();
        }
    }

    @Override
    public boolean eventQuery(Object event) {
        CompletableFuture<Void> f = ((Event) event).recorded;
        return f == null || f.isDone();
    }

    @Override
    public Object moduleLoad(String name, String ptx) {
        needContext("cuModuleLoadDataEx");
        EmulatedJit.Failure refused = EmulatedJit.check(ptx);
        if (refused != null) { // the JIT's verdict comes before the code: a module it refuses never runs
            throw new CudaException(refused.code(), KernelModules.loadFailure(name, refused.code(), ptx,
                    EmulatedJit.DRIVER_VERSION, refused.log()));
        }
        if (lookup.find("nabla_emu_module_" + name).isEmpty()) {
            return interpretedModule(name, ptx); // PTX made at run time: no host code, so the interpreter's JIT
        }
        MemorySegment table = lookup.find("nabla_emu_module_" + name).orElseThrow(() -> new CudaException(
                CUDA_ERROR_NOT_FOUND, "cuModuleLoadDataEx(" + name + ") failed: the emulator has no module " + name));
        Map<String, int[][]> params = ptxParams(ptx);
        Map<String, Function> functions = new HashMap<>();
        try (Arena arena = Arena.ofConfined()) {
            MethodHandle get = Linker.nativeLinker().downcallHandle(table, FunctionDescriptor.of(ADDRESS, ADDRESS));
            MemorySegment count = arena.allocate(JAVA_LONG);
            MemorySegment entries = ((MemorySegment) get.invokeExact(count)).reinterpret(32 * count.get(JAVA_LONG, 0));
            for (long i = 0; i < count.get(JAVA_LONG, 0); i++) {
                String kernel = entries.get(ADDRESS, i * 32).reinterpret(256).getString(0, StandardCharsets.US_ASCII);
                MemorySegment invoke = entries.get(ADDRESS, i * 32 + 8);
                long n = entries.get(JAVA_LONG, i * 32 + 16);
                MemorySegment sizes = entries.get(ADDRESS, i * 32 + 24).reinterpret(8 * n);
                long[] cSizes = new long[(int) n];
                for (int p = 0; p < n; p++) {
                    cSizes[p] = sizes.getAtIndex(JAVA_LONG, p);
                }
                int[][] ptxParam = params.get(kernel);
                if (ptxParam == null) {
                    throw new CudaException(CUDA_ERROR_NOT_FOUND, "module " + name + ": kernel " + kernel
                            + " was compiled for the host but is not in " + name + ".ptx (stale PTX?)");
                }
                if (!java.util.Arrays.equals(cSizes, java.util.Arrays.stream(ptxParam[0]).asLongStream().toArray())) {
                    throw new CudaException(CUDA_ERROR_INVALID_VALUE, "module " + name + ": kernel " + kernel
                            + " has parameters of " + java.util.Arrays.toString(cSizes) + " bytes in C++ but "
                            + java.util.Arrays.toString(ptxParam[0]) + " in the PTX (stale PTX?)");
                }
                functions.put(kernel, new Function(kernel, invoke, cSizes, ptxParam[0], ptxParam[1],
                        ptxParam[2][0] != 0));
            }
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
        return new Module(name, functions);
    }

    /** Per kernel of a PTX text: its parameters' sizes, their alignments, and whether it needs fibers. */
    static Map<String, int[][]> ptxParams(String ptx) {
        Map<String, int[][]> out = new HashMap<>();
        Matcher m = ENTRY.matcher(ptx);
        List<int[]> starts = new ArrayList<>();
        List<String> names = new ArrayList<>();
        List<String> lists = new ArrayList<>();
        while (m.find()) {
            starts.add(new int[] {m.start(), m.end()});
            names.add(m.group(1));
            lists.add(m.group(2));
        }
        for (int e = 0; e < names.size(); e++) {
            List<Integer> sizes = new ArrayList<>();
            List<Integer> aligns = new ArrayList<>();
            Matcher p = PARAM.matcher(lists.get(e));
            while (p.find()) {
                int bits = Integer.parseInt(p.group(3));
                int element = bits / 8;
                int count = p.group(4) != null ? Integer.parseInt(p.group(4)) : 1;
                sizes.add(element * count);
                aligns.add(p.group(1) != null ? Integer.parseInt(p.group(1)) : element);
            }
            String body = ptx.substring(starts.get(e)[1], e + 1 < names.size() ? starts.get(e + 1)[0] : ptx.length());
            boolean fibers = body.contains("bar.sync") || body.contains("barrier.sync") || body.contains("shfl.sync");
            out.put(names.get(e), new int[][] {sizes.stream().mapToInt(Integer::intValue).toArray(),
                    aligns.stream().mapToInt(Integer::intValue).toArray(), {fibers ? 1 : 0}});
        }
        return out;
    }

    @Override
    public Object moduleGetFunction(Object module, String name) {
        needContext("cuModuleGetFunction");
        if (module instanceof Interpreted i) {
            return interpretedFunction(i, name);
        }
        Function f = ((Module) module).functions().get(name);
        if (f == null) {
            throw new CudaException(CUDA_ERROR_NOT_FOUND, "cuModuleGetFunction(" + name
                    + ") failed: CUDA_ERROR_NOT_FOUND (500) (kernel missing from the PTX?)");
        }
        return f;
    }

    @Override
    public void launch(Object function, int gridX, int gridY, int gridZ, int blockX, int blockY, int blockZ,
            Object stream, KernelArgs args) {
        needContext("cuLaunchKernel");
        if (function instanceof PtxInterpreter.Kernel k) {
            launchInterpreted(k, gridX, gridY, gridZ, blockX, blockY, blockZ, (Stream) stream, args);
            return;
        }
        Function f = (Function) function;
        List<KernelArgs.Arg> list = args.list();
        if (list.size() != f.ptxSizes().length || list.size() != f.cSizes().length) {
            throw new CudaException(CUDA_ERROR_INVALID_VALUE, "cuLaunchKernel(" + f.name() + ") failed: "
                    + list.size() + " arguments, the PTX declares " + f.ptxSizes().length + " parameters");
        }
        long offset = 0;
        long[] offsets = new long[list.size()];
        for (int i = 0; i < list.size(); i++) {
            int bytes = list.get(i).bytes();
            if (bytes != f.ptxSizes()[i] || bytes != f.cSizes()[i]) {
                throw new CudaException(CUDA_ERROR_INVALID_VALUE, "cuLaunchKernel(" + f.name() + ") failed: "
                        + "argument " + i + " is " + describe(list.get(i)) + " (" + bytes + " bytes), the PTX "
                        + "parameter is " + f.ptxSizes()[i] + " bytes and the C++ one " + f.cSizes()[i]);
            }
            int align = Math.max(f.ptxAligns()[i], 1);
            offset = (offset + align - 1) / align * align;
            offsets[i] = offset;
            offset += bytes;
        }
        // the parameters are copied now, as cuLaunchKernel copies them: the caller may reuse its values at once; a
        // captured launch keeps them as long as its graph (an automatic arena, freed when the graph is unreachable)
        Stream target = (Stream) stream;
        boolean captured = target.capture != null;
        Arena arena = captured ? Arena.ofAuto() : Arena.ofShared();
        MemorySegment values = arena.allocate(Math.max(offset, 8), 16);
        MemorySegment pointers = arena.allocate(ADDRESS, Math.max(1, list.size()));
        for (int i = 0; i < list.size(); i++) {
            long o = offsets[i];
            switch (list.get(i)) {
                case KernelArgs.Ptr p -> values.set(JAVA_LONG, o, p.address());
                case KernelArgs.I64 v -> values.set(JAVA_LONG, o, v.value());
                case KernelArgs.I32 v -> values.set(JAVA_INT, o, v.value());
                case KernelArgs.F64 v -> values.set(JAVA_DOUBLE, o, v.value());
                case KernelArgs.Iter it -> MemorySegment.copy(MemorySegment.ofArray(it.packed()), 0, values, o,
                        it.packed().length * 8L);
            }
            pointers.setAtIndex(ADDRESS, i, values.asSlice(o));
        }
        LAUNCHES.computeIfAbsent(f.name(), k -> new LongAdder()).increment();
        if (!captured) {
            kernelLaunches.increment();
        }
        target.enqueue(() -> {
            try {
                MemorySegment error = arena.allocate(512);
                long start = System.nanoTime();
                int r = (int) launch.invokeExact(f.invoke(), pointers, gridX, gridY, gridZ, blockX, blockY, blockZ,
                        f.fibers() ? 1 : 0, error, 512);
                NANOS.computeIfAbsent(f.name(), k -> new LongAdder()).add(System.nanoTime() - start);
                if (r != 0) {
                    throw new CudaException(CUDA_ERROR_LAUNCH_FAILED, "kernel " + f.name() + " failed: "
                            + error.getString(0, StandardCharsets.US_ASCII));
                }
            } catch (RuntimeException | Error e) {
                throw e;
            } catch (Throwable t) {
                throw new IllegalStateException(t);
            } finally {
                if (!captured) {
                    arena.close();
                }
            }
        });
    }

    /**
     * Runs an invoker of the emulator's calling convention now, on this thread (for the runtime's own tests):
     * returns null, or the runtime's error (a deadlock, a barrier outside fibers, a bad configuration).
     */
    String launchNow(MemorySegment invoke, MemorySegment args, int gridX, int blockX, int blockY, boolean fibers) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment error = arena.allocate(512);
            int r = (int) launch.invokeExact(invoke, args, gridX, 1, 1, blockX, blockY, 1, fibers ? 1 : 0, error, 512);
            return r == 0 ? null : error.getString(0, StandardCharsets.US_ASCII);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    // ---- PTX made at run time (FusedPtx's kernels), run by PtxInterpreter -----------------------------------------

    /** A module the interpreter compiled: its one kernel. */
    record Interpreted(String name, PtxInterpreter.Kernel kernel) {
    }

    private static final int CUDA_ERROR_INVALID_PTX = 218;

    private Interpreted interpretedModule(String name, String ptx) {
        try {
            return new Interpreted(name, PtxInterpreter.compile(ptx, this::hostFunction));
        } catch (PtxInterpreter.Unsupported e) {
            throw new CudaException(CUDA_ERROR_INVALID_PTX, "cuModuleLoadDataEx(" + name + ") failed: "
                    + "CUDA_ERROR_INVALID_PTX (218): JIT log: the emulator has no host code for module " + name
                    + " and its PTX interpreter cannot run it: " + e.getMessage());
        }
    }

    /** An extern "C" function of the host library (the fusion math library's), or null. */
    private MethodHandle hostFunction(String name, FunctionDescriptor descriptor) {
        return lookup.find(name).map(s -> Linker.nativeLinker().downcallHandle(s, descriptor)).orElse(null);
    }

    private static Object interpretedFunction(Interpreted module, String name) {
        if (!module.kernel().name().equals(name)) {
            throw new CudaException(CUDA_ERROR_NOT_FOUND, "cuModuleGetFunction(" + name
                    + ") failed: CUDA_ERROR_NOT_FOUND (500) (module " + module.name() + " defines "
                    + module.kernel().name() + ")");
        }
        return module.kernel();
    }

    /**
     * Checks the arguments as the compiled path does (count, 8 bytes each), finds the buffer each pointer points
     * into (the only memory the kernel may touch), copies the values and queues the interpreted grid.
     */
    private void launchInterpreted(PtxInterpreter.Kernel k, int gridX, int gridY, int gridZ, int blockX, int blockY,
            int blockZ, Stream stream, KernelArgs args) {
        List<KernelArgs.Arg> list = args.list();
        if (list.size() != k.parameters()) {
            throw new CudaException(CUDA_ERROR_INVALID_VALUE, "cuLaunchKernel(" + k.name() + ") failed: "
                    + list.size() + " arguments, the PTX declares " + k.parameters() + " parameters");
        }
        if (gridY != 1 || gridZ != 1 || blockY != 1 || blockZ != 1) {
            throw new CudaException(CUDA_ERROR_INVALID_VALUE, "cuLaunchKernel(" + k.name() + ") failed: the "
                    + "PTX interpreter runs 1-D grids and blocks only");
        }
        long[] values = new long[list.size()];
        List<long[]> ranges = new ArrayList<>();
        for (int i = 0; i < values.length; i++) {
            switch (list.get(i)) {
                case KernelArgs.Ptr p -> {
                    values[i] = p.address();
                    Map.Entry<Long, Long> block = extents.floorEntry(p.address());
                    if (block != null && p.address() < block.getKey() + block.getValue()) {
                        ranges.add(new long[] {block.getKey(), block.getKey() + block.getValue()});
                    }
                }
                case KernelArgs.I64 v -> values[i] = v.value();
                default -> throw new CudaException(CUDA_ERROR_INVALID_VALUE, "cuLaunchKernel(" + k.name()
                        + ") failed: argument " + i + " is " + describe(list.get(i)) + ", the PTX parameter is "
                        + "a .u64");
            }
        }
        long[][] bounds = ranges.toArray(new long[0][]);
        LAUNCHES.computeIfAbsent(k.name(), n -> new LongAdder()).increment();
        stream.enqueue(() -> {
            long start = System.nanoTime();
            try {
                k.run(values, gridX, blockX, bounds);
            } catch (CudaException e) {
                throw new CudaException(CUDA_ERROR_LAUNCH_FAILED, "kernel " + k.name() + " failed: "
                        + e.getMessage());
            }
            NANOS.computeIfAbsent(k.name(), n -> new LongAdder()).add(System.nanoTime() - start);
        });
    }

    private static String describe(KernelArgs.Arg a) {
        return switch (a) {
            case KernelArgs.Ptr p -> "a pointer";
            case KernelArgs.I64 v -> "a long";
            case KernelArgs.I32 v -> "an int";
            case KernelArgs.F64 v -> "a double";
            case KernelArgs.Iter it -> "a StridedIter";
        };
    }

    @Override
    public BlasBinding blas() {
        return new BlasBinding(blas, "the emulator's column-major reference GEMM", List.of());
    }

    /** Launch counts by kernel name since the JVM started. */
    static Map<String, Long> launches() {
        Map<String, Long> m = new TreeMap<>();
        LAUNCHES.forEach((k, v) -> m.put(k, v.sum()));
        return m;
    }

    /** Every kernel of the PTX, by module. */
    static List<String> allKernels() {
        List<String> all = new ArrayList<>();
        for (String m : Kernels.modules()) {
            all.addAll(PtxInfo.entries(PtxResources.text(m)));
        }
        return all;
    }

    private static void writeCoverage(Path file) {
        try {
            Map<String, Long> runs = launches();
            List<String> all = allKernels();
            List<String> lines = new ArrayList<>();
            long executed = all.stream().filter(runs::containsKey).count();
            lines.add("# cuda-emu kernel coverage: " + executed + " of " + all.size() + " kernels executed");
            lines.add("# kernel launches milliseconds");
            for (String k : all) {
                LongAdder ns = NANOS.get(k);
                lines.add(k + " " + runs.getOrDefault(k, 0L) + " " + (ns == null ? 0 : ns.sum() / 1_000_000));
            }
            Files.createDirectories(file.toAbsolutePath().getParent());
            Files.write(file, lines);
            System.out.println("cuda-emu: " + executed + " of " + all.size() + " kernels executed (" + file + ")");
        } catch (IOException | RuntimeException e) {
            System.err.println("cuda-emu: cannot write coverage to " + file + ": " + e);
        }
    }
}
