package dev.nabla.cpu;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.RecursiveAction;

/**
 * Chunked parallel loops on one shared pool sized to the cores. Work below a grain size stays on the calling thread,
 * so small tensors pay no hand-off cost.
 */
final class Parallel {
    /** Elements of a cheap element-wise loop below which one thread is faster than a hand-off. */
    static final int ELEMENTWISE_GRAIN = 1 << 16;
    static final int THREADS = Math.max(1, Runtime.getRuntime().availableProcessors());
    private static final ForkJoinPool POOL = THREADS == 1 ? null : new ForkJoinPool(THREADS);

    private Parallel() {
    }

    /** A body over the half-open range {@code [lo, hi)}. */
    @FunctionalInterface
    interface Body {
        void run(int lo, int hi);
    }

    /** Runs {@code body} over {@code [0, n)} in chunks of at least {@code grain}. */
    static void range(int n, int grain, Body body) {
        if (n <= 0) {
            return;
        }
        int chunks = Math.min(THREADS, Math.max(1, n / Math.max(grain, 1)));
        if (chunks == 1 || POOL == null) {
            body.run(0, n);
            return;
        }
        RecursiveAction[] tasks = new RecursiveAction[chunks];
        for (int c = 0; c < chunks; c++) {
            int lo = (int) ((long) n * c / chunks);
            int hi = (int) ((long) n * (c + 1) / chunks);
            tasks[c] = new RecursiveAction() {
                @Override
                protected void compute() {
                    body.run(lo, hi);
                }
            };
        }
        if (ForkJoinTask.getPool() == POOL) {
            ForkJoinTask.invokeAll(tasks);
        } else {
            POOL.invoke(new RecursiveAction() {
                @Override
                protected void compute() {
                    invokeAll(tasks);
                }
            });
        }
    }
}
