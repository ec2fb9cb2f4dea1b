package dev.nabla.cuda;

import dev.nabla.DType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUevent;
import jcuda.driver.CUevent_flags;
import jcuda.driver.JCudaDriver;

/**
 * Copies between Java arrays and device memory. Small copies go straight from the array (the driver stages pageable
 * memory itself); copies of {@link #PINNED_THRESHOLD} bytes and more go through two pinned staging buffers used in
 * turn, so filling one overlaps the DMA of the other and the DMA runs at full PCIe speed. Uploads are queued on the
 * device's stream and return without waiting; downloads wait for the stream first (they are the host reads that
 * synchronize).
 */
final class HostTransfer {
    /** Copies at least this large use the pinned staging buffers. */
    static final long PINNED_THRESHOLD = 1L << 20;
    /** Bytes per staging buffer. */
    static final int CHUNK = 8 << 20;

    private final DeviceContext context;
    private Staging[] staging; // created on the first large copy

    private static final class Staging {
        final Pointer host = new Pointer();
        final ByteBuffer buffer;
        final CUevent done = new CUevent();
        boolean pending;

        Staging(DeviceContext context) {
            CudaCalls.check(JCudaDriver.cuMemHostAlloc(host, CHUNK, 0), context.device() + " cuMemHostAlloc");
            buffer = host.getByteBuffer(0, CHUNK).order(ByteOrder.nativeOrder());
            CudaCalls.check(JCudaDriver.cuEventCreate(done, CUevent_flags.CU_EVENT_DISABLE_TIMING),
                    context.device() + " cuEventCreate");
        }

        void awaitIdle(DeviceContext context) {
            if (pending) {
                CudaCalls.check(JCudaDriver.cuEventSynchronize(done), context.device() + " cuEventSynchronize");
                pending = false;
            }
        }
    }

    HostTransfer(DeviceContext context) {
        this.context = context;
    }

    /**
     * Copies {@code array} (float[], double[], int[] or byte[] of 0/1 for BOOL) to {@code dst}. NOTE: small copies
     * use the synchronous cuMemcpyHtoD on the legacy default stream, which waits for our blocking stream, so a
     * reused block is never overwritten under a queued kernel still reading its previous contents.
     */
    synchronized void upload(Object array, DType dtype, CUdeviceptr dst) {
        long count = java.lang.reflect.Array.getLength(array);
        long bytes = count * dtype.byteSize();
        if (bytes == 0) {
            return;
        }
        context.makeCurrent();
        if (bytes < PINNED_THRESHOLD) {
            CudaCalls.check(JCudaDriver.cuMemcpyHtoD(dst, hostPointer(array), bytes), context.device() + " cuMemcpyHtoD");
            return;
        }
        Staging[] slots = staging();
        int perChunk = CHUNK / dtype.byteSize();
        int slot = 0;
        for (long first = 0; first < count; first += perChunk, slot ^= 1) {
            int n = (int) Math.min(perChunk, count - first);
            Staging s = slots[slot];
            s.awaitIdle(context);
            put(s.buffer, array, (int) first, n);
            CudaCalls.check(JCudaDriver.cuMemcpyHtoDAsync(dst.withByteOffset(first * dtype.byteSize()), s.host,
                    (long) n * dtype.byteSize(), context.stream()), context.device() + " cuMemcpyHtoDAsync");
            CudaCalls.check(JCudaDriver.cuEventRecord(s.done, context.stream()), context.device() + " cuEventRecord");
            s.pending = true;
        }
    }

    /** Copies {@code count} elements of {@code dtype} at {@code src} into a new array of the dtype's Java type. */
    synchronized Object download(CUdeviceptr src, DType dtype, long count) {
        if (count > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException(context.device() + ": " + count
                    + " elements do not fit one Java array");
        }
        Object array = switch (dtype) {
            case FLOAT32 -> new float[(int) count];
            case FLOAT64 -> new double[(int) count];
            case INT32 -> new int[(int) count];
            case BOOL -> new byte[(int) count];
        };
        long bytes = count * dtype.byteSize();
        if (bytes == 0) {
            return array;
        }
        context.synchronize();
        if (bytes < PINNED_THRESHOLD) {
            CudaCalls.check(JCudaDriver.cuMemcpyDtoH(hostPointer(array), src, bytes), context.device() + " cuMemcpyDtoH");
            return array;
        }
        Staging[] slots = staging();
        int perChunk = CHUNK / dtype.byteSize();
        long chunks = (count + perChunk - 1) / perChunk;
        queueDownload(slots[0], src, dtype, 0, count, perChunk);
        for (long c = 0; c < chunks; c++) {
            if (c + 1 < chunks) { // the next chunk's DMA overlaps this chunk's copy out
                queueDownload(slots[(int) ((c + 1) & 1)], src, dtype, (c + 1) * perChunk, count, perChunk);
            }
            Staging s = slots[(int) (c & 1)];
            s.awaitIdle(context);
            long first = c * perChunk;
            get(s.buffer, array, (int) first, (int) Math.min(perChunk, count - first));
        }
        return array;
    }

    private void queueDownload(Staging s, CUdeviceptr src, DType dtype, long first, long count, int perChunk) {
        s.awaitIdle(context);
        long n = Math.min(perChunk, count - first);
        CudaCalls.check(JCudaDriver.cuMemcpyDtoHAsync(s.host, src.withByteOffset(first * dtype.byteSize()),
                n * dtype.byteSize(), context.stream()), context.device() + " cuMemcpyDtoHAsync");
        CudaCalls.check(JCudaDriver.cuEventRecord(s.done, context.stream()), context.device() + " cuEventRecord");
        s.pending = true;
    }

    private Staging[] staging() {
        if (staging == null) {
            staging = new Staging[] {new Staging(context), new Staging(context)};
        }
        return staging;
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

    private static void put(ByteBuffer buffer, Object array, int first, int n) {
        buffer.clear();
        switch (array) {
            case float[] f -> buffer.asFloatBuffer().put(f, first, n);
            case double[] d -> buffer.asDoubleBuffer().put(d, first, n);
            case int[] i -> buffer.asIntBuffer().put(i, first, n);
            case byte[] b -> buffer.put(b, first, n);
            default -> throw new IllegalArgumentException("no host copy for " + array.getClass().getSimpleName());
        }
    }

    private static void get(ByteBuffer buffer, Object array, int first, int n) {
        buffer.clear();
        switch (array) {
            case float[] f -> buffer.asFloatBuffer().get(f, first, n);
            case double[] d -> buffer.asDoubleBuffer().get(d, first, n);
            case int[] i -> buffer.asIntBuffer().get(i, first, n);
            case byte[] b -> buffer.get(b, first, n);
            default -> throw new IllegalArgumentException("no host copy for " + array.getClass().getSimpleName());
        }
    }
}
