package dev.nabla.backend;

import dev.nabla.Device;

/**
 * A backend plugin, found with {@link java.util.ServiceLoader} from {@code META-INF/services}.
 *
 * <pre>{@code
 * // META-INF/services/dev.nabla.backend.BackendProvider (or "provides" in module-info) names:
 * public final class MyProvider implements BackendProvider {
 *     public String kind() { return "mydevice"; }
 *     public int rank() { return 5; }
 *     public boolean isAvailable() { return true; }
 *     public Backend create(Device device) { return new MyBackend(device); }
 * }
 * }</pre>
 */
public interface BackendProvider {
    /**
     * The device kind this provider serves: {@code cpu}, {@code cuda}, or another lower-case name
     * ({@code [a-z][a-z0-9_-]*}) that {@code Device.parse} then accepts, such as {@code cuda-emu}.
     */
    String kind();

    /** Preference when several kinds are usable; the highest usable rank becomes the default device. */
    int rank();

    /**
     * False for a backend that must be asked for by name ({@code NABLA_DEVICE}, {@code Device.parse}) and is never
     * the default device, however it ranks (an emulator for testing).
     */
    default boolean isDefaultCandidate() {
        return true;
    }

    /** True when the backend can run here (library loaded, device present). */
    boolean isAvailable();

    /** One line saying why the backend is unavailable, or what it found when it is. */
    String availabilityReason();

    /** The backend driving {@code device}; called once per device. */
    Backend create(Device device);

    /** A multi-line report for {@code Device.diagnose()}. */
    default String diagnose() {
        return kind() + ": " + (isAvailable() ? "available" : "unavailable") + " (" + availabilityReason() + ")";
    }
}
