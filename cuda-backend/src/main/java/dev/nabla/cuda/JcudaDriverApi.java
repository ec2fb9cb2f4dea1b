package dev.nabla.cuda;

import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import jcuda.NativePointerObject;
import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUevent;
import jcuda.driver.CUevent_flags;
import jcuda.driver.CUfunction;
import jcuda.driver.CUgraph;
import jcuda.driver.CUgraphExec;
import jcuda.driver.CUjit_option;
import jcuda.driver.CUmodule;
import jcuda.driver.CUresult;
import jcuda.driver.CUstreamCaptureMode;
import jcuda.driver.CUstream_flags;
import jcuda.driver.JITOptions;
import jcuda.driver.JCudaDriver;

/**
 * {@link CudaDriver} on the real driver through JCuda (the driver must have been initialized by
 * {@link DriverProbe}). JCuda wants its own pointer objects back for copies and frees, so the allocations are kept
 * by address; an address inside a block becomes that block's pointer with a byte offset.
 */
final class JcudaDriverApi implements CudaDriver {
    private static final int JIT_LOG_BYTES = 16 * 1024;

    private final int driverVersion;
    private final ConcurrentSkipListMap<Long, DevicePointer> blocks = new ConcurrentSkipListMap<>();

    JcudaDriverApi(int driverVersion) {
        this.driverVersion = driverVersion;
    }

    @Override
    public boolean emulated() {
        return false;
    }

    private static CUdevice device(int ordinal) {
        CUdevice d = new CUdevice();
        CudaCalls.check(JCudaDriver.cuDeviceGet(d, ordinal), "cuDeviceGet(" + ordinal + ")");
        return d;
    }

    @Override
    public Properties properties(int ordinal) {
        CUdevice d = device(ordinal);
        byte[] nameBytes = new byte[256];
        CudaCalls.check(JCudaDriver.cuDeviceGetName(nameBytes, nameBytes.length, d), "cuDeviceGetName");
        int len = 0;
        while (len < nameBytes.length && nameBytes[len] != 0) {
            len++;
        }
        long[] total = new long[1];
        CudaCalls.check(JCudaDriver.cuDeviceTotalMem(total, d), "cuDeviceTotalMem");
        return new Properties(new String(nameBytes, 0, len, StandardCharsets.UTF_8),
                attribute(d, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT),
                attribute(d, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR),
                attribute(d, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR), total[0]);
    }

    private static int attribute(CUdevice d, int attribute) {
        int[] v = new int[1];
        CudaCalls.check(JCudaDriver.cuDeviceGetAttribute(v, attribute, d), "cuDeviceGetAttribute");
        return v[0];
    }

    @Override
    public Object openContext(int ordinal) {
        DevicePointer.Context context = new DevicePointer.Context();
        CudaCalls.check(JCudaDriver.cuDevicePrimaryCtxRetain(context, device(ordinal)), "cuDevicePrimaryCtxRetain");
        makeCurrent(context);
        return context;
    }

    @Override
    public void makeCurrent(Object context) {
        NativeLaunch fast = NativeLaunch.get();
        int result = fast != null
                ? fast.setCurrent(((DevicePointer.Context) context).address())
                : JCudaDriver.cuCtxSetCurrent((CUcontext) context);
        CudaCalls.check(result, "cuCtxSetCurrent");
    }

    @Override
    public Object createStream() {
        DevicePointer.Stream stream = new DevicePointer.Stream();
        CudaCalls.check(JCudaDriver.cuStreamCreate(stream, CUstream_flags.CU_STREAM_DEFAULT), "cuStreamCreate");
        return stream;
    }

    @Override
    public Object createNonBlockingStream() {
        DevicePointer.Stream stream = new DevicePointer.Stream();
        CudaCalls.check(JCudaDriver.cuStreamCreate(stream, CUstream_flags.CU_STREAM_NON_BLOCKING), "cuStreamCreate");
        return stream;
    }

    @Override
    public void streamBeginCapture(Object stream) {
        CudaCalls.check(JCudaDriver.cuStreamBeginCapture((DevicePointer.Stream) stream,
                CUstreamCaptureMode.CU_STREAM_CAPTURE_MODE_RELAXED), "cuStreamBeginCapture");
    }

    @Override
    public Object streamEndCapture(Object stream) {
        CUgraph graph = new CUgraph();
        CudaCalls.check(JCudaDriver.cuStreamEndCapture((DevicePointer.Stream) stream, graph), "cuStreamEndCapture");
        return graph;
    }

    @Override
    public Object graphInstantiate(Object graph) {
        CUgraphExec exec = new CUgraphExec();
        CudaCalls.check(JCudaDriver.cuGraphInstantiate(exec, (CUgraph) graph, 0L), "cuGraphInstantiate");
        return exec;
    }

    @Override
    public void graphLaunch(Object exec, Object stream) {
        CudaCalls.check(JCudaDriver.cuGraphLaunch((CUgraphExec) exec, (DevicePointer.Stream) stream), "cuGraphLaunch");
    }

