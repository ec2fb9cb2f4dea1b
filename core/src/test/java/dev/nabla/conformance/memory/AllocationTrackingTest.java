package dev.nabla.conformance.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import dev.nabla.DType;
import dev.nabla.Device;
import dev.nabla.LeakReport;
import dev.nabla.Rng;
import dev.nabla.Tensor;
import dev.nabla.Variable;
import dev.nabla.backend.AllocationTracker;
import dev.nabla.conformance.OnEachDevice;
import dev.nabla.optim.Adam;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * {@link Device#leakReport()}: with allocation tracking on, every live buffer is listed under the first frame of the
 * caller's code and the Nabla method it called; closed and collected buffers leave the report.
 */
class AllocationTrackingTest {
    private static final String HERE = AllocationTrackingTest.class.getName();

    private static Optional<LeakReport.Site> site(Device d, String method, String op) {
        return d.leakReport().sites().stream()
                .filter(s -> s.site().startsWith(HERE + "." + method + "(") && s.op().equals(op))
                .findFirst();
    }

    /** Collects until the site holds {@code buffers} (0: gone), at most 5 s. */
    private static Optional<LeakReport.Site> awaitSite(Device d, String method, String op, long buffers)
            throws InterruptedException {
        Optional<LeakReport.Site> s = site(d, method, op);
        for (int i = 0; i < 250 && s.map(LeakReport.Site::buffers).orElse(0L) != buffers; i++) {
            System.gc();
            Thread.sleep(20);
            s = site(d, method, op);
        }
        return s;
    }

    @OnEachDevice
    void listsEachLiveBufferUnderTheLineThatAllocatedIt(Device d) throws InterruptedException {
        boolean was = AllocationTracker.enabled();
        AllocationTracker.setEnabled(true);
        try {
            Tensor big = Tensor.zeros(d, 8192); int line = new Throwable().getStackTrace()[0].getLineNumber();
            LeakReport.Site s = site(d, "listsEachLiveBufferUnderTheLineThatAllocatedIt", "Tensor.zeros").orElseThrow(
                    () -> new AssertionError("no site for Tensor.zeros in\n" + d.leakReport()));
            assertEquals(1, s.buffers(), s.toString());
            assertEquals(32768, s.bytes(), s.toString()); // 8192 floats; also a CUDA size class exactly
            assertTrue(s.site().endsWith("(AllocationTrackingTest.java:" + line + ")"), s.site());
            LeakReport report = d.leakReport();
            assertTrue(report.tracking());
            assertTrue(report.bytes() >= 32768 && report.buffers() >= 1, report.toString());
            assertTrue(report.toString().contains("Tensor.zeros at " + s.site()), report.toString());

            big.close();
            assertEquals(Optional.empty(), site(d, "listsEachLiveBufferUnderTheLineThatAllocatedIt", "Tensor.zeros"),
                    "close() forgets it at once");
        } finally {
            AllocationTracker.setEnabled(was);
        }
    }

    /** The leak the report is for: a list that keeps every step's loss. Small buffers are listed too. */
    @OnEachDevice
    void findsTheLossesAListKeepsAlive(Device d) throws InterruptedException {
        boolean was = AllocationTracker.enabled();
        AllocationTracker.setEnabled(true);
        try {
            Rng rng = Rng.seeded(1);
            Variable w = new Variable(rng.normal(d, DType.FLOAT32, 8, 4));
            Tensor x = rng.normal(d, DType.FLOAT32, 16, 8);
            Adam adam = new Adam(1e-2);
            List<Tensor> history = new ArrayList<>();
            for (int step = 0; step < 50; step++) {
                history.add(adam.minimize(() -> x.matmul(w).square().mean(), List.of(w)));
            }
            String lambda = "lambda$findsTheLossesAListKeepsAlive$0";
            LeakReport.Site s = awaitSite(d, lambda, "Tensor.mean", 50).orElseThrow(
                    () -> new AssertionError("no site for the losses in\n" + d.leakReport()));
            assertEquals(50, s.buffers(), "the 50 kept losses, the garbage around them collected:\n" + d.leakReport());
            System.out.println("AllocationTrackingTest " + d + ": " + d.leakReport());
            // whatever else the steps allocated at that line (matmul, square) was garbage
            assertEquals(Optional.empty(), awaitSite(d, lambda, "Tensor.matmul", 0));

            history.clear();
            assertEquals(Optional.empty(), awaitSite(d, lambda, "Tensor.mean", 0), "collected once dropped");
            x.close();
            w.close();
        } finally {
            AllocationTracker.setEnabled(was);
        }
    }

    @Test
    void offUnlessAskedFor() {
        assumeFalse(Boolean.getBoolean("nabla.trackAllocations") || System.getenv("NABLA_TRACK_ALLOCATIONS") != null,
                "tracking was asked for in this run");
        assertFalse(AllocationTracker.enabled());
        LeakReport r = Device.cpu().leakReport();
        assertFalse(r.tracking());
        assertEquals("cpu: allocation tracking is off (set NABLA_TRACK_ALLOCATIONS=1 or -Dnabla.trackAllocations=true"
                + " before Nabla starts)", r.toString());
    }

    @Test
    void printsTheTopSitesLargestFirst() {
        List<LeakReport.Site> sites = new ArrayList<>();
        for (int i = 0; i < 22; i++) {
            sites.add(new LeakReport.Site("com.example.Train.main(Train.java:" + (10 + i) + ")", "Tensor.add",
                    1000L * (22 - i), 1));
        }
        sites.set(0, new LeakReport.Site("com.example.Train.main(Train.java:42)", "Optimizer.minimize",
                400L << 10, 1000));
        LeakReport r = new LeakReport(Device.cpu(), true, (400L << 10) + 200_000, 1021, sites);
        String[] lines = r.toString().split("\n");
        assertEquals("cpu: 1021 live buffers, 595.3 KiB, by allocation site (largest first):", lines[0]);
        assertEquals("   400.0 KiB   1000  Optimizer.minimize at com.example.Train.main(Train.java:42)", lines[1]);
        assertEquals("    20.5 KiB      1  Tensor.add at com.example.Train.main(Train.java:11)", lines[2]);
        assertEquals(1 + LeakReport.PRINTED_SITES + 1, lines.length);
        assertEquals("... 2 more sites", lines[lines.length - 1]);
    }
}
