package dev.nabla.cpu;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;

/**
 * Chunked parallel loops on one shared pool sized to the cores. Work below a grain size stays on the calling thread,
 * so small tensors pay no hand-off cost. The calling thread always runs the first chunk itself, so a 2-thread loop
 * wakes only one pool worker.
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
}
