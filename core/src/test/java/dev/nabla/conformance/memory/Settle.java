package dev.nabla.conformance.memory;

import dev.nabla.Device;
import dev.nabla.MemoryStats;

/** Test helper. Waits for garbage: tensors never closed come back through their Cleaners only after a collection. */
public final class Settle {
    private Settle() {
    }

    /**
     * The counters once four reads, each after a collection and a pause for the Cleaner thread, agree (at most about
     * 3 s). Two agreeing reads are not enough: the Cleaner may not have run yet after the first collection.
     */
    public static MemoryStats settled(Device d) throws InterruptedException {
        MemoryStats last = d.memoryStats();
        int agreeing = 0;
        for (int i = 0; i < 60 && agreeing < 3; i++) {
            System.gc();
            Thread.sleep(50);
            MemoryStats now = d.memoryStats();
            agreeing = now.equals(last) ? agreeing + 1 : 0;
            last = now;
        }
        return last;
    }

    /**
     * Collects until {@code allocated} and {@code buffers} are back at {@code target}'s, for at most
     * {@code maxMillis}; returns the last read either way, for the caller's exact assertion.
     */
    public static MemoryStats backTo(Device d, MemoryStats target, long maxMillis) throws InterruptedException {
        long end = System.nanoTime() + maxMillis * 1_000_000;
        MemoryStats now = d.memoryStats();
        while (!(now.allocated() == target.allocated() && now.buffers() == target.buffers())
                && System.nanoTime() < end) {
            System.gc();
            Thread.sleep(20);
            now = d.memoryStats();
        }
        return now;
    }
}
