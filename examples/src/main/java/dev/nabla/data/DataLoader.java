package dev.nabla.data;

import dev.nabla.Device;
import dev.nabla.Nabla;
import dev.nabla.Scope;
import java.util.Arrays;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Random;

/**
 * Batches of a {@link Dataset}, one pass per {@link #iterator()} call (an epoch), as PyTorch's
 * {@code DataLoader(shuffle=True)}.
 *
 * <p>With shuffling on, epoch {@code e} visits the examples in the order {@link #order(int) order(e)}: a Fisher–Yates
 * shuffle driven by a {@code java.util.Random} seeded from {@code (seed, e)}, so every epoch has its own order and
 * a run is repeatable (and resumable at any epoch). Each example appears exactly once per epoch; when the size is
 * not a multiple of the batch size the last batch is smaller, or dropped with {@code dropLast}.
 *
 * <pre>{@code
 * Mnist mnist = Mnist.load();
 * DataLoader loader = new DataLoader(mnist.train(), 100, true, false, 42, Device.defaultDevice());
 * for (int epoch = 0; epoch < 3; epoch++) {
 *     for (Batch batch : loader) {             // 80 batches of (100, 1, 28, 28) inputs and (100) labels
 *         try (batch) {
 *             // loss = model(batch.inputs()) against batch.labels() ...
 *         }
 *     }
 * }
 * }</pre>
 *
 * <p>Not thread-safe: the epoch counter advances on each {@code iterator()} call.
 */
public final class DataLoader implements Iterable<Batch> {
    private final Dataset dataset;
    private final int batchSize;
    private final boolean shuffle;
    private final boolean dropLast;
    private final long seed;
    private final Device device;
    private int epoch;

    /**
     * A loader with every option explicit.
     *
     * @param dataset   the examples
     * @param batchSize examples per batch, at least 1
     * @param shuffle   a fresh seeded order each epoch; off, the dataset's own order every epoch
     * @param dropLast  drop the last batch when it is smaller than {@code batchSize}
     * @param seed      fixes the sequence of epoch orders
     * @param device    where the batches' tensors live
     */
    public DataLoader(Dataset dataset, int batchSize, boolean shuffle, boolean dropLast, long seed, Device device) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("DataLoader: batch size must be at least 1, got " + batchSize);
        }
        this.dataset = Objects.requireNonNull(dataset, "dataset");
        this.batchSize = batchSize;
        this.shuffle = shuffle;
        this.dropLast = dropLast;
        this.seed = seed;
        this.device = Objects.requireNonNull(device, "device");
    }

    /** Shuffled each epoch with seed 0, the last partial batch kept, on {@link Device#defaultDevice()}. */
    public DataLoader(Dataset dataset, int batchSize) {
        this(dataset, batchSize, true, false, 0, Device.defaultDevice());
    }

    /** Batches per epoch. */
    public int batchesPerEpoch() {
        int n = dataset.size();
        return dropLast ? n / batchSize : (n + batchSize - 1) / batchSize;
    }

    /** The epoch the next {@link #iterator()} call starts, from 0. */
    public int epoch() {
        return epoch;
    }

    /** Makes the next {@link #iterator()} call run epoch {@code e} (to resume a run). */
    public void setEpoch(int e) {
        if (e < 0) {
            throw new IllegalArgumentException("DataLoader: epoch must be >= 0, got " + e);
        }
        epoch = e;
    }

    /** The order in which epoch {@code e} visits the dataset's indices (the identity without shuffling). */
    public int[] order(int e) {
        int[] order = new int[dataset.size()];
        Arrays.setAll(order, i -> i);
        if (shuffle) {
            Random random = new Random(mix(seed, e));
            for (int i = order.length - 1; i > 0; i--) {
                int j = random.nextInt(i + 1);
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
        }
        return order;
    }

    /** One epoch of batches; each call starts the next epoch. Batches are built as they are asked for. */
    @Override
    public Iterator<Batch> iterator() {
        int[] order = order(epoch++);
        int batches = batchesPerEpoch();
        return new Iterator<>() {
            private int next;

            @Override
            public boolean hasNext() {
                return next < batches;
            }

            @Override
            public Batch next() {
                if (!hasNext()) {
                    throw new NoSuchElementException("DataLoader: the epoch has " + batches + " batches");
                }
                int from = next++ * batchSize;
                int[] indices = Arrays.copyOfRange(order, from, Math.min(from + batchSize, order.length));
                // in a memory scope: whatever a dataset makes on the way to its batch (casts, gathers, reshapes) is
                // freed at once; the batch's two tensors belong to the caller's scope, if one is open
                try (Scope s = Nabla.scope()) {
                    Batch b = dataset.batch(indices, device);
                    s.keep(b.inputs());
                    s.keep(b.labels());
                    return b;
                }
            }
        };
    }

    // NOTE: java.util.Random seeded with neighbouring longs gives correlated first draws; SplitMix64's finalizer
    // spreads (seed, epoch) over all 64 bits first
    private static long mix(long seed, int epoch) {
        long z = seed + 0x9E3779B97F4A7C15L * (epoch + 1L);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
