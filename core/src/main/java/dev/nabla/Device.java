package dev.nabla;

import dev.nabla.backend.Backends;
import java.util.Objects;

/**
 * Where a tensor's buffer lives: {@code cpu}, {@code cuda:N}, or a device of another kind that a backend provider
 * on the class path declares (such as {@code cuda-emu:N}, the CUDA backend on an emulated driver, which runs the
 * CUDA kernels on the host for testing and is never the default).
 *
 * <pre>{@code
 * Device d = Device.defaultDevice();          // cuda:0 when a GPU and the CUDA backend are present, else cpu
 * Tensor x = Tensor.ones(Device.cpu(), 2, 3); // an explicit device as first argument
 * }</pre>
 *
 * <p>The environment variable {@code NABLA_DEVICE} ({@code cpu}, {@code cuda}, {@code cuda:N}, or another declared kind
 * such as {@code cuda-emu}) overrides the default.
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

    /**
     * A device of a kind a backend provider declares ({@code BackendProvider.kind()}), e.g.
     * {@code Device.of("cuda-emu", 0)}; {@code of("cpu", 0)} is {@link #cpu()}.
     */
    public static Device of(String kind, int index) {
        dev.nabla.ops.Checks.notNull("Device.of", "kind", kind);
        String k = kind.trim().toLowerCase(java.util.Locale.ROOT);
        if (!k.matches("[a-z][a-z0-9_-]*")) {
            throw new IllegalArgumentException("Device.of: bad device kind '" + kind + "'");
        }
        if (index < 0) {
            throw new IllegalArgumentException(k + " device index must be >= 0, got " + index);
        }
        if (k.equals("cpu")) {
            if (index != 0) {
                throw new IllegalArgumentException("Device.of: the cpu device has index 0, got " + index);
            }
            return CPU;
        }
        return new Device(k, index);
    }

    /**
     * Parses {@code cpu}, {@code cuda} (meaning {@code cuda:0}) or {@code cuda:N}, and {@code KIND} or
     * {@code KIND:N} for any other kind a backend provider on the class path declares (e.g. {@code cuda-emu}).
     */
    public static Device parse(String text) {
        dev.nabla.ops.Checks.notNull("Device.parse", "text", text);
        String t = text.trim().toLowerCase(java.util.Locale.ROOT);
        if (t.equals("cpu")) {
            return CPU;
        }
        if (t.equals("gpu")) {
            return cuda(0);
        }
        int colon = t.indexOf(':');
        String kind = colon < 0 ? t : t.substring(0, colon);
        java.util.Set<String> kinds = new java.util.TreeSet<>(Backends.kinds());
        kinds.add("cuda");
        if (kinds.contains(kind) && !kind.equals("cpu")) {
            try {
                return of(kind, colon < 0 ? 0 : Integer.parseInt(t.substring(colon + 1)));
            } catch (NumberFormatException e) {
                // falls through to the error below
            }
        }
        kinds.add("cpu");
        throw new IllegalArgumentException("Device.parse: unknown device '" + text + "': expected cpu, cuda or cuda:N"
                + (kinds.size() > 2 ? " (kinds on the class path: " + String.join(", ", kinds) + ")" : ""));
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

    /** True for a CUDA device, real ({@code cuda}) or emulated ({@code cuda-emu}). */
    public boolean isCuda() {
        return kind.equals("cuda") || kind.equals("cuda-emu");
    }

    /** The backend family: {@code cpu}, {@code cuda}, or another kind a provider declares. */
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
        return this == CPU || kind.equals("cpu") ? kind : kind + ":" + index;
    }
}
