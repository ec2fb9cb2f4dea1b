package dev.nabla.backend;

import dev.nabla.DType;
import dev.nabla.Device;
import dev.nabla.internal.Jfr;
import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/**
 * Java Flight Recorder events of the device allocators, so that JDK Mission Control draws a memory timeline:
 * {@code dev.nabla.Allocation} and {@code dev.nabla.Free} for each buffer a backend hands out and gets back (the
 * buffers {@link dev.nabla.MemoryStats} counts), with the live total after it, and {@code dev.nabla.MemoryPeak}
 * whenever the peak rises.
 *
 * <pre>{@code
 * java -XX:StartFlightRecording:filename=train.jfr ... Train      # then open train.jfr in Mission Control
 * jfr print --events dev.nabla.Allocation train.jfr
 * }</pre>
 *
 * <p>Like any JFR event they are recorded only while a recording that enables them runs (custom events are enabled
 * unless a recording's settings turn them off). Otherwise each call costs an {@code isEnabled()} check, which the JIT
 * reduces to a field read (the event object is not allocated).
 */
public final class MemoryEvents {
    private MemoryEvents() {
    }

    /** What an allocation and a free record: the buffer, and the totals after it. */
    abstract static class BufferEvent extends Event {
        @Label("Device")
        String device;
        @Label("Data Type")
        String dtype;
        @Label("Size")
        @DataAmount
        long bytes;
        @Label("Allocated")
        @Description("Bytes live buffers hold after this event")
        @DataAmount
        long allocated;
        @Label("Live Buffers")
        long buffers;

        /** Fills and commits the event, if a recording wants it. */
        final void commit(Device device, DType dtype, long bytes, long allocated, long buffers) {
            if (isEnabled()) {
                this.device = device.toString();
                this.dtype = dtype == null ? "" : dtype.name();
                this.bytes = bytes;
                this.allocated = allocated;
                this.buffers = buffers;
                commit();
            }
        }
    }

    @Name("dev.nabla.Allocation")
    @Label("Nabla Allocation")
    @Category({"Nabla", "Memory"})
    @Description("A device allocator handed out a buffer")
    static final class Allocation extends BufferEvent {
    }

    @Name("dev.nabla.Free")
    @Label("Nabla Free")
    @Category({"Nabla", "Memory"})
    @Description("A device allocator got a buffer back")
    @StackTrace(false)
    static final class Free extends BufferEvent {
    }

    @Name("dev.nabla.MemoryPeak")
    @Label("Nabla Memory Peak")
    @Category({"Nabla", "Memory"})
    @Description("The bytes live buffers hold reached a new maximum")
    static final class Peak extends Event {
        @Label("Device")
        String device;
        @Label("Peak")
        @DataAmount
        long peak;
    }

    /** Records that {@code device} handed out a buffer of {@code bytes}; the totals are after it. */
    public static void allocation(Device device, DType dtype, long bytes, long allocated, long buffers) {
        if (Jfr.PRESENT) {
            Recorded.allocation(device, dtype, bytes, allocated, buffers);
        }
    }

    /** Records that {@code device} got a buffer of {@code bytes} back; the totals are after it. */
    public static void free(Device device, DType dtype, long bytes, long allocated, long buffers) {
        if (Jfr.PRESENT) {
            Recorded.free(device, dtype, bytes, allocated, buffers);
        }
    }

    /** Records a new peak of {@code device}'s allocated bytes. */
    public static void peak(Device device, long peak) {
        if (Jfr.PRESENT) {
            Recorded.peak(device, peak);
        }
    }

    /** The events' side, loaded only where jdk.jfr exists ({@link Jfr}). */
    private static final class Recorded {
        static void allocation(Device device, DType dtype, long bytes, long allocated, long buffers) {
            new Allocation().commit(device, dtype, bytes, allocated, buffers);
        }

        static void free(Device device, DType dtype, long bytes, long allocated, long buffers) {
            new Free().commit(device, dtype, bytes, allocated, buffers);
        }

        static void peak(Device device, long peak) {
            Peak e = new Peak();
            if (e.isEnabled()) {
                e.device = device.toString();
                e.peak = peak;
                e.commit();
            }
        }
    }
}
