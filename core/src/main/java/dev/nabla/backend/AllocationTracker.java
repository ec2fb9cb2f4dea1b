package dev.nabla.backend;

import dev.nabla.Device;
import dev.nabla.LeakReport;
import java.lang.ref.Cleaner;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Records where each live buffer of one backend was allocated, for {@link Device#leakReport()}. Backends call
 * {@link #record} when they hand a buffer out, but only when {@link #enabled()} is true: the check is one static read,
 * so tracking costs nothing while it is off (the default).
 *
 * <p>It is on when the environment variable {@code NABLA_TRACK_ALLOCATIONS} is {@code 1} or {@code true}, or the
 * system property {@code nabla.trackAllocations} is {@code true}, when this class initializes. {@link #setEnabled}
 * changes it at run time (tests, debuggers): buffers allocated while it was off are never recorded.
 *
 * <p>A site is the first stack frame outside Nabla's library packages ({@code dev.nabla}, {@code dev.nabla.autograd},
 * {@code .backend}, {@code .ops}, {@code .optim}, {@code .nn}, {@code .io}, {@code .summary}, {@code .check},
 * {@code .graph}, {@code .data}, {@code .cpu}, {@code .cuda} and their subpackages), skipping JDK frames; the op is
 * the library method that frame called.
 *
 * <pre>{@code
 * AllocationTracker.setEnabled(true);   // or NABLA_TRACK_ALLOCATIONS=1 at start
 * Tensor t = Tensor.zeros(1024);
 * System.out.println(Device.cpu().leakReport());   // names this line as the site of 4096 live bytes
 * }</pre>
 */
public final class AllocationTracker {
    private static final Set<String> LIBRARY = Set.of("autograd", "backend", "ops", "optim", "nn", "io", "summary",
            "check", "graph", "data", "cpu", "cuda");
    private static final StackWalker WALKER = StackWalker.getInstance();
    private static volatile boolean enabled = initiallyEnabled();

    private final Set<Entry> live = ConcurrentHashMap.newKeySet();

    /** An empty tracker; each backend keeps one for its device. */
    public AllocationTracker() {
    }

    private static boolean initiallyEnabled() {
        String env = System.getenv("NABLA_TRACK_ALLOCATIONS");
        return Boolean.getBoolean("nabla.trackAllocations") || "1".equals(env) || "true".equalsIgnoreCase(env);
    }

    /** Whether backends record allocation sites now: the one static read on the allocation path. */
    public static boolean enabled() {
        return enabled;
    }

    /** Turns recording on or off for every backend; buffers already allocated keep their state. */
    public static void setEnabled(boolean on) {
        enabled = on;
    }

    /**
     * One recorded buffer; identity equality, so equal sites of two buffers stay two entries.
     *
     * <pre>{@code
     * AllocationTracker.Entry e = tracker.record(bytes, buffer);   // when a backend allocates
     * e.release();                                                 // when the buffer goes back
     * }</pre>
     */
    public static final class Entry {
        private final Set<Entry> owner;
        private final String site;
        private final String op;
        private final long bytes;

        private Entry(Set<Entry> owner, String site, String op, long bytes) {
            this.owner = owner;
            this.site = site;
            this.op = op;
            this.bytes = bytes;
        }

        /** Forgets the buffer (it came back to its backend); a second call does nothing. */
        public void release() {
            owner.remove(this);
        }
    }

    /**
     * Records a buffer of {@code bytes} allocated by the calling thread now, until {@link Entry#release} forgets it.
     * When {@code buffer} is non-null the entry is also forgotten once {@code buffer} becomes unreachable (for
     * buffers the garbage collector reclaims without an explicit release).
     */
    public Entry record(long bytes, Object buffer) {
        String[] site = DEFERRED_SITE.get();
        String[] where = site != null ? site : where();
        Entry e = new Entry(live, where[0], where[1].replace('$', '.'), bytes);
        live.add(e);
        if (buffer != null) {
            Collected.CLEANER.register(buffer, e::release); // the action holds the entry, never the buffer
        }
        return e;
    }

    /** The site a buffer allocated now is recorded under, while a deferred storage allocates its own. */
    private static final ThreadLocal<String[]> DEFERRED_SITE = new ThreadLocal<>();

    /**
     * The calling code's site and op, as {@link #record} would find them now, or null when tracking is off: a deferred
     * storage, allocated when its values are first read, is recorded where its op was called ({@link #allocateAt}).
     */
    static String[] siteNow() {
        return enabled ? where() : null;
    }

    /** {@code backend.allocate(dtype, size)}, recorded under {@code site} (from {@link #siteNow}) when not null. */
    static Buffer allocateAt(String[] site, Backend backend, dev.nabla.DType dtype, long size) {
        if (site == null) {
            return backend.allocate(dtype, size);
        }
        DEFERRED_SITE.set(site);
        try {
            return backend.allocate(dtype, size);
        } finally {
            DEFERRED_SITE.remove();
        }
    }

    /** The first frame outside the library and the JDK, and the library op that frame called. */
    private static String[] where() {
        return WALKER.walk(frames -> {
            String op = "";
            for (var it = frames.iterator(); it.hasNext(); ) {
                StackWalker.StackFrame f = it.next();
                String cn = f.getClassName();
                if (isLibrary(cn)) {
                    String type = cn.substring(cn.lastIndexOf('.') + 1);
                    op = f.getMethodName().equals("<init>") ? "new " + type : type + "." + f.getMethodName();
                } else if (!isJdk(cn)) {
                    String file = f.getFileName() == null ? "Unknown Source" : f.getFileName();
                    return new String[] {cn + "." + f.getMethodName() + "(" + file + ":" + f.getLineNumber() + ")",
                        op};
                }
            }
            return new String[] {"(thread " + Thread.currentThread().getName() + ")", op};
        });
    }

    /** The live recorded buffers of {@code device} grouped by site and op, largest first. */
    public LeakReport report(Device device) {
        Map<List<String>, long[]> bySite = new HashMap<>();
        long bytes = 0;
        long buffers = 0;
        for (Entry e : live) {
            long[] acc = bySite.computeIfAbsent(List.of(e.site, e.op), k -> new long[2]);
            acc[0] += e.bytes;
            acc[1]++;
            bytes += e.bytes;
            buffers++;
        }
        List<LeakReport.Site> sites = new ArrayList<>();
        bySite.forEach((k, v) -> sites.add(new LeakReport.Site(k.get(0), k.get(1), v[0], v[1])));
        sites.sort((a, b) -> a.bytes() != b.bytes() ? Long.compare(b.bytes(), a.bytes())
                : a.buffers() != b.buffers() ? Long.compare(b.buffers(), a.buffers())
                : (a.site() + a.op()).compareTo(b.site() + b.op()));
        return new LeakReport(device, enabled, bytes, buffers, sites);
    }

    /** The Cleaner's thread starts when tracking first needs it, not when a backend loads this class. */
    private static final class Collected {
        static final Cleaner CLEANER = Cleaner.create();
    }

    /** Whether {@code className} belongs to Nabla's library (not to its tests, examples or benchmarks). */
    static boolean isLibrary(String className) {
        if (!className.startsWith("dev.nabla.")) {
            return false;
        }
        String rest = className.substring("dev.nabla.".length());
        int dot = rest.indexOf('.');
        return dot < 0 || LIBRARY.contains(rest.substring(0, dot));
    }

    private static boolean isJdk(String className) {
        return className.startsWith("java.") || className.startsWith("javax.") || className.startsWith("jdk.")
                || className.startsWith("sun.") || className.startsWith("com.sun.");
    }
}
