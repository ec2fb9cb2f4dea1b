package dev.nabla.cuda;

import dev.nabla.Device;
import java.nio.charset.StandardCharsets;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUstream_flags;
import jcuda.driver.JCudaDriver;

/**
 * One GPU as the backend drives it: its primary context (shared with the CUDA runtime, hence with cuBLAS) and the
 * one stream every kernel, copy and GEMM of the device is queued on.
 */
final class DeviceContext {
    private static final ThreadLocal<DeviceContext> CURRENT = new ThreadLocal<>();

    private final Device device;
    private final CUdevice cuDevice = new CUdevice();
    private final CUcontext context = new CUcontext();
    private final DevicePointer.Stream stream = new DevicePointer.Stream();
    private final String name;
    private final int multiprocessors;
    private final int computeMajor;
    private final int computeMinor;
    private final long totalMemory;

    private DeviceContext(Device device) {
        this.device = device;
        String where = device + " ";
        CudaCalls.check(JCudaDriver.cuDeviceGet(cuDevice, device.index()), where + "cuDeviceGet");
        CudaCalls.check(JCudaDriver.cuDevicePrimaryCtxRetain(context, cuDevice), where + "cuDevicePrimaryCtxRetain");
        CudaCalls.check(JCudaDriver.cuCtxSetCurrent(context), where + "cuCtxSetCurrent");
        // A blocking stream: it synchronizes with the legacy default stream, which the synchronous small copies use.
        CudaCalls.check(JCudaDriver.cuStreamCreate(stream, CUstream_flags.CU_STREAM_DEFAULT), where + "cuStreamCreate");
        byte[] nameBytes = new byte[256];
        CudaCalls.check(JCudaDriver.cuDeviceGetName(nameBytes, nameBytes.length, cuDevice), where + "cuDeviceGetName");
        int len = 0;
        while (len < nameBytes.length && nameBytes[len] != 0) {
            len++;
        }
        this.name = new String(nameBytes, 0, len, StandardCharsets.UTF_8);
        this.multiprocessors = attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
        this.computeMajor = attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR);
        this.computeMinor = attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
        long[] total = new long[1];
        CudaCalls.check(JCudaDriver.cuDeviceTotalMem(total, cuDevice), where + "cuDeviceTotalMem");
        this.totalMemory = total[0];
        CURRENT.set(this);
    }

    /** Opens the device (the driver must have been initialized by {@link DriverProbe}). */
    static DeviceContext open(Device device) {
        return new DeviceContext(device);
    }

    private int attribute(int attribute) {
        int[] v = new int[1];
        CudaCalls.check(JCudaDriver.cuDeviceGetAttribute(v, attribute, cuDevice), device + " cuDeviceGetAttribute");
        return v[0];
    }

    /** Makes this device's context current on the calling thread (a no-op when it already is). */
    void makeCurrent() {
        if (CURRENT.get() != this) {
            CudaCalls.check(JCudaDriver.cuCtxSetCurrent(context), device + " cuCtxSetCurrent");
            CURRENT.set(this);
        }
    }

    /** Waits for everything queued on the stream; surfaces asynchronous kernel errors. */
    void synchronize() {
        makeCurrent();
        CudaCalls.check(JCudaDriver.cuStreamSynchronize(stream), device + " cuStreamSynchronize");
    }

    Device device() {
        return device;
    }

    DevicePointer.Stream stream() {
        return stream;
    }

    String name() {
        return name;
    }

    int multiprocessors() {
        return multiprocessors;
    }

    int computeMajor() {
        return computeMajor;
    }

    int computeMinor() {
        return computeMinor;
    }

    long totalMemory() {
        return totalMemory;
    }
}
