package dev.nabla.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nabla.DType;
import dev.nabla.MemoryStats;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The pool's counters on a pool of its own, so every number is exact, and the JFR events they move with. */
class BufferPoolTest {
    private static final int N = 8192; // 32 KiB of float32

    @Test
    void countsWhatItHandsOutAndGetsBack() {
        BufferPool pool = new BufferPool(64 << 10); // room for two 32 KiB arrays
        Object a = pool.take(DType.FLOAT32, N);
        Object b = pool.take(DType.FLOAT32, N);
        assertEquals(new MemoryStats(64 << 10, 64 << 10, 64 << 10, 2), pool.stats());
        Object small = pool.take(DType.FLOAT32, 100); // 400 bytes: left to the GC, not counted
        assertEquals(new MemoryStats(64 << 10, 64 << 10, 64 << 10, 2), pool.stats());
        pool.give(DType.FLOAT32, small);
        pool.give(DType.FLOAT32, a);
        assertEquals(new MemoryStats(32 << 10, 64 << 10, 64 << 10, 1), pool.stats(), "a waits in the pool");
        assertSame(a, pool.take(DType.FLOAT32, N), "and is reused");
        assertEquals(new MemoryStats(64 << 10, 64 << 10, 64 << 10, 2), pool.stats());
        Object c = pool.take(DType.INT32, N); // another dtype: a new array
        assertEquals(new MemoryStats(96 << 10, 96 << 10, 96 << 10, 3), pool.stats());
        pool.give(DType.FLOAT32, a);
        pool.give(DType.FLOAT32, b);
        pool.give(DType.INT32, c); // the pool is full: an array of the other size makes room
        assertEquals(new MemoryStats(0, 64 << 10, 96 << 10, 0), pool.stats());
        pool.clear();
        assertEquals(new MemoryStats(0, 0, 96 << 10, 0), pool.stats());
    }

    /** The kernel tests' pool: whatever it hands out, new or given back, is garbage, never zeros. */
    @Test
    void aPoisonedPoolHandsOutGarbage() {
        BufferPool pool = BufferPool.poisoned(1 << 20);
        float[] fresh = (float[]) pool.take(DType.FLOAT32, N);
        assertTrue(Float.isNaN(fresh[0]) && Float.isNaN(fresh[N - 1]));
        java.util.Arrays.fill(fresh, 0);
        pool.give(DType.FLOAT32, fresh);
        float[] back = (float[]) pool.take(DType.FLOAT32, N);
        assertSame(fresh, back);
        assertTrue(Float.isNaN(back[N / 2]));
        assertTrue(Double.isNaN(((double[]) pool.take(DType.FLOAT64, 100))[99]));
        assertEquals(-1, ((int[]) pool.take(DType.INT32, N))[0]);
        assertEquals((byte) 0x5A, ((byte[]) pool.take(DType.BOOL, 7))[6]);
    }

    /** {@code -Dnabla.cpu.poisonBuffers=true} gives the provider's backend the poisoned pool, and only then. */
    @Test
    void thePoisonBuffersPropertyChoosesTheBackendsPool() {
        String before = System.getProperty("nabla.cpu.poisonBuffers");
        try {
            System.setProperty("nabla.cpu.poisonBuffers", "true");
            assertTrue(Float.isNaN(((float[]) CpuBackend.defaultPool(1 << 20).take(DType.FLOAT32, N))[N - 1]));
            System.setProperty("nabla.cpu.poisonBuffers", "false");
            assertEquals(0f, ((float[]) CpuBackend.defaultPool(1 << 20).take(DType.FLOAT32, N))[N - 1]);
        } finally {
            if (before == null) {
                System.clearProperty("nabla.cpu.poisonBuffers");
            } else {
                System.setProperty("nabla.cpu.poisonBuffers", before);
            }
        }
    }

    /**
     * A full pool makes room for the array given back by dropping the free arrays of the sizes least recently taken
     * or given; one that dropped the returned array instead kept stale sizes for good, and every later step of a
     * program with new shapes allocated afresh.
     */
    @Test
    void aFullPoolDropsTheLeastRecentlyUsedSizes() {
        BufferPool pool = new BufferPool(4 * (32 << 10) + 64); // room for four arrays of about 32 KiB
        Object[] stale = new Object[4];
        for (int i = 0; i < stale.length; i++) {
            stale[i] = pool.take(DType.FLOAT32, N + i);
        }
        for (Object a : stale) {
            pool.give(DType.FLOAT32, a);
        }
        Object first = pool.take(DType.FLOAT32, N);
        pool.give(DType.FLOAT32, first); // size N is now the most recently used
        assertEquals(4 * (32 << 10) + 24, pool.stats().reserved(), "all four kept");

        Object fresh = pool.take(DType.FLOAT32, N - 1); // a new size: a new array, and the pool is full
        pool.give(DType.FLOAT32, fresh);
        assertSame(fresh, pool.take(DType.FLOAT32, N - 1), "the new size was kept");
        assertSame(first, pool.take(DType.FLOAT32, N), "the most recently used size was kept");
        assertTrue(pool.take(DType.FLOAT32, N + 1) != stale[1], "the least recently used size made room");
        assertSame(stale[2], pool.take(DType.FLOAT32, N + 2));
        assertSame(stale[3], pool.take(DType.FLOAT32, N + 3));

        for (int step = 0; step < 100; step++) { // a program's new shapes keep being pooled
            Object a = pool.take(DType.FLOAT32, 2 * N + step);
            pool.give(DType.FLOAT32, a);
            assertSame(a, pool.take(DType.FLOAT32, 2 * N + step));
            pool.give(DType.FLOAT32, a);
            assertTrue(pool.stats().reserved() - pool.stats().allocated() <= 4 * (32 << 10) + 64);
        }
    }

