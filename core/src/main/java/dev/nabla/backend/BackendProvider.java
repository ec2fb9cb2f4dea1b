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
    /** The device kind this provider serves: {@code cpu} or {@code cuda}. */
    String kind();

    /** Preference when several kinds are usable; the highest usable rank becomes the default device. */
    int rank();

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
