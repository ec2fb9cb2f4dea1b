package dev.nabla.cpu;

import java.util.function.LongSupplier;

/**
 * The garbage-collector path for code that closes nothing and opens no scope. Its buffers come back to the pool only
 * when a collection finds their tensors unreachable and the Cleaner runs; large arrays are humongous objects in G1,
 * which fill the old generation instead of eden, so a young collection that would find the dead tensors comes late.
 * Between collections every step misses the pool and allocates fresh arrays (zeroed, often on fresh pages): W6 ran
 * 5 to 8 times slower as written than in a scope.
 *
 * <p>So the pool asks for a collection itself, on a miss, once the bytes outstanding (taken from the pool and not
 * given back) stand {@link #limit} above their floor, the lowest they have been since the last request: what a
 * program holds stays under the floor, and what it dropped since the collection piles up above it. Counting fresh
 * allocations instead (as this class first did) let the arrays in circulation grow by the limit at every collection:
 * the steps after a collection emptied the pool without a miss, then missed a whole limit more, so W6 as written
 * settled only after 8-10 s with the pool at its capacity. After the collection the Cleaners hand the dead tensors'
 * arrays back and the requesting thread waits up to about 2 ms for one of its size before it allocates a fresh one.
 *
 * <p>The limit adapts. It doubles (up to the pool's capacity) when the last collection gave back less than half of
 * what had piled up before it (the memory is really in use) or took more than {@link #GC_SHARE} of the time since
 * the collection before it; it halves back toward the starting limit when a productive collection took under a
 * quarter of that share. The share rule is there because a full collection has a fixed cost (9-11 ms in a JMH fork,
 * most of it marking the program's objects and unloading classes, whatever the arrays' bytes): W6 as written drops
 * about 10 GB/s of buffers, and at a fixed limit of 376 MiB it was collected every 40 ms and ran 0.90-0.99 ms a step;
 * grown to the pool's capacity it is collected every 100-200 ms and runs 0.74-0.80, its scoped speed. A program that
 * closes what it makes never gets near the limit and is never collected. {@code -Dnabla.cpu.gcNudgeBytes=N} sets the
 * starting limit; 0 turns the nudge off.
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
    /** The share of the time between two requests that one collection may take before the limit doubles. */
    static final double GC_SHARE = 0.1;
    private final long base;
    private final long max;
    private final Runnable collect;
    private final LongSupplier nanoTime;
    private long limit;
    /** The lowest outstanding bytes since the last request (or since the start). */
    private long floor;
    /** At the last request: the outstanding bytes, the floor before it, its start and its duration. */
    private long lastOutstanding = -1;
    private long lastFloor;
    private long lastStart;
    private long lastDuration;
    private long nudges;

    GcNudge(long base, long max) {
        this(base, max, System::gc, System::nanoTime);
    }

    GcNudge(long base, long max, Runnable collect, LongSupplier nanoTime) {
        this.base = base;
        this.max = Math.max(base, max);
        this.limit = base;
        this.collect = collect;
        this.nanoTime = nanoTime;
    }

    static GcNudge fromProperties(long capacity) {
        long heap = Runtime.getRuntime().maxMemory();
        long dflt = Math.min(Math.max(DEFAULT_MIN, heap / 16), heap / 4);
        long base = Long.getLong("nabla.cpu.gcNudgeBytes", dflt);
        return new GcNudge(base, capacity);
    }

    /** Collections requested so far. */
    synchronized long nudges() {
        return nudges;
    }

    /** The current limit in bytes. */
    synchronized long limit() {
        return limit;
    }

    /** Notes the pool's outstanding bytes after a take or a give. */
    synchronized void observe(long outstanding) {
        if (outstanding < floor) {
            floor = outstanding;
        }
    }

    /**
     * A take found no pooled array while {@code outstanding} bytes were out: requests a collection if they stand a
     * limit above the floor; returns true when it did (the caller may look in the pool again).
     */
    boolean onMiss(long outstanding) {
        synchronized (this) {
            if (base <= 0 || outstanding - floor < limit) {
                return false;
            }
            long now = nanoTime.getAsLong();
            if (lastOutstanding >= 0) {
                // the last collection: how far the outstanding bytes fell after it, against how far they had risen
                boolean productive = lastOutstanding - floor >= (lastOutstanding - lastFloor) / 2;
                double share = (double) lastDuration / Math.max(1, now - lastStart);
                if (!productive || share > GC_SHARE) {
                    limit = Math.min(max, limit * 2);
                } else if (share < GC_SHARE / 4) {
                    limit = Math.max(base, limit / 2);
                }
            }
            lastOutstanding = outstanding;
            lastFloor = floor;
            lastStart = now;
            floor = outstanding;
            nudges++;
        }
        // outside the lock: the Cleaners' gives observe() while the collection runs
        long start = nanoTime.getAsLong();
        collect.run();
        long duration = nanoTime.getAsLong() - start;
        synchronized (this) {
            lastDuration = duration;
        }
        return true;
    }
}
