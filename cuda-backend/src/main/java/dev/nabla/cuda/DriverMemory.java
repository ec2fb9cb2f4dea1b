package dev.nabla.cuda;

/** {@link DeviceMemory} on the device's driver: {@code cuMemAlloc}/{@code cuMemFree} with its context current. */
final class DriverMemory implements DeviceMemory {
    private final DeviceContext context;

    DriverMemory(DeviceContext context) {
        this.context = context;
    }

    @Override
    public long allocate(long bytes) {
        // allowed while capturing (relaxed mode): a block the capture frees stays the graph's (CachingAllocator)
        return context.call(d -> d.memAlloc(bytes));
    }

    @Override
    public void free(long address) {
        context.refuseWhileCapturing("cuMemFree");
        context.run(d -> d.memFree(address));
    }

    @Override
    public long freeBytes() {
        try {
            return context.call(CudaDriver::freeMemory);
        } catch (RuntimeException e) {
            return -1;
        }
    }
}
