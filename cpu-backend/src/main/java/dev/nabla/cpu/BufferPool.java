package dev.nabla.cpu;

import dev.nabla.DType;
import dev.nabla.Device;
import dev.nabla.MemoryStats;
import dev.nabla.OutOfDeviceMemoryException;
import dev.nabla.backend.MemoryEvents;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reuses the arrays of released buffers. Fresh large arrays cost page faults on first touch (about 4x the time of
 * an add over reused memory on the 2-core reference machine), so released arrays wait here for the next request of
 * the same dtype and length. Small arrays are left to the garbage collector, which allocates them cheaply.
 *
 * <p>It also keeps the CPU's {@link MemoryStats}: an array of {@link #MIN_POOLED_BYTES} or more is live from
 * {@link #take} to {@link #give} (a buffer's array until its release, a kernel's scratch array until the kernel gives
 * it back); reserved adds the free arrays waiting here. Small arrays are not counted: no one gives them back.
 */
final class BufferPool {
    /** Below this many bytes an array is not pooled, nor counted. */
    static final int MIN_POOLED_BYTES = 1 << 14;
    /** How long a request that found the heap full waits for Cleaners to hand back arrays (as the CUDA backend). */
    static final long RECLAIM_WAIT_MILLIS = 50;
    private final long capacityBytes;
    /**
     * The free arrays by dtype and length, the sizes in the order of their last take or give (eldest first): when a
     * give finds the pool full, the least recently used sizes make room ({@link #give}).
     */
    private final LinkedHashMap<Long, ArrayDeque<Object>> free = new LinkedHashMap<>(16, 0.75f, true);
    private long pooledBytes;
    private long allocatedBytes;
    private long liveArrays;
    private long peakBytes;

    private final GcNudge nudge;
    /** Whether {@link #take} fills what it returns with garbage ({@link #poisoned}). */
    private final boolean poison;

    BufferPool(long capacityBytes) {
        this(capacityBytes, GcNudge.fromProperties(capacityBytes), false);
    }

    BufferPool(long capacityBytes, GcNudge nudge) {
        this(capacityBytes, nudge, false);
    }

    private BufferPool(long capacityBytes, GcNudge nudge, boolean poison) {
        this.capacityBytes = capacityBytes;
        this.nudge = nudge;
        this.poison = poison;
    }

    /**
     * A pool for tests whose every {@link #take} returns an array full of garbage (NaN, -1, 0x5A), new ones too: a
     * fresh array is all zeros, so a kernel that leaves part of a taken array unwritten and reads it as zeros passes
     * with the normal pool until that size comes back from other work.
     */
    static BufferPool poisoned(long capacityBytes) {
        return new BufferPool(capacityBytes, GcNudge.fromProperties(capacityBytes), true);
    }

    private static long key(DType dtype, int length) {
        return ((long) length << 3) | dtype.ordinal();
    }

    private static final DType[] DTYPES = DType.values();

    /** The bytes of an array of the dtype and length of {@link #key}. */
    private static long bytes(long key) {
        return (key >>> 3) * DTYPES[(int) (key & 7)].byteSize();
    }

    /** Whether arrays of this many bytes are pooled and counted. */
    static boolean pooled(long bytes) {
        return bytes >= MIN_POOLED_BYTES;
    }

    /** An array of exactly {@code length} elements, reused when possible; contents undefined. */
    Object take(DType dtype, int length) {
        Object array = takeArray(dtype, length);
        if (poison) {
            switch (array) {
                case float[] f -> java.util.Arrays.fill(f, Float.NaN);
                case double[] d -> java.util.Arrays.fill(d, Double.NaN);
                case int[] i -> java.util.Arrays.fill(i, -1);
                case byte[] b -> java.util.Arrays.fill(b, (byte) 0x5A);
                default -> throw new IllegalStateException("an array of " + array.getClass());
            }
        }
        return array;
    }

    private Object takeArray(DType dtype, int length) {
        long bytes = (long) length * dtype.byteSize();
        if (!pooled(bytes)) {
            return newArray(dtype, length);
        }
        Object array = null;
        long allocated;
        long live;
        boolean newPeak;
        synchronized (this) {
            ArrayDeque<Object> q = free.get(key(dtype, length));
            if (q != null && !q.isEmpty()) {
                pooledBytes -= bytes;
                array = q.pop();
            }
            allocated = allocatedBytes += bytes;
            live = ++liveArrays;
            newPeak = allocated > peakBytes;
            if (newPeak) {
                peakBytes = allocated;
            }
        }
        if (array == null && nudge.onMiss(allocated)) {
            // the collection found the dead tensors; their Cleaners give the arrays back on the Cleaner thread:
            // wait for that a little (up to about 2 ms) rather than allocate and zero a fresh array
            array = awaitReturned(dtype, length, bytes, GcNudge.WAIT_STEPS, GcNudge.WAIT_STEP_NANOS);
        }
        if (array == null) {
            array = allocate(dtype, length, bytes);
        }
        MemoryEvents.allocation(Device.cpu(), dtype, bytes, allocated, live);
        if (newPeak) {
            MemoryEvents.peak(Device.cpu(), allocated);
        }
        return array;
    }

