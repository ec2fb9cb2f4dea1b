package dev.nabla.cuda;

import dev.nabla.Device;
import dev.nabla.backend.Backends;

/**
 * CUDA-specific controls that core has no API for (memory statistics are {@code Device.memoryStats()}).
 *
 * <pre>{@code
 * CudaDevices.emptyCache(Device.cuda(0));
 * }</pre>
 */
public final class CudaDevices {
    private CudaDevices() {
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
