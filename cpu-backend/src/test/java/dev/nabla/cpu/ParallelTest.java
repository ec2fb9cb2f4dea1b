package dev.nabla.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

/**
 * {@link Parallel#tasks}: every index once, whatever the thread count, failures rethrown, nesting allowed, and each
 * thread starting on its own contiguous block (the caller on the first), the same block in every loop.
 */
class ParallelTest {
    @Test
    void eachThreadStartsOnItsOwnBlockTheCallerOnTheFirst() {
        int perBlock = 4;
        int n = perBlock * Parallel.THREADS;
        Thread[] ran = new Thread[n];
        // tasks that take a while, so a worker that starts a little late still claims its own block first
        Parallel.tasks(n, Parallel.THREADS, i -> {
            ran[i] = Thread.currentThread();
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        assertSame(Thread.currentThread(), ran[0], "the caller runs the first block");
        if (Parallel.THREADS > 1) {
            // the last task of the last block is the last one anybody else would take
            assertTrue(ran[n - 1] != Thread.currentThread(), "the last block ran on the caller: " + ran[n - 1]);
            assertTrue(ran[n - 1].getName().startsWith("nabla-cpu-"), ran[n - 1].getName());
        }
    }

    @Test
    void everyTaskRunsExactlyOnce() {
        for (int n : new int[] {0, 1, 2, 3, 7, 64, 1000}) {
            for (int threads : new int[] {1, 2, 3, 16}) {
                AtomicIntegerArray runs = new AtomicIntegerArray(Math.max(n, 1));
                Parallel.tasks(n, threads, i -> runs.incrementAndGet(i));
                for (int i = 0; i < n; i++) {
                    assertEquals(1, runs.get(i), "task " + i + " of " + n + " on " + threads + " threads");
                }
            }
        }
    }

    @Test
    void theCallerReturnsOnlyWhenEveryTaskIsDone() {
        for (int round = 0; round < 200; round++) {
            int[] done = new int[32];
            Parallel.tasks(done.length, Parallel.THREADS, i -> {
                // uneven tasks, so that a helper is still inside one when the caller runs out of work
                long spin = (i % 3) * 20_000L;
                long sum = 0;
                for (long s = 0; s < spin; s++) {
                    sum += s ^ i;
                }
                done[i] = sum >= 0 ? 1 : 2;
            });
            for (int i = 0; i < done.length; i++) {
                assertEquals(1, done[i], "round " + round + ", task " + i);
            }
        }
    }

    /**
     * A caller whose own tasks are done polls for the workers' end only for a while, then parks: a worker's task that
     * outlasts the polling (5 ms against 300 µs) still wakes it, and it returns only after that task.
     */
    @Test
    void aCallerWaitsPastItsPollingForALongTask() {
        for (int round = 0; round < 3; round++) {
            java.util.concurrent.atomic.AtomicBoolean slowDone = new java.util.concurrent.atomic.AtomicBoolean();
            Parallel.tasks(2, 2, i -> {
                if (i == 1) {
                    try {
                        Thread.sleep(5);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    slowDone.set(true);
                }
            });
            assertTrue(slowDone.get(), "round " + round);
        }
    }

    @Test
    void aFailureIsRethrownToTheCaller() {
        IllegalStateException boom = new IllegalStateException("boom");
        for (int bad : new int[] {0, 5, 9}) {
            IllegalStateException thrown = assertThrows(IllegalStateException.class, () -> Parallel.tasks(10,
                    Parallel.THREADS, i -> {
                        if (i == bad) {
                            throw boom;
                        }
                    }));
            assertSame(boom, thrown);
        }
    }

    /**
     * A worker that has parked (its polling time long past) is woken by the next loop and takes part in it: with
     * tasks of 20 ms, the caller cannot have claimed them all before the worker starts.
     */
    @Test
    void aParkedWorkerJoinsTheNextLoop() throws InterruptedException {
        org.junit.jupiter.api.Assumptions.assumeTrue(Parallel.THREADS > 1, "one thread: no workers");
        for (int round = 0; round < 3; round++) {
            Thread.sleep(50);
            java.util.Set<String> threads = java.util.concurrent.ConcurrentHashMap.newKeySet();
            Parallel.tasks(8, 2, i -> {
                threads.add(Thread.currentThread().getName());
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            assertTrue(threads.stream().anyMatch(t -> t.startsWith("nabla-cpu-")), "round " + round + ": " + threads);
        }
    }

    @Test
    void tasksMayStartTasks() {
        AtomicIntegerArray runs = new AtomicIntegerArray(8 * 8);
        Parallel.tasks(8, Parallel.THREADS,
                i -> Parallel.tasks(8, Parallel.THREADS, j -> runs.incrementAndGet(i * 8 + j)));
        for (int i = 0; i < runs.length(); i++) {
            assertEquals(1, runs.get(i), "inner task " + i);
        }
    }
}
