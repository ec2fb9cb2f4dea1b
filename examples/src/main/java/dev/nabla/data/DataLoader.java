package dev.nabla.data;

import dev.nabla.Device;
import java.util.Arrays;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Random;

/**
 * Iterates a {@link Dataset} in batches, reshuffled every epoch (every {@link #iterator()} call) from a seeded
 * generator, as PyTorch's {@code DataLoader(shuffle=True)}.
 *
 * <pre>{@code
 * DataLoader loader = new DataLoader(Mnist.load().train(), 64, true, false, 42, Device.defaultDevice());
 * for (Batch b : loader) { ... b.inputs() ... b.labels() ... }
 * }</pre>
 */
public final class DataLoader implements Iterable<Batch> {
    private final Dataset dataset;
    private final int batchSize;
    private final boolean shuffle;
    private final boolean dropLast;
    private final Random random;
    private final Device device;

    /**
     * @param dropLast leave out the last batch when it is smaller than {@code batchSize}
     * @param seed seeds the shuffle order of every epoch
     */
    public DataLoader(Dataset dataset, int batchSize, boolean shuffle, boolean dropLast, long seed, Device device) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("DataLoader: batch size must be >= 1, got " + batchSize);
        }
        this.dataset = dataset;
        this.batchSize = batchSize;
        this.shuffle = shuffle;
        this.dropLast = dropLast;
        this.random = new Random(seed);
        this.device = device;
    }

    /** Batches per epoch. */
    public int batchesPerEpoch() {
        int n = dataset.size();
        return dropLast ? n / batchSize : (n + batchSize - 1) / batchSize;
    }

    /** One epoch: a fresh order when shuffling. */
    @Override
    public Iterator<Batch> iterator() {
        int[] order = new int[dataset.size()];
        Arrays.setAll(order, i -> i);
        if (shuffle) {
            for (int i = order.length - 1; i > 0; i--) {
                int j = random.nextInt(i + 1);
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
        }
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
                    throw new NoSuchElementException();
                }
                int from = next++ * batchSize;
                int to = Math.min(from + batchSize, order.length);
                return dataset.batch(Arrays.copyOfRange(order, from, to), device);
            }
        };
    }
}