    @Override
    public void graphExecDestroy(Object exec) {
        CudaCalls.check(JCudaDriver.cuGraphExecDestroy((CUgraphExec) exec), "cuGraphExecDestroy");
    }

    @Override
    public void graphDestroy(Object graph) {
        CudaCalls.check(JCudaDriver.cuGraphDestroy((CUgraph) graph), "cuGraphDestroy");
    }

    @Override
    public void streamSynchronize(Object stream) {
        CudaCalls.check(JCudaDriver.cuStreamSynchronize((DevicePointer.Stream) stream), "cuStreamSynchronize");
    }

    @Override
    public long streamAddress(Object stream) {
        return ((DevicePointer.Stream) stream).address();
    }

    @Override
    public long freeMemory() {
        long[] free = new long[1];
        long[] total = new long[1];
        int r = JCudaDriver.cuMemGetInfo(free, total);
        return r == CUresult.CUDA_SUCCESS ? free[0] : -1;
    }

    @Override
    public long memAlloc(long bytes) {
        DevicePointer p = new DevicePointer();
        int r = JCudaDriver.cuMemAlloc(p, bytes);
        if (r == CUresult.CUDA_ERROR_OUT_OF_MEMORY) {
            return 0;
        }
        CudaCalls.check(r, "cuMemAlloc(" + bytes + " bytes)");
        blocks.put(p.address(), p);
        return p.address();
    }

    @Override
    public void memFree(long address) {
        DevicePointer p = blocks.remove(address);
        if (p == null) {
            throw new IllegalStateException("free of unknown device address 0x" + Long.toHexString(address));
        }
        CudaCalls.check(JCudaDriver.cuMemFree(p), "cuMemFree");
    }

    /** The JCuda pointer of a device address inside one of our allocations. */
    private CUdeviceptr pointer(long address) {
        Map.Entry<Long, DevicePointer> e = blocks.floorEntry(address);
        if (e == null) {
            throw new IllegalStateException("unknown device address 0x" + Long.toHexString(address));
        }
        long offset = address - e.getKey();
        return offset == 0 ? e.getValue() : e.getValue().withByteOffset(offset);
    }

    @Override
    public Pinned hostAlloc(long bytes) {
        Pointer host = new Pointer();
        CudaCalls.check(JCudaDriver.cuMemHostAlloc(host, bytes, 0), "cuMemHostAlloc");
        return new Pinned(host, host.getByteBuffer(0, bytes).order(ByteOrder.nativeOrder()));
    }

    private static Pointer hostPointer(Object array) {
        return switch (array) {
            case float[] f -> Pointer.to(f);
            case double[] d -> Pointer.to(d);
            case int[] i -> Pointer.to(i);
            case byte[] b -> Pointer.to(b);
            default -> throw new IllegalArgumentException("no host copy for " + array.getClass().getSimpleName());
        };
    }

    @Override
    public void memcpyHtoD(long dst, Object array, long bytes) {
        CudaCalls.check(JCudaDriver.cuMemcpyHtoD(pointer(dst), hostPointer(array), bytes), "cuMemcpyHtoD");
    }

    @Override
    public void memcpyDtoH(Object array, long src, long bytes) {
        CudaCalls.check(JCudaDriver.cuMemcpyDtoH(hostPointer(array), pointer(src), bytes), "cuMemcpyDtoH");
    }

    @Override
    public void memcpyHtoDAsync(long dst, Pinned src, long srcOffset, long bytes, Object stream) {
        CudaCalls.check(JCudaDriver.cuMemcpyHtoDAsync(pointer(dst), ((Pointer) src.handle()).withByteOffset(srcOffset),
                bytes, (DevicePointer.Stream) stream), "cuMemcpyHtoDAsync");
    }

    @Override
    public void memcpyDtoHAsync(Pinned dst, long dstOffset, long src, long bytes, Object stream) {
        CudaCalls.check(JCudaDriver.cuMemcpyDtoHAsync(((Pointer) dst.handle()).withByteOffset(dstOffset), pointer(src),
                bytes, (DevicePointer.Stream) stream), "cuMemcpyDtoHAsync");
    }

    @Override
    public void memcpyDtoDAsync(long dst, long src, long bytes, Object stream) {
        CudaCalls.check(JCudaDriver.cuMemcpyDtoDAsync(pointer(dst), pointer(src), bytes,
                (DevicePointer.Stream) stream), "cuMemcpyDtoDAsync");
    }

    @Override
    public void memsetD8Async(long dst, byte value, long count, Object stream) {
        CudaCalls.check(JCudaDriver.cuMemsetD8Async(pointer(dst), value, count, (DevicePointer.Stream) stream),
                "cuMemsetD8Async");
    }

    @Override
    public void memsetD32Async(long dst, int value, long count, Object stream) {
        CudaCalls.check(JCudaDriver.cuMemsetD32Async(pointer(dst), value, count, (DevicePointer.Stream) stream),
                "cuMemsetD32Async");
    }

