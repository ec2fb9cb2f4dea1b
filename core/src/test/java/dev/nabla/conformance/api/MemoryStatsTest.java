package dev.nabla.conformance.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.nabla.Device;
import dev.nabla.MemoryStats;
import dev.nabla.Tensor;
import dev.nabla.conformance.OnEachDevice;
import dev.nabla.conformance.memory.Settle;
import org.junit.jupiter.api.Test;

/**
 * {@link Device#memoryStats()} as documented on {@link MemoryStats}: allocated counts the blocks buffers hold,
 * reserved adds the cached free blocks, peak is the largest allocated, buffers counts the live ones. On the CPU the
 * counters are exact for arrays of 16 KiB and more and blind to smaller ones.
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

    private static MemoryStats settled(Device d) throws InterruptedException {
        return Settle.settled(d);
    }

    @OnEachDevice
    void allocatingAndClosingATensorMovesTheCounters(Device d) throws InterruptedException {
        MemoryStats before = settled(d);
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

    /** Exact on the CPU once earlier garbage is collected: nothing else allocates while the test runs. */
    @OnEachDevice
    void cpuCountsArraysOf16KiBAndMoreExactlyAndSmallerOnesNot(Device d) throws InterruptedException {
        assumeTrue(d.kind().equals("cpu"), "the 16 KiB threshold is the CPU pool's");
        MemoryStats before = settled(d);
        Tensor big = Tensor.zeros(d, 4096);              // 16 KiB exactly: pooled and counted
        MemoryStats held = d.memoryStats();
        assertEquals(before.allocated() + 16384, held.allocated(), before + " -> " + held);
        assertEquals(before.buffers() + 1, held.buffers(), before + " -> " + held);
        assertTrue(held.peak() >= held.allocated() && held.peak() >= before.peak(), held.toString());

        Tensor small = Tensor.zeros(d, 4095);            // one float short: a plain heap array, not counted
        assertEquals(held, d.memoryStats());
        small.close();
        assertEquals(held, d.memoryStats());

        big.close();
        MemoryStats freed = d.memoryStats();
        assertEquals(before.allocated(), freed.allocated(), held + " -> " + freed);
        assertEquals(before.buffers(), freed.buffers(), held + " -> " + freed);
        assertTrue(freed.reserved() >= freed.allocated() + 16384, "the array waits in the pool: " + freed);
        assertEquals(held.peak(), freed.peak(), "peak never drops");

        // the same length comes back from the pool: nothing new reserved
        try (Tensor again = Tensor.zeros(d, 4096)) {
            MemoryStats reused = d.memoryStats();
            assertEquals(freed.reserved(), reused.reserved(), freed + " -> " + reused);
            assertEquals(freed.allocated() + 16384, reused.allocated());
        }

        // an unclosed tensor comes back through its Cleaner once unreachable
        allocateAndDrop(d);
        MemoryStats dropped = d.memoryStats();
        for (int i = 0; i < 100 && dropped.buffers() != before.buffers(); i++) {
            System.gc();
            Thread.sleep(10);
            dropped = d.memoryStats();
        }
        assertEquals(before.allocated(), dropped.allocated(), "after GC: " + dropped);
        assertEquals(before.buffers(), dropped.buffers(), "after GC: " + dropped);
    }

    private static void allocateAndDrop(Device d) {
        Tensor t = Tensor.ones(d, 1 << 16);
        assertEquals(65536f, t.sum().item());
    }

    @Test
    void printsMebibytes() {
        assertEquals("allocated 12.0 MiB in 3 buffers, reserved 64.0 MiB, peak 40.0 MiB",
                new MemoryStats(12 * MIB, 64 * MIB, 40 * MIB, 3).toString());
        assertEquals("allocated 0.5 MiB in 1 buffer, reserved 1.0 MiB, peak 1.5 MiB",
                new MemoryStats(MIB / 2, MIB, 3 * MIB / 2, 1).toString());
        assertEquals(new MemoryStats(MIB, MIB, MIB, 0), new MemoryStats(MIB, MIB, MIB), "no count: 0 buffers");
    }
}
