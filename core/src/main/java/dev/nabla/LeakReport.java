package dev.nabla;

import java.util.List;
import java.util.Locale;

/**
 * The live buffers of a device grouped by where they were allocated, from {@link Device#leakReport()}: the first
 * stack frame outside Nabla's own packages (your code) and the Nabla call it made there (the op). Sites are sorted
 * by live bytes, largest first.
 *
 * <p>Recording sites costs a stack walk per allocation, so it is off unless the environment variable
 * {@code NABLA_TRACK_ALLOCATIONS=1} or the system property {@code -Dnabla.trackAllocations=true} is set when Nabla
 * starts; when it is off a report is empty and {@link #tracking()} is false.
 *
 * <pre>{@code
 * // NABLA_TRACK_ALLOCATIONS=1 java ... Train
 * List<Tensor> history = new ArrayList<>();
 * for (int step = 0; step < 1000; step++) {
 *     history.add(opt.minimize(() -> x.matmul(w).square().mean(), List.of(w)));   // oops: keeps every loss alive
 * }
 * System.gc();                                     // let the Cleaners forget what is already garbage
 * System.out.println(Device.cpu().leakReport());
 * // cpu: 1004 live buffers, 4.8 KiB, by allocation site (largest first):
 * //      3.9 KiB   1000  Tensor.mean at com.example.Train.lambda$main$0(Train.java:42)
 * //        512 B      1  Rng.normal at com.example.Train.main(Train.java:38)
 * //        256 B      2  Optimizer.minimize at com.example.Train.main(Train.java:42)
 * //        128 B      1  new Variable at com.example.Train.main(Train.java:37)
 * }</pre>
 *
 * <p>What is live: a buffer is recorded when the backend hands it out and forgotten when it comes back (at
 * {@link Tensor#close()} or when the Cleaner of an unreachable tensor runs). Unlike {@link MemoryStats}, the CPU
 * report includes the small arrays the backend does not pool: while tracking is on each gets a Cleaner of its own,
 * so it leaves the report once the garbage collector has found it unreachable (call {@code System.gc()} first for a
 * report without garbage). Buffers allocated while tracking was off are never listed.
 *
 * @param device the device
 * @param tracking whether allocation sites are being recorded
 * @param bytes the live bytes of all tracked buffers
 * @param buffers the number of tracked live buffers
 * @param sites every allocation site with live buffers, largest first
 */
public record LeakReport(Device device, boolean tracking, long bytes, long buffers, List<Site> sites) {
    /** How many sites {@link #toString()} prints. */
    public static final int PRINTED_SITES = 20;

    /**
     * One allocation site.
     *
     * @param site the first frame outside Nabla, as a stack trace prints it ({@code Class.method(File.java:42)}),
     *     or {@code "(thread <name>)"} when the whole stack was Nabla or the JDK
     * @param op the Nabla method that frame called ({@code Tensor.matmul}, {@code Optimizer.minimize}, {@code new Variable}), or
     *     {@code ""} when unknown
     * @param bytes live bytes allocated there
     * @param buffers live buffers allocated there
     *
     * <pre>{@code
     * for (LeakReport.Site site : Device.cpu().leakReport().sites()) {
     *     System.out.println(site.bytes() + " bytes from " + site.op() + " at " + site.site());
     * }
     * }</pre>
     */
    public record Site(String site, String op, long bytes, long buffers) {
        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%12s %6d  %s", size(bytes), buffers,
                    op.isEmpty() ? site : op + " at " + site);
        }
    }

    public LeakReport {
        sites = List.copyOf(sites);
    }

    /** The report as a table: the totals, then the {@value #PRINTED_SITES} largest sites, one a line. */
    @Override
    public String toString() {
        if (!tracking) {
            return device + ": allocation tracking is off (set NABLA_TRACK_ALLOCATIONS=1 or"
                    + " -Dnabla.trackAllocations=true before Nabla starts)";
        }
        StringBuilder sb = new StringBuilder();
        sb.append(device).append(": ").append(buffers).append(buffers == 1 ? " live buffer, " : " live buffers, ")
                .append(size(bytes)).append(", by allocation site (largest first):");
        for (int i = 0; i < Math.min(PRINTED_SITES, sites.size()); i++) {
            sb.append('\n').append(sites.get(i));
        }
        if (sites.size() > PRINTED_SITES) {
            sb.append("\n... ").append(sites.size() - PRINTED_SITES).append(" more sites");
        }
        return sb.toString();
    }

    static String size(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        if (bytes < 1024 * 1024) {
            return String.format(Locale.ROOT, "%.1f KiB", bytes / 1024.0);
        }
        return MemoryStats.mib(bytes);
    }
}
