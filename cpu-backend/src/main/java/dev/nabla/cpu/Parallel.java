package dev.nabla.cpu;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * Chunked parallel loops on one shared pool sized to the cores. Work below a grain size stays on the calling thread,
 * so small tensors pay no hand-off cost. The calling thread always runs the first chunk itself, so a 2-thread loop
 * wakes only one pool worker.
 *
 * <p>{@link #tasks} hands out tasks one at a time instead of in fixed chunks, for work whose tasks are large (a
 * GEMM's column panels): on a loaded host a worker may start a millisecond late, and a fixed half would make the
 * caller wait for it; here the caller takes what nobody has started and waits only for tasks already running.
 *
 * <p>The thread count is {@code availableProcessors()} unless the system property {@code nabla.cpu.threads} says
 * otherwise (benchmarks use it to measure one thread against two); {@code nabla.cpu.grain} overrides the element-wise
 * grain, for re-measuring it on another machine.
 */
final class Parallel {
    /**
     * Elements of a cheap element-wise loop below which one thread is faster than a hand-off. Measured on the
     * 2-core reference machine (Zen 4 VM, AVX2, JDK 25) with {@code ElementwiseBench.addNabla}, forcing the split
     * with {@code -Dnabla.cpu.grain=1} and comparing {@code nabla.cpu.threads} 1 and 2 (µs per float32 add, JMH
     * averages on a noisy shared machine): 2^15: 6.9 vs 6.2, 2^16: 12.6 vs 13.7, 2^17: 26.2 vs 17.3, 2^18: 50.9
     * vs 39.3. Waking a parked worker and joining it costs several µs, so two threads first pay at 2^17.
     */
    static final int ELEMENTWISE_GRAIN = Integer.getInteger("nabla.cpu.grain", 1 << 17);
    /** Threads a parallel loop uses, including the caller. */
    static final int THREADS = threadCount();
    private static final ForkJoinPool POOL = THREADS == 1 ? null : new ForkJoinPool(THREADS - 1);

    private Parallel() {
    }

    private static int threadCount() {
        String configured = System.getProperty("nabla.cpu.threads");
        if (configured != null && !configured.isBlank()) {
            try {
                return Math.max(1, Integer.parseInt(configured.trim()));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("nabla.cpu.threads must be a positive integer, got '"
                        + configured + "'", e);
            }
        }
        return Math.max(1, Runtime.getRuntime().availableProcessors());
    }

    /** A body over the half-open range {@code [lo, hi)}. */
    @FunctionalInterface
    interface Body {
        void run(int lo, int hi);
    }

    /** Runs {@code body} over {@code [0, n)} in at most {@link #THREADS} chunks of at least {@code grain}. */
    static void range(int n, int grain, Body body) {
        if (n <= 0) {
            return;
        }
        chunks(n, Math.min(THREADS, Math.max(1, n / Math.max(grain, 1))), body);
    }

    /**
     * Runs {@code body} over {@code [0, n)} split into exactly {@code min(chunks, n)} contiguous pieces, the
     * caller running the first; returns when all are done, rethrowing the first failure.
     */
    static void chunks(int n, int chunks, Body body) {
        int count = Math.min(chunks, n);
        if (count <= 1 || POOL == null) {
            if (n > 0) {
                body.run(0, n);
            }
            return;
        }
        ForkJoinTask<?>[] others = new ForkJoinTask<?>[count - 1];
        for (int c = 1; c < count; c++) {
            int lo = (int) ((long) n * c / count);
            int hi = (int) ((long) n * (c + 1) / count);
            others[c - 1] = ForkJoinTask.adapt(() -> body.run(lo, hi));
            if (ForkJoinTask.getPool() == POOL) {
                others[c - 1].fork();
            } else {
                POOL.execute(others[c - 1]);
            }
        }
        RuntimeException failure = null;
        try {
            body.run(0, (int) ((long) n / count));
        } catch (RuntimeException e) {
            failure = e;
        }
        for (ForkJoinTask<?> t : others) {
            try {
                t.join();
            } catch (RuntimeException e) {
                if (failure == null) {
                    failure = e;
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    /**
     * Runs {@code task} for every index of {@code [0, n)}, each exactly once, on at most {@code threads} threads
     * (the caller included) that claim the next index as they become free; returns when all are done, rethrowing
     * the first failure. The order of the tasks and which thread runs which are unspecified.
     */
    static void tasks(int n, int threads, IntConsumer task) {
        int helpers = Math.min(Math.min(threads, THREADS), n) - 1;
        if (helpers <= 0 || POOL == null) {
            for (int i = 0; i < n; i++) {
                task.accept(i);
            }
            return;
        }
        Claims claims = new Claims(n, task);
        for (int h = 0; h < helpers; h++) {
            ForkJoinTask<?> helper = ForkJoinTask.adapt(claims::help);
            if (ForkJoinTask.getPool() == POOL) {
                helper.fork();
            } else {
                POOL.execute(helper);
            }
        }
        claims.run();
        claims.awaitHelpers();
    }

    /** One {@link #tasks} call: the next unclaimed index, the helpers inside a task, the first failure. */
    private static final class Claims {
        private final AtomicInteger next = new AtomicInteger();
        private final AtomicInteger active = new AtomicInteger();
        private final int n;
        private final IntConsumer task;
        private final Thread caller = Thread.currentThread();
        private volatile Throwable failure;

        Claims(int n, IntConsumer task) {
            this.n = n;
            this.task = task;
        }

        /** Claims and runs tasks until none is left or one failed. */
        void run() {
            try {
                for (int i = next.getAndIncrement(); i < n && failure == null; i = next.getAndIncrement()) {
                    task.accept(i);
                }
            } catch (RuntimeException | Error e) {
                if (failure == null) {
                    failure = e;
                }
            }
        }

        /**
         * A pool worker's share. It counts itself active before its first claim, so a caller that found nothing
         * left to claim sees every helper holding a task; one that starts after the caller returned claims nothing
         * and touches nothing of the call.
         */
        void help() {
            active.incrementAndGet();
            try {
                run();
            } finally {
                if (active.decrementAndGet() == 0) {
                    LockSupport.unpark(caller);
                }
            }
        }

        void awaitHelpers() {
            while (active.get() != 0) {
                LockSupport.park(this);
            }
            Throwable f = failure;
            if (f instanceof RuntimeException e) {
                throw e;
            }
            if (f instanceof Error e) {
                throw e;
            }
        }
    }
}
