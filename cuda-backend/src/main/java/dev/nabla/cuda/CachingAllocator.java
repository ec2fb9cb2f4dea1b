package dev.nabla.cuda;

import dev.nabla.MemoryStats;

import dev.nabla.DType;
import dev.nabla.Device;
import dev.nabla.OutOfDeviceMemoryException;
import dev.nabla.backend.MemoryEvents;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A caching device allocator: requests are rounded up to a size class, freed blocks go to their class's free list and
 * are handed out again, so steady-state training never calls {@code cuMemAlloc}/{@code cuMemFree} (each costs
 * microseconds and {@code cuMemFree} synchronizes the whole device).
 *
 * <p>Reuse is safe without events because the backend has one stream per device: a kernel queued before a block was
 * freed runs before any kernel queued by the block's next owner.
 *
 * <p>Size classes: four per power of two (1, 1.25, 1.5, 1.75 times 2^k) from {@link #MIN_BLOCK} bytes, so rounding
 * wastes at most 25%; every class is a multiple of 512 bytes, which keeps vector loads and the word-wide BOOL atomics
 * inside the block.
 *
 * <p>On out-of-memory it frees the whole cache, runs the reclaimer (a GC that lets Cleaners return the buffers of
 * unreachable tensors), retries once, and then throws {@link OutOfDeviceMemoryException}.
 */
final class CachingAllocator {
    /** The smallest block, and the granularity of every size class. */
    static final long MIN_BLOCK = 512;

    /** A block of device memory: its address and its size class in bytes. */
    record Block(long address, long bytes) {
    }

    private final Device device;
    private final DeviceMemory memory;
    private final Runnable reclaimer;
    private final Map<Long, ArrayDeque<Long>> freeBySize = new HashMap<>();
    private long allocated;
    private long reserved;
    private long peak;
    private long blocks;
    private Thread retainingFor;                 // while a graph is captured: the capturing thread
    private List<Retained> retained;             // the blocks it freed meanwhile, which the graph still uses

    /** A block freed during a capture, kept for the graph. */
    record Retained(Block block, DType dtype) {
    }

    /**
     * @param reclaimer run after the cache was emptied and an allocation still failed; it should make unreachable
     *     buffers come back through {@link #free} (e.g. {@code System.gc()} and a short wait for Cleaners)
     */
    CachingAllocator(Device device, DeviceMemory memory, Runnable reclaimer) {
        this.device = device;
        this.memory = memory;
        this.reclaimer = reclaimer;
    }

    /** The size class that serves a request of {@code bytes}. */
    static long sizeClass(long bytes) {
        if (bytes <= MIN_BLOCK) {
            return MIN_BLOCK;
        }
        int msb = 63 - Long.numberOfLeadingZeros(bytes - 1); // 2^msb < bytes <= 2^(msb+1)
        long quarter = Math.max(MIN_BLOCK, (1L << msb) / 4);
        long rounded = (bytes + quarter - 1) / quarter * quarter;
        return (rounded + MIN_BLOCK - 1) / MIN_BLOCK * MIN_BLOCK;
    }

    /** A block of at least {@code bytes}, reused from the cache when one of its size class is free. */
    Block allocate(long bytes) {
        return allocate(bytes, null);
    }

    /** {@link #allocate(long)} for a buffer of {@code dtype} (named in the JFR event; null for scratch space). */
    Block allocate(long bytes, DType dtype) {
        long size = sizeClass(bytes);
        Block b = takeCachedOrAllocate(size, dtype);
        if (b != null) {
            return b;
        }
        releaseCache();
        reclaimer.run(); // outside the lock: Cleaners call free() from their own thread
        b = takeCachedOrAllocate(size, dtype);
        if (b == null) {
            releaseCache(); // the reclaimed blocks came back into the cache, maybe in other size classes
            b = takeCachedOrAllocate(size, dtype);
        }
        if (b != null) {
            return b;
        }
        throw new OutOfDeviceMemoryException(device, bytes, memory.freeBytes());
    }

    private synchronized Block takeCachedOrAllocate(long size, DType dtype) {
        ArrayDeque<Long> list = freeBySize.get(size);
        Long cached = list == null ? null : list.pollLast(); // LIFO: the most recently used block is warm in L2
        long address;
        if (cached != null) {
            address = cached;
        } else {
            address = memory.allocate(size);
            if (address == 0) {
                return null;
            }
            reserved += size;
        }
        allocated += size;
        blocks++;
        // JFR events under the lock keep the timeline in order; without a recording they are an isEnabled() check
        MemoryEvents.allocation(device, dtype, size, allocated, blocks);
        if (allocated > peak) {
            peak = allocated;
            MemoryEvents.peak(device, peak);
        }
        return new Block(address, size);
    }

    /** Returns a block to the cache (no driver call). */
    void free(Block b) {
        free(b, null);
    }

    /**
     * From now on, blocks that {@code thread} frees are not reused but kept (still counted as allocated) until
     * {@link #stopRetaining}: a graph captured on that thread bakes in their addresses, so they must stay its own
     * (scratch space of a reduction, temporaries) for as long as it can be launched.
     */
    synchronized void retainFreesOf(Thread thread) {
        retainingFor = thread;
        retained = new ArrayList<>();
    }

    /** Ends {@link #retainFreesOf}: the blocks kept, which the caller frees when the graph is destroyed. */
    synchronized List<Retained> stopRetaining() {
        List<Retained> r = retained;
        retainingFor = null;
        retained = null;
        return r;
    }

    /** {@link #free(Block)} of a buffer of {@code dtype} (named in the JFR event; null for scratch space). */
    synchronized void free(Block b, DType dtype) {
        if (retainingFor == Thread.currentThread()) {
            retained.add(new Retained(b, dtype));
            return;
        }
        allocated -= b.bytes();
        blocks--;
        freeBySize.computeIfAbsent(b.bytes(), k -> new ArrayDeque<>()).addLast(b.address());
        MemoryEvents.free(device, dtype, b.bytes(), allocated, blocks);
    }

    /** Gives every cached free block back to the driver. */
    synchronized void releaseCache() {
        for (Map.Entry<Long, ArrayDeque<Long>> e : freeBySize.entrySet()) {
            for (long address : e.getValue()) {
                memory.free(address);
                reserved -= e.getKey();
            }
        }
        freeBySize.clear();
    }

    /** The current counters. */
    synchronized MemoryStats stats() {
        return new MemoryStats(allocated, reserved, peak, blocks);
    }
}