    /** A free array of this dtype and length from the pool, or null (counters already moved by the caller). */
    private Object poll(DType dtype, int length, long bytes) {
        synchronized (this) {
            ArrayDeque<Object> q = free.get(key(dtype, length));
            if (q != null && !q.isEmpty()) {
                pooledBytes -= bytes;
                return q.pop();
            }
        }
        return null;
    }

    /**
     * After a collection: an array of this dtype and length as the Cleaner thread hands one back, looked for
     * {@code tries} times {@code pauseNanos} apart; null if none came.
     */
    private Object awaitReturned(DType dtype, int length, long bytes, int tries, long pauseNanos) {
        for (int i = 0; i < tries; i++) {
            Object array = poll(dtype, length, bytes);
            if (array != null) {
                return array;
            }
            java.util.concurrent.locks.LockSupport.parkNanos(pauseNanos);
        }
        return null;
    }

    /**
     * A fresh array; when the heap has no room for one, what the CUDA allocator does on the device: the arrays
     * waiting here are dropped, a collection finds the unreachable tensors, the request takes an array of its size
     * that their Cleaners hand back within {@link #RECLAIM_WAIT_MILLIS}, or else tries once more after a second
     * collection (which frees what came back in other sizes); then {@link OutOfDeviceMemoryException}. Without this,
     * code that closes nothing ran out of a 256 MiB heap at its fifth step of 16 MiB tensors: a collection alone
     * frees nothing, because a dead tensor's array stays reachable from its Cleaner until the Cleaner thread runs.
     */
    private Object allocate(DType dtype, int length, long bytes) {
        try {
            return newArray(dtype, length);
        } catch (OutOfMemoryError first) {
            clear();
            System.gc();
            Object back = awaitReturned(dtype, length, bytes, (int) RECLAIM_WAIT_MILLIS, 1_000_000);
            if (back != null) {
                return back;
            }
            clear();
            System.gc();
            try {
                return newArray(dtype, length);
            } catch (OutOfMemoryError second) {
                synchronized (this) {
                    allocatedBytes -= bytes;
                    liveArrays--;
                }
                Runtime rt = Runtime.getRuntime();
                OutOfDeviceMemoryException e = new OutOfDeviceMemoryException(Device.cpu(), bytes,
                        rt.maxMemory() - rt.totalMemory() + rt.freeMemory());
                e.initCause(second);
                throw e;
            }
        }
    }

    private static Object newArray(DType dtype, int length) {
        return switch (dtype) {
            case FLOAT32 -> new float[length];
            case FLOAT64 -> new double[length];
            case INT32 -> new int[length];
            case BOOL -> new byte[length];
        };
    }

    /**
     * Returns an array from {@link #take} for reuse; at most once per take. When the pool is full, the free arrays of
     * the least recently used sizes are dropped to make room; the array itself is dropped only when the pool holds
     * nothing else to drop. Dropping the returned array instead (as this pool did) let sizes that a program no longer
     * uses fill the pool for good: after one test suite's many shapes, every W7 training step allocated all its arrays
     * fresh (50 MB a step).
     */
    void give(DType dtype, Object array) {
        int length = java.lang.reflect.Array.getLength(array);
        long bytes = (long) length * dtype.byteSize();
        if (!pooled(bytes)) {
            return;
        }
        long allocated;
        long live;
        synchronized (this) {
            allocated = allocatedBytes -= bytes;
            live = --liveArrays;
            nudge.observe(allocated);
            long key = key(dtype, length);
            if (makeRoom(key, bytes)) {
                ArrayDeque<Object> q = free.get(key);
                if (q == null) {
                    q = new ArrayDeque<>();
                    free.put(key, q);
                }
                q.push(array);
                pooledBytes += bytes;
            }
        }
        MemoryEvents.free(Device.cpu(), dtype, bytes, allocated, live);
    }

    /**
     * Drops free arrays of sizes other than {@code key}'s, least recently used first (the oldest array of a size
     * first), until {@code bytes} more fit; false, dropping nothing, if they would not fit even then. Sizes left
     * without arrays are forgotten on the way.
     */
    private boolean makeRoom(long key, long bytes) {
        if (pooledBytes + bytes <= capacityBytes) {
            return true; // the usual case, without an iterator (give's call to this is not inlined)
        }
        ArrayDeque<Object> own = free.get(key);
        if ((own == null ? 0 : own.size() * bytes) + bytes > capacityBytes) {
            return false; // dropping every other size would not make room
        }
        Iterator<Map.Entry<Long, ArrayDeque<Object>>> sizes = free.entrySet().iterator();
        while (pooledBytes + bytes > capacityBytes && sizes.hasNext()) {
            Map.Entry<Long, ArrayDeque<Object>> size = sizes.next();
            if (size.getKey() == key) {
                continue;
            }
            long each = bytes(size.getKey());
            ArrayDeque<Object> q = size.getValue();
            while (pooledBytes + bytes > capacityBytes && !q.isEmpty()) {
                q.pollLast();
                pooledBytes -= each;
            }
            if (q.isEmpty()) {
                sizes.remove();
            }
        }
        return pooledBytes + bytes <= capacityBytes;
    }

    /** Drops every pooled array. */
    synchronized void clear() {
        free.clear();
        pooledBytes = 0;
    }

    /** The counters now (see the class comment). */
    synchronized MemoryStats stats() {
        return new MemoryStats(allocatedBytes, allocatedBytes + pooledBytes, peakBytes, liveArrays);
    }
}
