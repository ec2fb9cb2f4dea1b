package dev.nabla;

import dev.nabla.backend.Backends;
import java.util.Objects;

/**
 * Where a tensor's buffer lives: {@code cpu} or {@code cuda:N}.
 *
 * <pre>{@code
 * Device d = Device.defaultDevice();          // cuda:0 when a GPU and the CUDA backend are present, else cpu
 * Tensor x = Tensor.ones(Device.cpu(), 2, 3); // an explicit device as first argument
 * }</pre>
 *
 * <p>The environment variable {@code NABLA_DEVICE} ({@code cpu}, {@code cuda}, {@code cuda:N}) overrides the default.
 */
public final class Device {
    private static final Device CPU = new Device("cpu", 0);
    private final String kind;
    private final int index;

    private Device(String kind, int index) {
        this.kind = kind;
        this.index = index;
    }

    /** The host CPU. */
    public static Device cpu() {
        return CPU;
    }

    /** The CUDA GPU with the given ordinal. */
    public static Device cuda(int index) {
        if (index < 0) {
            throw new IllegalArgumentException("cuda device index must be >= 0, got " + index);
        }
        return new Device("cuda", index);
    }

    /** Parses {@code cpu}, {@code cuda} (meaning {@code cuda:0}) or {@code cuda:N}. */
    public static Device parse(String text) {
        dev.nabla.ops.Checks.notNull("Device.parse", "text", text);
        String t = text.trim().toLowerCase(java.util.Locale.ROOT);
        if (t.equals("cpu")) {
            return CPU;
        }
        if (t.equals("cuda") || t.equals("gpu")) {
            return cuda(0);
        }
        if (t.startsWith("cuda:")) {
            try {
                return cuda(Integer.parseInt(t.substring(5)));
            } catch (NumberFormatException e) {
                // falls through to the error below
            }
        }
        throw new IllegalArgumentException("Device.parse: unknown device '" + text + "': expected cpu, cuda or cuda:N");
    }

    /**
     * The device new tensors go to: {@code NABLA_DEVICE} when set (an unusable forced device is an error),
     * else {@code cuda:0} when usable, else {@code cpu}.
     */
    public static Device defaultDevice() {
        return Backends.defaultDevice();
    }

    /** True when the CUDA backend is on the class path and found a usable device. */
    public static boolean cudaAvailable() {
        return Backends.isAvailable(cuda(0));
    }

    /** True for a CUDA device. */
    public boolean isCuda() {
        return kind.equals("cuda");
    }

    /** The backend family, {@code cpu} or {@code cuda}. */
    public String kind() {
        return kind;
    }

    /** The device ordinal (0 for the CPU). */
    public int index() {
        return index;
    }

    /**
     * The device allocator's counters (allocated, reserved and peak bytes, live buffers); creates the device's
     * backend if needed. See {@link MemoryStats} for what each backend counts.
     */
    public MemoryStats memoryStats() {
        return Backends.get(this).memoryStats();
    }

    /**
     * The buffers live on this device now, grouped by the line of your code that allocated them, largest first;
     * empty unless allocation tracking is on ({@code NABLA_TRACK_ALLOCATIONS=1} or
     * {@code -Dnabla.trackAllocations=true}). {@code toString()} prints the top sites:
     *
     * <pre>{@code
     * System.gc();                                  // let the Cleaners forget what is already garbage
     * System.out.println(Device.cpu().leakReport());
     * // cpu: 1004 live buffers, 4.8 KiB, by allocation site (largest first):
     * //      3.9 KiB   1000  Tensor.mean at com.example.Train.lambda$main$0(Train.java:42)
     * //        512 B      1  Rng.normal at com.example.Train.main(Train.java:38)
     * }</pre>
     *
     * See {@link LeakReport} for what counts as live.
     */
    public LeakReport leakReport() {
        return Backends.get(this).leakReport();
    }

    /** A human-readable report of every backend: found or not, and why. */
    public static String diagnose() {
        return Backends.diagnose();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Device d && d.kind.equals(kind) && d.index == index;
    }

    @Override
    public int hashCode() {
        return Objects.hash(kind, index);
    }

    @Override
    public String toString() {
        return isCuda() ? kind + ":" + index : kind;
    }
}
