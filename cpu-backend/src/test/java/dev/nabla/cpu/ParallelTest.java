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
    /**
     * Each thread's first task waits until every thread has started one (so a worker that the host schedules late
     * still starts before another could finish its block and take the late one's tasks); then each thread's first
     * task is the first of a block: the caller's block 0, each worker a block of its own, the same in a second loop.
     */
    @Test
    void eachThreadStartsOnItsOwnBlockTheCallerOnTheFirst() throws InterruptedException {
        int perBlock = 4;
        int n = perBlock * Parallel.THREADS;
        Thread caller = Thread.currentThread();
        java.util.Map<Thread, Integer> firstOfLoop1 = null;
        for (int loop = 0; loop < 2; loop++) {
            java.util.Map<Thread, Integer> first = new java.util.concurrent.ConcurrentHashMap<>();
            java.util.concurrent.CountDownLatch started = new java.util.concurrent.CountDownLatch(Parallel.THREADS);
            boolean[] allStarted = {true};
            Parallel.tasks(n, Parallel.THREADS, i -> {
                if (first.putIfAbsent(Thread.currentThread(), i) == null) {
                    started.countDown();
                    try {
                        if (!started.await(30, java.util.concurrent.TimeUnit.SECONDS)) {
                            allStarted[0] = false;
                        }
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            });
            assertTrue(allStarted[0], "every worker started a task within 30 s: " + first);
            assertEquals(0, first.get(caller), "the caller runs the first block: " + first);
            assertEquals(Parallel.THREADS, first.size(), "threads that ran tasks: " + first);
            java.util.Set<Integer> blocks = new java.util.HashSet<>();
            first.forEach((thread, task) -> {
                assertEquals(0, task % perBlock, thread.getName() + " started inside a block: " + first);
                assertTrue(blocks.add(task / perBlock), "two threads started on one block: " + first);
                if (thread != caller) {
                    assertTrue(thread.getName().startsWith("nabla-cpu-"), thread.getName());
                }
            });
            if (firstOfLoop1 != null) {
                assertEquals(firstOfLoop1, first, "each thread's block in the first loop and the second");
            }
            firstOfLoop1 = first;
        }
    }

    /**
     * A loop left in a worker's mailbox after its caller returned (the caller ran every task before the worker woke)
     * gives way to the next loop; one still running does not.
     */
    @Test
    void aLoopWhoseCallerReturnedGivesWayInTheMailbox() {
        Parallel.Mailbox mailbox = new Parallel.Mailbox();
        Parallel.Claims first = new Parallel.Claims(2, 2, i -> { });
        Parallel.Claims second = new Parallel.Claims(2, 2, i -> { });
        assertTrue(mailbox.offer(first));
        assertTrue(!mailbox.offer(second), "a loop still running keeps the mailbox");
        first.returned = true;
        assertTrue(mailbox.offer(second), "a returned loop gives way");
        assertSame(second, mailbox.take());
        assertTrue(mailbox.isEmpty());
        assertTrue(mailbox.offer(first), "an empty mailbox takes any loop");
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

    /**
     * {@link Parallel#workersAwake}: false once the workers have polled past their spin time and parked; true while
     * every worker runs a task of a loop (the workers' tasks end only after the caller's task has looked).
     */
    @Test
    void workersAreAwakeInALoopAndParkedWhenIdle() throws InterruptedException {
        org.junit.jupiter.api.Assumptions.assumeTrue(Parallel.THREADS > 1, "one thread: no workers");
        long until = System.nanoTime() + 10_000_000_000L;
        while (Parallel.workersAwake() && System.nanoTime() < until) {
            Thread.sleep(5);
        }
        assertTrue(!Parallel.workersAwake(), "the idle workers parked");
        java.util.concurrent.CountDownLatch started = new java.util.concurrent.CountDownLatch(Parallel.THREADS);
        java.util.concurrent.CountDownLatch looked = new java.util.concurrent.CountDownLatch(1);
        boolean[] awake = {false};
        Parallel.tasks(Parallel.THREADS, Parallel.THREADS, i -> {
            started.countDown();
            try {
                if (i == 0) {
                    started.await(30, java.util.concurrent.TimeUnit.SECONDS);
                    awake[0] = Parallel.workersAwake();
                    looked.countDown();
                } else {
                    looked.await(30, java.util.concurrent.TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        assertTrue(awake[0], "every worker was running a task");
    }
}
