package dev.nabla.cuda;

import dev.nabla.DType;
import java.nio.ByteBuffer;

/**
 * Copies between Java arrays and device memory through pinned staging buffers.
 *
 * <p>Uploads of every size go through a ring of {@link #SLOTS} pinned buffers of {@link #SLOT_BYTES}: the array is
 * copied into the current slot (small uploads pack one after another into it) and an asynchronous copy is queued on
 * the device's stream, followed by the slot's event. A slot is refilled only after its event completed, so the
 * host never overwrites bytes a queued copy has yet to read, and an upload never waits for the GPU unless the whole
 * ring is in flight. Downloads wait for the stream first (they are the host reads that synchronize); small ones
 * copy straight into the array, large ones through two pinned slots used in turn, so the DMA of one chunk overlaps
 * the copy out of the other.
 */
final class HostTransfer {
    /** Downloads at least this large use the pinned staging buffers. */
    static final long PINNED_THRESHOLD = 1L << 20;
    /** Bytes per staging slot. */
    static final int SLOT_BYTES = 4 << 20;
    /** Upload slots in the ring. */
    static final int SLOTS = 4;

    private final DeviceContext context;
    private Slot[] ring;       // upload slots, created on the first upload
    private int current;       // the ring slot being filled
    private Slot[] downloads;  // created on the first large download

    private static final class Slot {
        final CudaDriver.Pinned pinned;
        final Object done;
        boolean pending;
        int used;

        Slot(DeviceContext context) {
            pinned = context.call(d -> d.hostAlloc(SLOT_BYTES));
            done = context.call(CudaDriver::eventCreate);
        }

        void awaitIdle(DeviceContext context) {
            if (pending) {
                context.run(d -> d.eventSynchronize(done));
                pending = false;
            }
        }
    }

    HostTransfer(DeviceContext context) {
        this.context = context;
    }

    /** Copies {@code array} (float[], double[], int[] or byte[] of 0/1 for BOOL) to device address {@code dst}. */
    synchronized void upload(Object array, DType dtype, long dst) {
        int count = java.lang.reflect.Array.getLength(array);
        int size = dtype.byteSize();
        if (count == 0) {
            return;
        }
        // a graph would read the staging slot again at every launch, long after the ring refilled it
        context.refuseWhileCapturing("an upload");
        if (ring == null) {
            ring = new Slot[SLOTS];
            for (int i = 0; i < SLOTS; i++) {
                ring[i] = new Slot(context);
            }
        }
        int first = 0;
        while (first < count) {
            Slot s = ring[current];
            int room = (SLOT_BYTES - s.used) / size;
            if (room == 0 || (s.used > 0 && room < count - first && count - first <= SLOT_BYTES / size)) {
                // the slot is full, or this upload fits whole in a fresh one: move on
                current = (current + 1) % SLOTS;
                s = ring[current];
                s.awaitIdle(context);
                s.used = 0;
                room = SLOT_BYTES / size;
            }
            int n = Math.min(room, count - first);
            int offset = s.used;
            put(s.pinned.buffer(), offset, array, first, n);
            long target = dst + (long) first * size;
            Slot slot = s;
            context.run(d -> {
                d.memcpyHtoDAsync(target, slot.pinned, offset, (long) n * size, context.stream());
                d.eventRecord(slot.done, context.stream());
            });
            s.pending = true;
            s.used = (offset + n * size + 255) & ~255; // keep every staged copy 256-byte aligned
            if (s.used > SLOT_BYTES) {
                s.used = SLOT_BYTES;
            }
            first += n;
        }
    }

    /** Copies {@code count} elements of {@code dtype} at {@code src} into a new array of the dtype's Java type. */
    synchronized Object download(long src, DType dtype, long count) {
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
            context.run(d -> d.memcpyDtoH(array, src, bytes));
            return array;
        }
        if (downloads == null) {
            downloads = new Slot[] {new Slot(context), new Slot(context)};
        }
        int perChunk = SLOT_BYTES / dtype.byteSize();
        long chunks = (count + perChunk - 1) / perChunk;
        queueDownload(downloads[0], src, dtype, 0, count, perChunk);
        for (long c = 0; c < chunks; c++) {
            if (c + 1 < chunks) { // the next chunk's DMA overlaps this chunk's copy out
                queueDownload(downloads[(int) ((c + 1) & 1)], src, dtype, (c + 1) * perChunk, count, perChunk);
            }
            Slot s = downloads[(int) (c & 1)];
            s.awaitIdle(context);
            long first = c * perChunk;
            get(s.pinned.buffer(), array, (int) first, (int) Math.min(perChunk, count - first));
        }
        return array;
    }

    private void queueDownload(Slot s, long src, DType dtype, long first, long count, int perChunk) {
        s.awaitIdle(context);
        long n = Math.min(perChunk, count - first);
        context.run(d -> {
            d.memcpyDtoHAsync(s.pinned, 0, src + first * dtype.byteSize(), n * dtype.byteSize(), context.stream());
            d.eventRecord(s.done, context.stream());
        });
        s.pending = true;
    }

    private static void put(ByteBuffer pinned, int offset, Object array, int first, int n) {
        ByteBuffer buffer = pinned.duplicate().order(pinned.order()).position(offset);
        switch (array) {
            case float[] f -> buffer.asFloatBuffer().put(f, first, n);
            case double[] d -> buffer.asDoubleBuffer().put(d, first, n);
            case int[] i -> buffer.asIntBuffer().put(i, first, n);
            case byte[] b -> buffer.put(b, first, n);
            default -> throw new IllegalArgumentException("no host copy for " + array.getClass().getSimpleName());
        }
    }

    private static void get(ByteBuffer pinned, Object array, int first, int n) {
        ByteBuffer buffer = pinned.duplicate().order(pinned.order()).position(0);
        switch (array) {
            case float[] f -> buffer.asFloatBuffer().get(f, first, n);
            case double[] d -> buffer.asDoubleBuffer().get(d, first, n);
            case int[] i -> buffer.asIntBuffer().get(i, first, n);
            case byte[] b -> buffer.get(b, first, n);
            default -> throw new IllegalArgumentException("no host copy for " + array.getClass().getSimpleName());
        }
    }
}