    @Override
    public Object eventCreate() {
        CUevent e = new CUevent();
        CudaCalls.check(JCudaDriver.cuEventCreate(e, CUevent_flags.CU_EVENT_DISABLE_TIMING), "cuEventCreate");
        return e;
    }

    @Override
    public void eventRecord(Object event, Object stream) {
        CudaCalls.check(JCudaDriver.cuEventRecord((CUevent) event, (DevicePointer.Stream) stream), "cuEventRecord");
    }

    @Override
    public void eventSynchronize(Object event) {
        CudaCalls.check(JCudaDriver.cuEventSynchronize((CUevent) event), "cuEventSynchronize");
    }

    @Override
    public boolean eventQuery(Object event) {
        int r = JCudaDriver.cuEventQuery((CUevent) event);
        if (r == CUresult.CUDA_ERROR_NOT_READY) {
            return false;
        }
        CudaCalls.check(r, "cuEventQuery");
        return true;
    }

    /** cuModuleLoadDataEx with an error log buffer, so that a JIT failure says why. */
    @Override
    public Object moduleLoad(String name, String ptx) {
        byte[] image = (ptx + '\0').getBytes(StandardCharsets.US_ASCII); // the driver wants a C string
        CUmodule module = new CUmodule();
        JITOptions options = new JITOptions();
        options.putBytes(CUjit_option.CU_JIT_ERROR_LOG_BUFFER, new byte[JIT_LOG_BYTES]);
        options.putInt(CUjit_option.CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES, JIT_LOG_BYTES);
        int r;
        String log;
        try {
            r = JCudaDriver.cuModuleLoadDataJIT(module, Pointer.to(image), options);
            log = r == CUresult.CUDA_SUCCESS ? "" : jitLog(options);
        } catch (RuntimeException | LinkageError e) { // a JCuda without the JIT-options binding
            r = -1;
            log = "";
        }
        if (r != CUresult.CUDA_SUCCESS) {
            // NOTE: the plain load once more, so that the options themselves can never be what fails a working PTX
            CUmodule plain = new CUmodule();
            int again = JCudaDriver.cuModuleLoadData(plain, image);
            if (again == CUresult.CUDA_SUCCESS) {
                return plain;
            }
            throw new CudaException(again, KernelModules.loadFailure(name, again, ptx, driverVersion, log));
        }
        return module;
    }

    private static String jitLog(JITOptions options) {
        try {
            String s = options.getString(CUjit_option.CU_JIT_ERROR_LOG_BUFFER);
            return s == null ? "" : s.strip();
        } catch (RuntimeException e) {
            return "";
        }
    }

    @Override
    public Object moduleGetFunction(Object module, String name) {
        DevicePointer.Function fn = new DevicePointer.Function();
        CudaCalls.check(JCudaDriver.cuModuleGetFunction(fn, (CUmodule) module, name),
                "cuModuleGetFunction(" + name + ") (kernel missing from the PTX?)");
        return fn;
    }

    @Override
    public void launch(Object function, int gridX, int gridY, int gridZ, int blockX, int blockY, int blockZ,
            Object stream, KernelArgs args) {
        NativeLaunch fast = NativeLaunch.get();
        if (fast != null) {
            CudaCalls.check(fast.launch(((DevicePointer.Function) function).address(), gridX, gridY, gridZ, blockX,
                    blockY, blockZ, ((DevicePointer.Stream) stream).address(), args), "cuLaunchKernel");
            return;
        }
        launchThroughJcuda(function, gridX, gridY, gridZ, blockX, blockY, blockZ, stream, args);
    }

    /** The launch where {@link NativeLaunch} cannot bind: one pinned Java array per argument. */
    void launchThroughJcuda(Object function, int gridX, int gridY, int gridZ, int blockX, int blockY, int blockZ,
            Object stream, KernelArgs args) {
        NativePointerObject[] values = new NativePointerObject[args.list().size()];
        for (int i = 0; i < values.length; i++) {
            values[i] = switch (args.list().get(i)) {
                case KernelArgs.Ptr p -> Pointer.to(new long[] {p.address()});
                case KernelArgs.I64 v -> Pointer.to(new long[] {v.value()});
                case KernelArgs.I32 v -> Pointer.to(new int[] {v.value()});
                case KernelArgs.F64 v -> Pointer.to(new double[] {v.value()});
                case KernelArgs.Iter it -> Pointer.to(it.packed());
            };
        }
        CudaCalls.check(JCudaDriver.cuLaunchKernel((CUfunction) function, gridX, gridY, gridZ, blockX, blockY, blockZ,
                0, (DevicePointer.Stream) stream, Pointer.to(values), null), "cuLaunchKernel");
    }

    @Override
    public BlasBinding blas() {
        Cublas.Loaded loaded = Cublas.load();
        return new BlasBinding(loaded.cublas(), loaded.location(), loaded.failures());
    }
}
