package dev.nabla;

/**
 * A device allocator's counters, in bytes, from {@link Device#memoryStats()} (zeros where a backend keeps none).
 *
 * <pre>{@code
 * System.out.println(Device.defaultDevice().memoryStats());   // allocated 12.0 MiB, reserved 64.0 MiB, peak 40.0 MiB
 * }</pre>
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
