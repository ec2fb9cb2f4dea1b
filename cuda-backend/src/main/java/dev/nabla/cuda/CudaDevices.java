package dev.nabla.cuda;

import dev.nabla.Device;
import dev.nabla.backend.Backends;

/**
 * CUDA-specific facts about a device that core has no API for yet (a {@code Device.memoryStats()} in core would
 * forward here).
 *
 * <pre>{@code
 * MemoryStats s = CudaDevices.memoryStats(Device.cuda(0));
 * System.out.println(s);   // allocated 12.0 MiB, reserved 64.0 MiB, peak 40.0 MiB
 * }</pre>
 */
public final class CudaDevices {
    private CudaDevices() {
    }

    /** The caching allocator's counters of a CUDA device (creating its backend if needed). */
    public static MemoryStats memoryStats(Device device) {
        return backend(device).memoryStats();
    }

    /** Returns the allocator's cached free blocks of a CUDA device to the driver (e.g. before another process runs). */
    public static void emptyCache(Device device) {
        backend(device).emptyCache();
    }

    /** Waits for all work queued on the device. */
    public static void synchronize(Device device) {
        backend(device).synchronize();
    }

    private static CudaBackend backend(Device device) {
        if (!device.isCuda()) {
            throw new IllegalArgumentException("not a CUDA device: " + device);
        }
        return (CudaBackend) Backends.get(device);
    }
}
