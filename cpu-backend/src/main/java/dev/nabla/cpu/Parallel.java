package dev.nabla.cpu;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * Parallel loops on the caller and one worker thread per further core. Work below a grain size stays on the calling
 * thread, so small tensors pay no hand-off cost. Every loop is a set of tasks ({@link #tasks}; {@link #chunks} is
 * tasks of fixed pieces) cut into one contiguous block per thread, the caller's first, the same block to the same
 * thread in every loop, so the part of a buffer one op writes is the part the same core reads in the next op; a
 * thread that finishes its block takes what nobody has started: on a loaded host a worker may start late, and the
 * caller then waits only for tasks already running.
 *
 * <p>Workers are the library's own threads ({@code nabla-cpu-N}, daemons). One that finishes a loop polls for the
 * next for {@link #SPIN_NANOS} before it parks, as OpenMP runtimes do: a step's ops follow each other within
 * microseconds, and waking a parked thread took a large part of each product. A caller that finishes its tasks
 * before the workers polls for their end as long before it parks, for the same reason. With a parked worker (the
 * ForkJoinPool these loops used before), W5's GEMMs kept the caller busy longer than the worker (JFR: 3557 against
 * 2880 samples of one step's products) as the worker came in late. A loop started inside a task runs on the thread
 * that started it.
 *
 * <p>The thread count is {@code availableProcessors()} unless the system property {@code nabla.cpu.threads} says
 * otherwise (benchmarks use it to measure one thread against two); {@code nabla.cpu.grain} overrides the element-wise
 * grain, for re-measuring it on another machine; {@code nabla.cpu.spinMicros} the polling time of workers and callers
 * (0 parks at once).
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
    /**
     * How long an idle worker polls for the next loop, and a caller for the workers' end, before it parks. 300 µs
     * rather than 100: between its products, W5's eager step runs serial stretches (the loss, the tape's bookkeeping)
     * long enough that a worker polling 100 µs parked and was woken late (W5 eager medians 0.708-0.713 ms at 100,
     * 0.681-0.688 at 300, 0.678-0.680 at 1000, three alternations); OpenMP runtimes poll longer still.
     */
    private static final long SPIN_NANOS = Long.getLong("nabla.cpu.spinMicros", 300) * 1000;
    private static final Worker[] WORKERS = startWorkers(THREADS - 1);

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
     * Runs {@code body} over {@code [0, n)} split into exactly {@code min(chunks, n)} contiguous pieces; returns when
     * all are done, rethrowing the first failure.
     */
    static void chunks(int n, int chunks, Body body) {
        int count = Math.min(chunks, n);
        if (count <= 1) {
            if (n > 0) {
                body.run(0, n);
            }
            return;
        }
        tasks(count, count, c -> body.run((int) ((long) n * c / count), (int) ((long) n * (c + 1) / count)));
    }

    /**
     * Runs {@code task} for every index of {@code [0, n)}, each exactly once, on at most {@code threads} threads
     * (the caller included), each starting on its own contiguous block of indices in order (see {@link Claims});
     * returns when all are done, rethrowing the first failure. Which thread runs which task is not guaranteed.
     */
    static void tasks(int n, int threads, IntConsumer task) {
        int helpers = Math.min(Math.min(threads, THREADS), n) - 1;
        if (helpers <= 0 || Thread.currentThread() instanceof Worker) {
            for (int i = 0; i < n; i++) {
                task.accept(i);
            }
            return;
        }
        Claims claims = new Claims(n, helpers + 1, task);
        for (int w = 0; w < WORKERS.length && helpers > 0; w++) {
            if (WORKERS[w].offer(claims)) {
                helpers--;
            }
        }
        try {
            claims.run(0);
            claims.awaitHelpers();
        } finally {
            claims.returned = true;
        }
    }

    /**
     * Whether no worker is parked: each is polling for the next loop (it ran one within {@link #SPIN_NANOS}) or
     * running one, so handing it a loop costs no wake-up. Work too small to pay for waking a thread may still pay
     * for an awake one.
     */
    static boolean workersAwake() {
        for (Worker w : WORKERS) {
            if (w.parked) {
                return false;
            }
        }
        return true;
    }

    private static Worker[] startWorkers(int count) {
        Worker[] workers = new Worker[Math.max(0, count)];
        for (int i = 0; i < workers.length; i++) {
            workers[i] = new Worker(i + 1);
            workers[i].start();
        }
        return workers;
    }

    /**
     * A worker's one-loop mailbox. A loop is put in when the mailbox is empty, or holds a loop whose caller has
     * returned: one that ran every task before the worker woke to take it. Left there, such a loop made the worker
     * miss the next ones, which then ran on the caller alone: of W7's eager step's 25-28 loops, 1.75 a step on a
     * quiet host and 12-15 under load (a test once waited 30 s for a worker to start). A mailbox holding a loop still
     * running is full: another caller then runs with one helper fewer.
     */
    static final class Mailbox {
        private final AtomicReference<Claims> held = new AtomicReference<>();

        boolean offer(Claims claims) {
            Claims old = held.get();
            if (old != null && old.returned && held.compareAndSet(old, claims)) {
                return true;
            }
            // empty, or emptied by the worker since
            return held.compareAndSet(null, claims);
        }

        /** The loop held, emptying the mailbox; null when empty. */
        Claims take() {
            return held.getAndSet(null);
        }

        boolean isEmpty() {
            return held.get() == null;
        }
    }

    /**
     * A pool thread with a {@link Mailbox}: it helps the loop it is handed, then polls its mailbox for
     * {@link #SPIN_NANOS} and parks.
     */
    private static final class Worker extends Thread {
        private final Mailbox mailbox = new Mailbox();
        private volatile boolean parked;

        /** This worker's block of every loop (see {@link Claims}): the caller's is 0. */
        private final int slot;

        Worker(int index) {
            super("nabla-cpu-" + index);
            this.slot = index;
            setDaemon(true);
        }

        boolean offer(Claims claims) {
            if (!mailbox.offer(claims)) {
                return false;
            }
            // after the mailbox is set: a worker about to park checks the mailbox after saying so, so one of the
            // two sees the other
            if (parked) {
                LockSupport.unpark(this);
            }
            return true;
        }

        @Override
        public void run() {
            while (true) {
                Claims claims = mailbox.take();
                if (claims != null) {
                    claims.help(slot);
                    continue;
                }
                long until = System.nanoTime() + SPIN_NANOS;
                while (mailbox.isEmpty() && System.nanoTime() - until < 0) {
                    Thread.onSpinWait();
                }
                if (mailbox.isEmpty()) {
                    parked = true;
                    if (mailbox.isEmpty()) {
                        LockSupport.park(this);
                    }
                    parked = false;
                }
            }
        }
    }

    /**
     * One {@link #tasks} call. The indices are cut into one contiguous block per participating thread: the caller
     * owns block 0 and worker {@code nabla-cpu-k} block k, so consecutive loops over the same range give each thread
     * the same part every time. A producer's output then stays in the cache of the core that reads it next: with
     * the blocks claimed first come, first served, W7's im2col after a GEMM that had read the previous columns took
     * 711 µs against 236 µs (each core rewrote lines the other core held), more than on one thread. A thread that
     * finishes its block takes the unclaimed tasks of the others, so a late or missing worker delays nothing.
     */
    static final class Claims {
        private final AtomicInteger[] next;
        private final int[] end;
        private final AtomicInteger active = new AtomicInteger();
        private final IntConsumer task;
        private final Thread caller = Thread.currentThread();
        private volatile Throwable failure;
        /** Set when the caller has returned: every task ran, and no helper is inside one. */
        volatile boolean returned;

        Claims(int n, int blocks, IntConsumer task) {
            this.next = new AtomicInteger[blocks];
            this.end = new int[blocks];
            for (int b = 0; b < blocks; b++) {
                next[b] = new AtomicInteger((int) ((long) n * b / blocks));
                end[b] = (int) ((long) n * (b + 1) / blocks);
            }
            this.task = task;
        }

        /** Runs the tasks of block {@code own} in order, then those nobody has claimed, until none is left. */
        void run(int own) {
            try {
                for (int k = 0; k < next.length && failure == null; k++) {
                    int b = (own + k) % next.length;
                    for (int i = next[b].getAndIncrement(); i < end[b] && failure == null;
                            i = next[b].getAndIncrement()) {
                        task.accept(i);
                    }
                }
            } catch (RuntimeException | Error e) {
                if (failure == null) {
                    failure = e;
                }
            }
        }

        /**
         * A worker's share. It counts itself active before its first claim, so a caller that found nothing left to
         * claim sees every helper holding a task; one that starts after the caller returned claims nothing and
         * touches nothing of the call.
         */
        void help(int slot) {
            active.incrementAndGet();
            try {
                run(slot % next.length);
            } finally {
                if (active.decrementAndGet() == 0) {
                    LockSupport.unpark(caller);
                }
            }
        }

        /**
         * Polls for the helpers' end for {@link #SPIN_NANOS}, then parks: a worker usually finishes within
         * microseconds of the caller, and waking a parked caller took 20-40 µs on the 2-core VM (timed from the
         * worker's last task to the caller's return: more than half of W7's loops waited, 21-27 loops a step).
         */
        void awaitHelpers() {
            long until = System.nanoTime() + SPIN_NANOS;
            while (active.get() != 0 && System.nanoTime() - until < 0) {
                Thread.onSpinWait();
            }
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
