package dev.nabla;

/**
 * A device allocator's counters, from {@link Device#memoryStats()} (zeros where a backend keeps none).
 *
 * <pre>{@code
 * System.out.println(Device.defaultDevice().memoryStats());
 * // allocated 12.0 MiB in 31 buffers, reserved 64.0 MiB, peak 40.0 MiB
 * }</pre>
 *
 * <p><b>What counts as live.</b> A buffer is live from the moment the backend hands it out (a tensor's buffer, or a
 * kernel's scratch space) until it comes back: at {@link Tensor#close()}, when the {@link java.lang.ref.Cleaner} of
 * an unreachable tensor runs (after a garbage collection), or at the end of the kernel that borrowed it.
 * <ul>
 *   <li><b>CUDA</b> counts every block of its caching allocator, in block sizes (after rounding to a size class).
 *   <li><b>CPU</b> counts the arrays of 16 KiB and more, the ones its pool hands out and takes back, in array
 *       bytes. Smaller arrays are not counted at all, neither in {@code allocated} nor in {@code buffers}: they are
 *       ordinary heap objects that the garbage collector reclaims without telling the backend (watching them would
 *       cost a Cleaner registration per small op, most of a small op's time). Heap tools see them; so does
 *       {@link Device#leakReport()} while allocation tracking is on.
 * </ul>
 *
 * @param allocated bytes that live buffers hold now
 * @param reserved bytes obtained from the system: {@code allocated} plus the free blocks or arrays the backend keeps
 *     for reuse (on the CPU, pooled arrays up to a quarter of the maximum heap; an array the full pool drops is no
 *     longer reserved, the garbage collector reclaims it)
 * @param peak the largest {@code allocated} seen since the backend started
 * @param buffers the number of live buffers (blocks or arrays) that {@code allocated} counts
 */
public record MemoryStats(long allocated, long reserved, long peak, long buffers) {
    /** Counters of a backend that does not count its buffers ({@code buffers} is 0). */
    public MemoryStats(long allocated, long reserved, long peak) {
        this(allocated, reserved, peak, 0);
    }

    @Override
    public String toString() {
        return "allocated " + mib(allocated) + " in " + buffers + (buffers == 1 ? " buffer" : " buffers")
                + ", reserved " + mib(reserved) + ", peak " + mib(peak);
    }

    static String mib(long bytes) {
        return String.format(java.util.Locale.ROOT, "%.1f MiB", bytes / (1024.0 * 1024.0));
    }
}
