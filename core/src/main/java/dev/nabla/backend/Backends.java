package dev.nabla.backend;

import dev.nabla.Device;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The registry of backend providers and the one backend instance per device.
 *
 * <pre>{@code
 * Backend b = Backends.get(Device.cpu());
 * System.out.println(Backends.diagnose());   // every provider, available or not, and why
 * }</pre>
 */
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
        return byRank(list);
    }

    /** Highest rank first; equal ranks keep their order. */
    static List<BackendProvider> byRank(List<BackendProvider> providers) {
        List<BackendProvider> list = new ArrayList<>(providers);
        list.sort(Comparator.comparingInt(BackendProvider::rank).reversed());
        return List.copyOf(list);
    }

    private static BackendProvider provider(String kind) {
        return provider(PROVIDERS, kind);
    }

    private static BackendProvider provider(List<BackendProvider> providers, String kind) {
        for (BackendProvider p : providers) {
            if (p.kind().equals(kind)) {
                return p;
            }
        }
        return null;
    }

    /** The provider that serves {@code d}; throws, with the reason, when there is none or it is unusable. */
    private static BackendProvider usableProvider(List<BackendProvider> providers, Device d) {
        BackendProvider p = provider(providers, d.kind());
        if (p == null) {
            throw new IllegalStateException("no backend for device " + d + " on the class path (add the nabla-"
                    + d.kind() + " artifact); providers found: " + providers.stream().map(BackendProvider::kind)
                    .toList());
        }
        if (!p.isAvailable()) {
            throw new IllegalStateException("device " + d + " is unavailable: " + p.availabilityReason());
        }
        return p;
    }

    /** The device kinds the providers on the class path declare, highest rank first. */
    public static List<String> kinds() {
        return PROVIDERS.stream().map(BackendProvider::kind).toList();
    }

    /**
     * Closes the backend of {@code device} if one was created ({@link Backend#close()}) and forgets it; the next
     * {@link #get} creates a new one. Returns false when there was none.
     */
    public static boolean close(Device device) {
        Backend b = BACKENDS.remove(device);
        if (b == null) {
            return false;
        }
        b.close();
        return true;
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
        return BACKENDS.computeIfAbsent(device, d -> usableProvider(PROVIDERS, d).create(d));
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
        String env = System.getenv("NABLA_DEVICE");
        String property = System.getProperty("nabla.device");
        Device d = chooseDefault(PROVIDERS, env, property, LOG);
        if ((env != null && !env.isBlank()) || (property != null && !property.isBlank())) {
            get(d); // a forced device's backend is created now, so that a failing create() surfaces here
        }
        return d;
    }

    /**
     * The default device among {@code providers}: the device named by {@code env} ({@code NABLA_DEVICE}) or, when
     * that is blank, by {@code property} ({@code nabla.device}), which must be usable; else the highest-ranked usable
     * provider's device. Falling back to the CPU while another provider is unusable logs one INFO line per such
     * provider, with its reason.
     */
    static Device chooseDefault(List<BackendProvider> providers, String env, String property, System.Logger log) {
        String forced = env;
        if (forced == null || forced.isBlank()) {
            forced = property;
        }
        if (forced != null && !forced.isBlank()) {
            Device d = parse(providers, forced);
            usableProvider(providers, d); // fails with the reason when the forced device cannot be used
            return d;
        }
        List<BackendProvider> ranked = byRank(providers);
        for (BackendProvider p : ranked) {
            if (p.isDefaultCandidate() && p.isAvailable()) {
                Device d = p.kind().equals("cpu") ? Device.cpu() : Device.of(p.kind(), 0);
                if (!d.equals(Device.cpu()) || ranked.size() == 1) {
                    log.log(Level.DEBUG, "default device " + d);
                } else {
                    for (BackendProvider other : ranked) {
                        if (other.isDefaultCandidate() && !other.isAvailable()) {
                            log.log(Level.INFO, "Nabla runs on cpu: " + other.kind() + " unavailable ("
                                    + other.availabilityReason() + ")");
                        }
                    }
                }
                return d;
            }
        }
        throw new IllegalStateException("no usable Nabla backend on the class path (add dev.nabla:nabla-cpu)");
    }

    /** {@code KIND} or {@code KIND:N} of one of {@code providers}, else as {@link Device#parse} reads it. */
    static Device parse(List<BackendProvider> providers, String text) {
        String t = text.trim().toLowerCase(java.util.Locale.ROOT);
        for (BackendProvider p : providers) {
            String k = p.kind();
            if (!k.equals("cpu") && (t.equals(k) || t.startsWith(k + ":"))) {
                try {
                    return Device.of(k, t.equals(k) ? 0 : Integer.parseInt(t.substring(k.length() + 1)));
                } catch (NumberFormatException e) {
                    break;
                }
            }
        }
        return Device.parse(text);
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
