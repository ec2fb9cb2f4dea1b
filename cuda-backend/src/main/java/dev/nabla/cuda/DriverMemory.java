package dev.nabla.cuda;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;

/** {@link DeviceMemory} on the CUDA driver: {@code cuMemAlloc}/{@code cuMemFree} in the device's context. */
final class DriverMemory implements DeviceMemory {
    private final DeviceContext context;
    // JCuda wants its own pointer objects back for memcpy/free; kernels and cuBLAS use the raw addresses.
    private final Map<Long, DevicePointer> pointers = new ConcurrentHashMap<>();

    DriverMemory(DeviceContext context) {
        this.context = context;
    }

    @Override
    public long allocate(long bytes) {
        context.makeCurrent();
        DevicePointer p = new DevicePointer();
        int r = JCudaDriver.cuMemAlloc(p, bytes);
        if (r == CUresult.CUDA_ERROR_OUT_OF_MEMORY) {
            return 0;
        }
        CudaCalls.check(r, context.device() + " cuMemAlloc(" + bytes + " bytes)");
        pointers.put(p.address(), p);
        return p.address();
    }

    @Override
    public void free(long address) {
        DevicePointer p = pointers.remove(address);
        if (p == null) {
            throw new IllegalStateException(context.device() + ": free of unknown device address 0x"
                    + Long.toHexString(address));
        }
        context.makeCurrent();
        CudaCalls.check(JCudaDriver.cuMemFree(p), context.device() + " cuMemFree");
    }

    @Override
    public long freeBytes() {
        try {
            context.makeCurrent();
            long[] free = new long[1];
            long[] total = new long[1];
            CudaCalls.check(JCudaDriver.cuMemGetInfo(free, total), "cuMemGetInfo");
            return free[0];
        } catch (RuntimeException e) {
            return -1;
        }
    }

    /** The JCuda pointer of an address this memory allocated. */
    CUdeviceptr pointer(long address) {
        DevicePointer p = pointers.get(address);
        if (p == null) {
            throw new IllegalStateException(context.device() + ": unknown device address 0x"
                    + Long.toHexString(address));
        }
        return p;
    }
}
