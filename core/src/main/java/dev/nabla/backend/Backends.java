package dev.nabla.backend;

import dev.nabla.Device;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.ConcurrentHashMap;

/** The registry of backend providers and the one backend instance per device. */
public final class Backends {
    private static final System.Logger LOG = System.getLogger("dev.nabla");
    private static final List<BackendProvider> PROVIDERS = loadProviders();
    private static final Map<Device, Backend> BACKENDS = new ConcurrentHashMap<>();
    private static volatile Device defaultDevice;

    private Backends() {
    }

    private static List<BackendProvider> loadProviders() {
        List<BackendProvider> list = new ArrayList<>();
        ServiceLoader.load(BackendProvider.class, Backends.class.getClassLoader()).forEach(list::add);
        list.sort(Comparator.comparingInt(BackendProvider::rank).reversed());
        return List.copyOf(list);
    }

    private static BackendProvider provider(String kind) {
        for (BackendProvider p : PROVIDERS) {
            if (p.kind().equals(kind)) {
                return p;
            }
        }
        return null;
    }

    /** True when a provider for the device's kind is present and usable. */
    public static boolean isAvailable(Device device) {
        BackendProvider p = provider(device.kind());
        return p != null && p.isAvailable();
    }

    /** The backend of {@code device}, created on first use. */
    public static Backend get(Device device) {
        Backend b = BACKENDS.get(device);
        if (b != null) {
            return b;
        }
        return BACKENDS.computeIfAbsent(device, d -> {
            BackendProvider p = provider(d.kind());
            if (p == null) {
                throw new IllegalStateException("no backend for device " + d + " on the class path (add the nabla-"
                        + d.kind() + " artifact); providers found: " + kinds());
            }
            if (!p.isAvailable()) {
                throw new IllegalStateException("device " + d + " is unavailable: " + p.availabilityReason());
            }
            return p.create(d);
        });
    }

    private static List<String> kinds() {
        return PROVIDERS.stream().map(BackendProvider::kind).toList();
    }

    /** See {@link Device#defaultDevice()}. */
    public static Device defaultDevice() {
        Device d = defaultDevice;
        if (d == null) {
            synchronized (Backends.class) {
                d = defaultDevice;
                if (d == null) {
                    d = chooseDefault();
                    defaultDevice = d;
                }
            }
        }
        return d;
    }

    private static Device chooseDefault() {
        String forced = System.getenv("NABLA_DEVICE");
        if (forced == null || forced.isBlank()) {
            forced = System.getProperty("nabla.device");
        }
        if (forced != null && !forced.isBlank()) {
            Device d = Device.parse(forced);
            get(d); // fails with the reason when the forced device cannot be used
            return d;
        }
        for (BackendProvider p : PROVIDERS) {
            if (p.isAvailable()) {
                Device d = p.kind().equals("cpu") ? Device.cpu() : Device.parse(p.kind());
                if (!d.equals(Device.cpu()) || PROVIDERS.size() == 1) {
                    LOG.log(Level.DEBUG, "default device " + d);
                } else {
                    for (BackendProvider other : PROVIDERS) {
                        if (!other.isAvailable()) {
                            LOG.log(Level.INFO, "Nabla runs on cpu: " + other.kind() + " unavailable ("
                                    + other.availabilityReason() + ")");
                        }
                    }
                }
                return d;
            }
        }
        throw new IllegalStateException("no usable Nabla backend on the class path (add dev.nabla:nabla-cpu)");
    }

    /** The report behind {@code Device.diagnose()}. */
    public static String diagnose() {
        StringBuilder sb = new StringBuilder("Nabla backends:\n");
        if (PROVIDERS.isEmpty()) {
            sb.append("  none found on the class path\n");
        }
        for (BackendProvider p : PROVIDERS) {
            for (String line : p.diagnose().split("\n")) {
                sb.append("  ").append(line).append('\n');
            }
        }
        return sb.toString();
    }
}
