package dev.nabla.cpu;

import dev.nabla.DType;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * Reuses the arrays of released buffers. Fresh large arrays cost page faults on first touch (about 4x the time of
 * an add over reused memory on the 2-core reference machine), so released arrays wait here for the next request of
 * the same dtype and length. Small arrays are left to the garbage collector, which allocates them cheaply.
 */
final class BufferPool {
    /** Below this many bytes an array is not pooled. */
    static final int MIN_POOLED_BYTES = 1 << 14;
    private final long capacityBytes;
    private final Map<Long, ArrayDeque<Object>> free = new HashMap<>();
    private long pooledBytes;

    BufferPool(long capacityBytes) {
        this.capacityBytes = capacityBytes;
    }

    private static long key(DType dtype, int length) {
        return ((long) length << 3) | dtype.ordinal();
    }

    /** An array of exactly {@code length} elements, reused when possible; contents undefined. */
    Object take(DType dtype, int length) {
        if ((long) length * dtype.byteSize() >= MIN_POOLED_BYTES) {
            synchronized (this) {
                ArrayDeque<Object> q = free.get(key(dtype, length));
                if (q != null && !q.isEmpty()) {
                    pooledBytes -= (long) length * dtype.byteSize();
                    return q.pop();
                }
            }
        }
        return switch (dtype) {
            case FLOAT32 -> new float[length];
            case FLOAT64 -> new double[length];
            case INT32 -> new int[length];
            case BOOL -> new byte[length];
        };
    }

    /** Returns an array for reuse (dropped when the pool is full). */
    void give(DType dtype, Object array) {
        int length = java.lang.reflect.Array.getLength(array);
        long bytes = (long) length * dtype.byteSize();
        if (bytes < MIN_POOLED_BYTES) {
            return;
        }
        synchronized (this) {
            if (pooledBytes + bytes > capacityBytes) {
                return;
            }
            free.computeIfAbsent(key(dtype, length), k -> new ArrayDeque<>()).push(array);
            pooledBytes += bytes;
        }
    }

    /** Drops every pooled array. */
    synchronized void clear() {
        free.clear();
        pooledBytes = 0;
    }
}