    @Test
    void anArrayThatCannotFitIsDroppedAndTheRestKept() {
        BufferPool pool = new BufferPool(2 * (32 << 10));
        Object a = pool.take(DType.FLOAT32, N);
        Object b = pool.take(DType.FLOAT32, N);
        Object c = pool.take(DType.FLOAT32, N);
        Object huge = pool.take(DType.FLOAT32, 3 * N); // larger than the pool
        pool.give(DType.FLOAT32, a);
        pool.give(DType.FLOAT32, b);
        pool.give(DType.FLOAT32, huge);
        pool.give(DType.FLOAT32, c); // fits only if a or b went: the pool keeps them, drops c
        assertEquals(new MemoryStats(0, 2 * (32 << 10), 6 * (32 << 10), 0), pool.stats());
        Object x = pool.take(DType.FLOAT32, N);
        Object y = pool.take(DType.FLOAT32, N);
        assertTrue((x == a || x == b) && (y == a || y == b) && x != y, "a and b stayed");
        assertTrue(pool.take(DType.FLOAT32, 3 * N) != huge, "the array larger than the pool was dropped");
    }

    /**
     * Code that drops its buffers: a fake collection hands every dropped array back, as the Cleaners would. The arrays
     * in circulation stay about one nudge limit (here 10 arrays) above what is held, step after step; when the nudge
     * counted fresh allocations only, the steps after a collection emptied the pool without a miss and every cycle
     * added a limit's worth of new arrays, up to the pool's capacity (here 1000 arrays).
     */
    @Test
    void droppedArraysCirculateWithinTheNudgeLimit() {
        long bytes = 4L * N;
        java.util.List<Object> dropped = new java.util.ArrayList<>();
        java.util.Set<Object> distinct = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        BufferPool[] pool = new BufferPool[1];
        long[] clock = {0};
        GcNudge nudge = new GcNudge(10 * bytes, 1000 * bytes, () -> {
            dropped.forEach(a -> pool[0].give(DType.FLOAT32, a));
            dropped.clear();
        }, () -> clock[0]++);
        pool[0] = new BufferPool(1000 * bytes, nudge);
        Object held = pool[0].take(DType.FLOAT32, N); // a weight, never given back
        distinct.add(held);
        for (int step = 0; step < 500; step++) {
            clock[0] += 1_000_000; // a step takes 1 ms, a collection (two clock reads) 1 ns: cheap
            for (int k = 0; k < 3; k++) {
                Object a = pool[0].take(DType.FLOAT32, N);
                distinct.add(a);
                dropped.add(a);
            }
        }
        assertTrue(distinct.size() <= 1 + 10 + 3, distinct.size() + " arrays circulated");
        assertTrue(nudge.nudges() >= 500 * 3 / 13, nudge.nudges() + " collections");
    }

    @Test
    void allocationsFreesAndNewPeaksAreJfrEvents(@TempDir Path dir) throws IOException {
        BufferPool pool = new BufferPool(1 << 20);
        Path file = dir.resolve("pool.jfr");
        try (Recording r = new Recording()) {
            r.enable("dev.nabla.Allocation");
            r.enable("dev.nabla.Free");
            r.enable("dev.nabla.MemoryPeak");
            r.start();
            Object a = pool.take(DType.FLOAT32, N);     // peak 32 KiB
            Object b = pool.take(DType.FLOAT64, N);     // peak 96 KiB
            pool.give(DType.FLOAT32, a);
            a = pool.take(DType.FLOAT32, N);            // back to 96 KiB: no new peak
            pool.give(DType.FLOAT32, a);
            pool.give(DType.FLOAT64, b);
            pool.take(DType.FLOAT32, 100);              // small: no event
            r.stop();
            r.dump(file);
        }
        long me = Thread.currentThread().threadId();
        List<String> seen = RecordingFile.readAllEvents(file).stream()
                .filter(e -> e.getThread() != null && e.getThread().getJavaThreadId() == me)
                .sorted(java.util.Comparator.comparing(RecordedEvent::getStartTime))
                .map(BufferPoolTest::describe)
                .toList();
        assertEquals(List.of(
                "Allocation FLOAT32 32768 -> 32768 in 1",
                "MemoryPeak 32768",
                "Allocation FLOAT64 65536 -> 98304 in 2",
                "MemoryPeak 98304",
                "Free FLOAT32 32768 -> 65536 in 1",
                "Allocation FLOAT32 32768 -> 98304 in 2",
                "Free FLOAT32 32768 -> 65536 in 1",
                "Free FLOAT64 65536 -> 0 in 0"), seen);
    }

    private static String describe(RecordedEvent e) {
        String name = e.getEventType().getName().substring("dev.nabla.".length());
        if (name.equals("MemoryPeak")) {
            return name + " " + e.getLong("peak");
        }
        assertEquals("cpu", e.getString("device"));
        return name + " " + e.getString("dtype") + " " + e.getLong("bytes") + " -> " + e.getLong("allocated")
                + " in " + e.getLong("buffers");
    }
}
