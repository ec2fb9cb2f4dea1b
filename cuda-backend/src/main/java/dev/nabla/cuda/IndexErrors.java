package dev.nabla.cuda;

import dev.nabla.backend.IndexCheck;
import java.util.ArrayList;
import java.util.List;

/**
 * Index checks of {@code gather}/{@code scatterAdd} that never wait for the device. Each checked op queues
 * {@code index_check} and {@code index_error_value} on the stream with its number in a {@link Record}: 16 bytes of
 * device memory that the kernels lower to {@code (op << 32 | position)} of the first bad index of the first failing
 * op, and that index's value; all ones while nothing failed. At the backend's next synchronization point
 * ({@link #raise}) one 16-byte read per record finds the first failing op, in queue order, and throws its
 * {@link IndexCheck#error}; the records are reset and the checks forgotten either way, so the backend stays usable.
 *
 * <p>Checks queued while a graph is captured go to the graph's own record, numbered within the graph (a graph bakes
 * the numbers into its launches); each launch of the graph takes its place in the queue order as one entry.
 *
 * <p>The gather and scatter-add kernels skip out-of-range indices, so an op that fails touches no memory outside
 * its buffers in the meantime.
 */
final class IndexErrors {
    /** Checked ops kept before one forced synchronization (bounds the list on a program that never reads). */
    static final int MAX_PENDING = 1 << 16;
    private static final long NONE = -1L; // all ones: unsigned, above any (op, position)

    private record Check(IndexCheck check, long axisSize) {
    }

    /** One device-side error record and the checks numbered into it. */
    static final class Record {
        final CudaBuffer buffer;
        final List<Check> checks = new ArrayList<>();

        Record(CudaBuffer buffer) {
            this.buffer = buffer;
        }
    }

    /** A pending entry: an eager check ({@code check >= 0}, its number in the eager record) or a graph launch. */
    private record Entry(Record record, int check) {
    }

    private final DeviceContext context;
    private final KernelModules modules;
    private final Record eager;
    private final List<Entry> pending = new ArrayList<>();
    private Record capturing;            // the record of the graph being captured on the capturing thread
    private final List<Record> retired = new ArrayList<>(); // records of destroyed graphs still to be read

    /** @param record 16 bytes of device memory this object owns */
    IndexErrors(DeviceContext context, KernelModules modules, CudaBuffer record) {
        this.context = context;
        this.modules = modules;
        this.eager = new Record(record);
        reset(eager);
    }

    /** Sets a record to all ones (on the device's stream: a capture's record is reset before the capture). */
    void reset(Record r) {
        context.run(d -> d.memsetD8Async(r.buffer.address(), (byte) 0xFF, 16, context.stream()));
    }

    /**
     * Queues the check of {@code indices} against {@code [0, axisSize)}; returns at once (every
     * {@link #MAX_PENDING}th check synchronizes first, which may throw an earlier op's error).
     */
    void check(IndexCheck check, CudaBuffer indices, long axisSize, long blocks) {
        if (indices.size() == 0) {
            return;
        }
        synchronized (this) {
            Record target;
            if (context.capturingHere()) {
                target = capturing;
            } else {
                if (pending.size() >= MAX_PENDING) {
                    raise();
                }
                target = eager;
                pending.add(new Entry(eager, eager.checks.size()));
            }
            long op = target.checks.size();
            target.checks.add(new Check(check, axisSize));
            KernelLaunch.of(context, Kernels.indexCheck()).pointer(indices.address())
                    .pointer(target.buffer.address()).i64(indices.size()).i64(axisSize).i64(op)
                    .launch(modules, blocks);
            KernelLaunch.of(context, Kernels.indexErrorValue()).pointer(indices.address())
                    .pointer(target.buffer.address()).i64(op).launch(modules, 1);
        }
    }

    /** Routes the checks of the capture about to begin on this thread into {@code graph} (reset already). */
    synchronized void captureInto(Record graph) {
        capturing = graph;
    }

    /** Ends {@link #captureInto}. */
    synchronized void captureEnded() {
        capturing = null;
    }

    /** Queues {@code launch} (a graph launch whose checks write {@code graph}) as one entry of the queue order. */
    synchronized void launched(Record graph, Runnable launch) {
        if (graph.checks.isEmpty()) {
            launch.run();
            return;
        }
        if (pending.size() >= MAX_PENDING) {
            raise();
        }
        launch.run();
        pending.add(new Entry(graph, -1));
    }

    /** Frees a destroyed graph's record, once no pending launch still has to be read from it. */
    synchronized void retire(Record graph) {
        if (pending.stream().anyMatch(e -> e.record() == graph)) {
            retired.add(graph);
        } else {
            graph.buffer.release();
        }
    }

    /**
     * Waits for the stream and throws the error of the first op whose check failed since the last call, naming the
     * op (the checks are forgotten either way). A no-op, without waiting, when nothing was checked.
     */
    synchronized void raise() {
        if (pending.isEmpty()) {
            return;
        }
        // under the lock: every check queued so far is on the stream before this synchronization
        context.synchronize();
        List<Entry> entries = List.copyOf(pending);
        pending.clear();
        List<Record> read = new ArrayList<>();
        List<long[]> contents = new ArrayList<>();
        IllegalArgumentException first = null;
        for (Entry e : entries) {
            int at = read.indexOf(e.record());
            if (at < 0) {
                read.add(e.record());
                contents.add(contents(e.record()));
                at = read.size() - 1;
            }
            long key = contents.get(at)[0];
            boolean failed = key != NONE && (e.check() < 0 || key >>> 32 == e.check());
            if (failed && first == null) {
                Check c = e.record().checks.get((int) (key >>> 32));
                first = c.check().error(contents.get(at)[1], key & 0xFFFFFFFFL, c.axisSize());
            }
        }
        for (int i = 0; i < read.size(); i++) {
            if (contents.get(i)[0] != NONE) {
                reset(read.get(i));
            }
        }
        eager.checks.clear();
        for (Record r : retired) { // stream order: the resets above run before any later owner of the block
            r.buffer.release();
        }
        retired.clear();
        if (first != null) {
            throw new IllegalArgumentException(first.getMessage() + " (checked on " + context.device()
                    + " without waiting; raised at its next synchronization)");
        }
    }

    /** The record's key and index value, read from the device (the stream is idle). */
    private long[] contents(Record r) {
        int[] words = new int[4];
        context.run(d -> d.memcpyDtoH(words, r.buffer.address(), 16));
        return new long[] {(words[0] & 0xFFFFFFFFL) | ((long) words[1] << 32), words[2]};
    }
}
