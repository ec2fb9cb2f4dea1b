package dev.nabla.cuda;

/**
 * A device allocator's counters, in bytes.
 *
 * @param allocated bytes in blocks that buffers hold now (block sizes, i.e. after rounding to a size class)
 * @param reserved bytes obtained from the driver: the allocated blocks plus the cached free ones
 * @param peak the largest {@code allocated} seen since the backend started
 */
public record MemoryStats(long allocated, long reserved, long peak) {
    @Override
    public String toString() {
        return "allocated " + mib(allocated) + ", reserved " + mib(reserved) + ", peak " + mib(peak);
    }

    private static String mib(long bytes) {
        return String.format(java.util.Locale.ROOT, "%.1f MiB", bytes / (1024.0 * 1024.0));
    }
}
