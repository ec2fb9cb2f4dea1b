package dev.nabla.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;

/**
 * {@code cuLaunchKernel} and {@code cuCtxSetCurrent} of the real driver bound with {@code java.lang.foreign}: the two
 * calls every eager op makes. NOTE: JCuda marshals a launch's arguments as one Java array per argument, each pinned
 * and read through JNI, which made a 16-element add cost 13.7 us of host time on an H200 against PyTorch's 9.1; here
 * the arguments are written into one reused native block and passed as the {@code void**} the driver wants.
 *
 * <p>Loaded once per JVM from {@code libcuda.so.1} (already loaded by JCuda's driver binding); {@link #get} is null
 * where the symbols cannot be bound, and the caller then launches through JCuda.
 */
@SuppressWarnings("restricted")
final class NativeLaunch {
    /** Bytes of one thread's argument block: the pointer table, then the values (a StridedIter is 33 longs). */
    private static final int BLOCK_BYTES = 8192;

    private static final NativeLaunch INSTANCE = load();

    private final MethodHandle launchKernel;
    private final MethodHandle ctxSetCurrent;
    // One block per thread: a launch writes its arguments and the driver copies them before cuLaunchKernel returns.
    private final ThreadLocal<MemorySegment> blocks =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(BLOCK_BYTES, 16));

    private NativeLaunch(SymbolLookup lib) {
        Linker linker = Linker.nativeLinker();
        // (f, gridX, gridY, gridZ, blockX, blockY, blockZ, sharedMemBytes, stream, kernelParams, extra)
        launchKernel = linker.downcallHandle(find(lib, "cuLaunchKernel"), FunctionDescriptor.of(JAVA_INT, JAVA_LONG,
                JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS, ADDRESS));
        ctxSetCurrent = linker.downcallHandle(find(lib, "cuCtxSetCurrent"), FunctionDescriptor.of(JAVA_INT, JAVA_LONG));
    }

    private static MemorySegment find(SymbolLookup lib, String name) {
        return lib.find(name).orElseThrow(() -> new IllegalStateException("symbol " + name + " not found"));
    }

    private static NativeLaunch load() {
        if (Boolean.getBoolean("nabla.cuda.jcudaLaunch")) {
            return null;
        }
        try {
            return new NativeLaunch(SymbolLookup.libraryLookup("libcuda.so.1", Arena.global()));
        } catch (RuntimeException | LinkageError e) {
            return null;
        }
    }

    /** The binding, or null where libcuda.so.1 or its symbols could not be bound (or -Dnabla.cuda.jcudaLaunch=true). */
    static NativeLaunch get() {
        return INSTANCE;
    }

    /** cuCtxSetCurrent(context): the driver's result code. */
    int setCurrent(long context) {
        try {
            return (int) ctxSetCurrent.invokeExact(context);
        } catch (Throwable t) {
            throw new IllegalStateException("cuCtxSetCurrent through FFM failed", t);
        }
    }

    /** cuLaunchKernel without dynamic shared memory: the driver's result code. */
    int launch(long function, int gridX, int gridY, int gridZ, int blockX, int blockY, int blockZ, long stream,
            KernelArgs args) {
        long bytes = blockBytes(args);
        if (bytes <= BLOCK_BYTES) {
            return launchWith(blocks.get(), function, gridX, gridY, gridZ, blockX, blockY, blockZ, stream, args);
        }
        try (Arena arena = Arena.ofConfined()) {
            return launchWith(arena.allocate(bytes, 16), function, gridX, gridY, gridZ, blockX, blockY, blockZ,
                    stream, args);
        }
    }

    private int launchWith(MemorySegment block, long function, int gridX, int gridY, int gridZ, int blockX,
            int blockY, int blockZ, long stream, KernelArgs args) {
        write(block, args);
        try {
            return (int) launchKernel.invokeExact(function, gridX, gridY, gridZ, blockX, blockY, blockZ, 0, stream,
                    block, MemorySegment.NULL);
        } catch (Throwable t) {
            throw new IllegalStateException("cuLaunchKernel through FFM failed", t);
        }
    }

    /** Bytes {@link #write} needs for {@code args}: a pointer per argument, then each value on 8 bytes. */
    static long blockBytes(KernelArgs args) {
        long bytes = 8L * args.list().size();
        for (KernelArgs.Arg a : args.list()) {
            bytes += slotBytes(a);
        }
        return bytes;
    }

    /** The bytes a value takes in the block: its size rounded up to 8, so that every value is 8-byte aligned. */
    private static long slotBytes(KernelArgs.Arg a) {
        return (a.bytes() + 7) & ~7;
    }

    /**
     * Writes {@code args} as the driver's {@code void** kernelParams}: at {@code block} the table of pointers, the
     * i-th to the i-th value, the values after the table, each 8-byte aligned. {@code block} must hold
     * {@link #blockBytes} bytes.
     */
    static void write(MemorySegment block, KernelArgs args) {
        int count = args.list().size();
        long value = 8L * count;
        for (int i = 0; i < count; i++) {
            KernelArgs.Arg a = args.list().get(i);
            block.set(JAVA_LONG, 8L * i, block.address() + value);
            switch (a) {
                case KernelArgs.Ptr p -> block.set(JAVA_LONG, value, p.address());
                case KernelArgs.I64 v -> block.set(JAVA_LONG, value, v.value());
                case KernelArgs.I32 v -> block.set(JAVA_INT, value, v.value());
                case KernelArgs.F64 v -> block.set(JAVA_DOUBLE, value, v.value());
                case KernelArgs.Iter it -> MemorySegment.copy(it.packed(), 0, block, JAVA_LONG, value,
                        it.packed().length);
            }
            value += slotBytes(a);
        }
    }
}
