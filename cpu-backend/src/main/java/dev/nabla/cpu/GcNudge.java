package dev.nabla.cpu;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The garbage-collector path for code that closes nothing and opens no scope. Its buffers come back to the pool only
 * when a collection finds their tensors unreachable and the Cleaner runs; large arrays are humongous objects in G1,
 * which fill the old generation instead of eden, so a young collection that would find the dead tensors comes late.
 * Between collections every step misses the pool and allocates fresh arrays (zeroed, often on fresh pages): W6 ran
 * 5 to 8 times slower as written than in a scope.
 *
 * <p>So the pool asks for a collection itself: once the arrays it allocated fresh since the last request reach
 * {@link #limit} bytes, the allocating thread calls {@link System#gc()}, after which the Cleaners hand the dead
 * tensors' arrays back and later requests are served from the pool again (the requesting thread waits up to about
 * 2 ms for an array of its size to come back before it allocates a fresh one). The limit adapts: when a collection gave
 * back less than half of what had been allocated before it (the memory is really in use, not garbage), the next limit
 * doubles, up to the pool's capacity, so a program that holds much memory is not collected over and over; a
 * productive collection resets it. {@code -Dnabla.cpu.gcNudgeBytes=N} sets the starting limit; 0 turns the nudge
 * off.
 */
final class GcNudge {
    /**
     * The default starting limit: a sixteenth of the heap, at least 256 MiB but at most a quarter of the heap (a
     * 256 MiB floor in a 256 MiB heap never asked for a collection before the heap was full).
     */
    static final long DEFAULT_MIN = 256L << 20;
    /** After a collection the pool looks for a returned array this many times, {@link #WAIT_STEP_NANOS} apart. */
    static final int WAIT_STEPS = 10;
    static final long WAIT_STEP_NANOS = 200_000;
    private final long base;
    private final long max;
    private volatile long limit;
    private final AtomicLong fresh = new AtomicLong();
    private final AtomicLong returned = new AtomicLong();
    private final AtomicBoolean running = new AtomicBoolean();
    private long freshBeforeLast;
    private final AtomicLong nudges = new AtomicLong();

    GcNudge(long base, long max) {
        this.base = base;
        this.max = Math.max(base, max);
        this.limit = base;
    }

    static GcNudge fromProperties(long capacity) {
        long heap = Runtime.getRuntime().maxMemory();
        long dflt = Math.min(Math.max(DEFAULT_MIN, heap / 16), heap / 4);
        long base = Long.getLong("nabla.cpu.gcNudgeBytes", dflt);
        return new GcNudge(base, capacity);
    }

    /** Collections requested so far. */
    long nudges() {
        return nudges.get();
    }

    /** Counts an array the pool gave back. */
    void returned(long bytes) {
        if (base > 0) {
            returned.addAndGet(bytes);
        }
    }

    /**
     * Counts a fresh allocation of {@code bytes}; returns true when it requested a collection (the caller may look in
     * the pool again).
     */
    boolean onMiss(long bytes) {
        if (base <= 0 || fresh.addAndGet(bytes) < limit || !running.compareAndSet(false, true)) {
            return false;
        }
        try {
            long sinceLast = fresh.getAndSet(0);
            long back = returned.getAndSet(0);
            // did the previous collection pay? if the arrays given back since then are less than half of what was
            // allocated before it, most of that memory is live: wait longer before the next one
            if (freshBeforeLast > 0 && back < freshBeforeLast / 2) {
                limit = Math.min(max, limit * 2);
            } else {
                limit = base;
            }
            freshBeforeLast = sinceLast;
            nudges.incrementAndGet();
            System.gc();
            return true;
        } finally {
            running.set(false);
        }
    }
}
