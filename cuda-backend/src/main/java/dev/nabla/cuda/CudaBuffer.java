package dev.nabla.cuda;

import dev.nabla.DType;
import dev.nabla.backend.AllocationTracker;
import dev.nabla.backend.Buffer;
import java.util.concurrent.atomic.AtomicBoolean;

/** A device buffer: one block of the device's {@link CachingAllocator}, returned to its cache on release. */
final class CudaBuffer implements Buffer {
    private final DType dtype;
    private final long size;
    private final CachingAllocator.Block block;
    private final CachingAllocator allocator;
    /** The buffer whose block this one views (a prefix, {@link #prefixOf}), or null when it owns its block. */
    private final CudaBuffer owner;
    private final AtomicBoolean released = new AtomicBoolean();
    /** Its allocation site while tracking is on, else null. */
    private AllocationTracker.Entry tracked;

    CudaBuffer(DType dtype, long size, CachingAllocator.Block block, CachingAllocator allocator) {
        this(dtype, size, block, allocator, null);
    }

    private CudaBuffer(DType dtype, long size, CachingAllocator.Block block, CachingAllocator allocator,
            CudaBuffer owner) {
        this.dtype = dtype;
        this.size = size;
        this.block = block;
        this.allocator = allocator;
        this.owner = owner;
    }

    /** The first {@code size} elements of {@code owner}'s block, which stays {@code owner}'s to release. */
    static CudaBuffer prefixOf(CudaBuffer owner, long size) {
        if (size < 0 || size > owner.size) {
            throw new IllegalArgumentException("cuda: a prefix of " + size + " elements of a buffer of " + owner.size);
        }
        if (owner.owner != null) {
            return prefixOf(owner.owner, size);
        }
        owner.checkLive();
        return new CudaBuffer(owner.dtype, size, owner.block, owner.allocator, owner);
    }

    @Override
    public DType dtype() {
        return dtype;
    }

    @Override
    public long size() {
        return size;
    }

    /** The device address of element 0. */
    long address() {
        checkLive();
        return block.address();
    }

    /** The device address of element {@code index}. */
    long address(long index) {
        return address() + index * dtype.byteSize();
    }

    private void checkLive() {
        if (released.get() || owner != null && owner.released.get()) {
            throw new IllegalStateException("CUDA buffer used after release");
        }
    }

    /** A prefix never needs one: its owner releases the block. */
    @Override
    public boolean requiresRelease() {
        return owner == null;
    }

    /** Idempotent: a second release (a Cleaner racing an explicit close) must not put the block in the cache twice. */
    @Override
    public void release() {
        if (owner == null && released.compareAndSet(false, true)) {
            allocator.free(block, dtype);
            AllocationTracker.Entry t = tracked;
            if (t != null) {
                t.release();
            }
        }
    }

    void track(AllocationTracker.Entry entry) {
        tracked = entry;
    }
}
