package dev.nabla.conformance;

import dev.nabla.Device;
import dev.nabla.backend.Backends;
import java.util.Arrays;
import java.util.List;

/**
 * The devices the conformance suite runs on, from the system property {@code nabla.test.devices} (a comma list,
 * default {@code cpu}). Each backend module sets it in its surefire configuration; {@code NABLA_DEVICE} adds its
 * device, so a GPU machine can run the CPU module's suite on {@code cuda:0} as well.
 */
public final class TestDevices {
    private TestDevices() {
    }

    /** Every configured device, usable or not (unusable ones are skipped with their reason). */
    public static List<Device> all() {
        String prop = System.getProperty("nabla.test.devices", "cpu");
        String env = System.getenv("NABLA_DEVICE");
        if (env != null && !env.isBlank()) {
            prop = prop + "," + env;
        }
        return Arrays.stream(prop.split(",")).map(String::trim).filter(s -> !s.isEmpty()).map(Device::parse)
                .distinct().toList();
    }

    /** Null when usable, else why not. */
    static String unusableReason(Device d) {
        if (Backends.isAvailable(d)) {
            return null;
        }
        try {
            Backends.get(d);
            return null;
        } catch (RuntimeException e) {
            return e.getMessage();
        }
    }
}
