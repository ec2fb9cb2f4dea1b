package dev.nabla.conformance.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nabla.Device;
import dev.nabla.MemoryStats;
import dev.nabla.Tensor;
import dev.nabla.conformance.OnEachDevice;
import org.junit.jupiter.api.Test;

/**
 * {@link Device#memoryStats()} as documented on {@link MemoryStats}: allocated counts the blocks buffers hold,
 * reserved adds the cached free blocks, peak is the largest allocated. The CPU backend keeps no counters, which
 * {@code MemoryStats} documents as zeros; the CUDA backend's caching allocator keeps them.
 */
class MemoryStatsTest {
    private static final long MIB = 1 << 20;
    /** 16 MiB of float32 (zeros() makes FLOAT32): far larger than anything a test leaves behind between two reads. */
    private static final int FLOATS = 1 << 22;
    private static final long BYTES = 4L * FLOATS;

    private static void assertConsistent(MemoryStats s, String when) {
        assertTrue(s.allocated() >= 0 && s.allocated() <= s.reserved(), when + ": allocated within reserved: " + s);
        assertTrue(s.allocated() <= s.peak(), when + ": peak is at least allocated: " + s);
    }

    /**
     * The counters once unreachable tensors of earlier tests have been returned by their Cleaners (which would
     * otherwise lower {@code allocated} between two reads): collect until two reads agree.
     */
    private static MemoryStats settled(Device d) throws InterruptedException {
        MemoryStats last = d.memoryStats();
        for (int i = 0; i < 20; i++) {
            System.gc();
            Thread.sleep(20);
            MemoryStats now = d.memoryStats();
            if (now.equals(last)) {
                return now;
            }
            last = now;
        }
        return last;
    }

    @OnEachDevice
    void allocatingAndClosingATensorMovesTheCounters(Device d) throws InterruptedException {
        MemoryStats before = settled(d);
        if (d.kind().equals("cpu")) {
            // documented: zeros where a backend keeps none, whatever is allocated
            MemoryStats zeros = new MemoryStats(0, 0, 0);
            assertEquals(zeros, before);
            try (Tensor t = Tensor.zeros(d, FLOATS)) {
                assertEquals(0f, t.sum().item());
                assertEquals(zeros, d.memoryStats());
            }
            assertEquals(zeros, d.memoryStats());
            return;
        }
        assertConsistent(before, "before");
        Tensor t = Tensor.zeros(d, FLOATS);
        MemoryStats held = d.memoryStats();
        assertConsistent(held, "held");
        // the new buffer's block (at least its 16 MiB) is allocated; Cleaners may free others meanwhile, but never
        // 16 MiB of a test's leftovers, so the difference stays above half of it
        assertTrue(held.allocated() - before.allocated() >= BYTES / 2, "allocated grew by the buffer: " + before
                + " -> " + held);
        assertTrue(held.peak() >= before.peak() && held.peak() >= held.allocated(), "peak: " + held);

        t.close();
        MemoryStats freed = d.memoryStats();
        assertConsistent(freed, "freed");
        assertTrue(held.allocated() - freed.allocated() >= BYTES, "closing returns the block: " + held + " -> "
                + freed);
        assertTrue(freed.reserved() - freed.allocated() >= BYTES, "the block stays cached, still reserved: " + freed);
        assertTrue(freed.peak() >= held.allocated(), "peak never drops: " + freed);

        // the same size again reuses the cached block: allocated rises, nothing new is reserved
        try (Tensor again = Tensor.zeros(d, FLOATS)) {
            MemoryStats reused = d.memoryStats();
            assertTrue(reused.allocated() - freed.allocated() >= BYTES / 2, freed + " -> " + reused);
            assertTrue(reused.reserved() - freed.reserved() < BYTES, "served from the cache, no new 16 MiB block: "
                    + freed + " -> " + reused);
        }
    }

    @Test
    void printsMebibytes() {
        assertEquals("allocated 12.0 MiB, reserved 64.0 MiB, peak 40.0 MiB",
                new MemoryStats(12 * MIB, 64 * MIB, 40 * MIB).toString());
        assertEquals("allocated 0.5 MiB, reserved 1.0 MiB, peak 1.5 MiB",
                new MemoryStats(MIB / 2, MIB, 3 * MIB / 2).toString());
    }
}
