package dev.nabla.cuda;

/**
 * The raw device allocator under {@link CachingAllocator}: the CUDA driver in production, a fake in tests, so the
 * caching policy is testable without a GPU.
 */
interface DeviceMemory {
    /** Allocates {@code bytes}; returns the device address, or 0 when the device is out of memory. */
    long allocate(long bytes);

    /** Returns a block obtained from {@link #allocate} to the device. */
    void free(long address);

    /** Bytes the device reports free, or -1 when unknown. */
    long freeBytes();
}
