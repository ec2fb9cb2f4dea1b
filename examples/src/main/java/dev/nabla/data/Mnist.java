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
 * The 10,000 bundled MNIST digits (see {@code dev/nabla/data/README.md}), split once, with a fixed seed, into 8,000
 * training and 2,000 test digits. Images come as FLOAT32 (n, 1, 28, 28) in [0, 1], labels as INT32 (n,).
 *
 * <pre>{@code
 * Mnist mnist = Mnist.load();
 * for (Batch b : new DataLoader(mnist.train(), 64, true, false, 1, Device.defaultDevice())) { ... }
 * }</pre>
 */
public final class Mnist {
    /** Seed of the train/test split; fixed so every run and every machine holds out the same 2,000 digits. */
    public static final long SPLIT_SEED = 20_150_602L;
    /** Digits in the training split. */
    public static final int TRAIN_SIZE = 8_000;
    private static final int SIDE = 28;
    private static final String IMAGES = "mnist-10k-images.idx.gz";
    private static final String LABELS = "mnist-10k-labels.idx.gz";

    private final byte[] pixels;
    private final byte[] labels;
    private final int[] trainIndices;
    private final int[] testIndices;

    private Mnist(byte[] pixels, byte[] labels) {
        this.pixels = pixels;
        this.labels = labels;
        int[] order = new int[labels.length];
        Arrays.setAll(order, i -> i);
        Random r = new Random(SPLIT_SEED);
        for (int i = order.length - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        trainIndices = Arrays.copyOfRange(order, 0, TRAIN_SIZE);
        testIndices = Arrays.copyOfRange(order, TRAIN_SIZE, order.length);
    }

    /** Reads the bundled files from the class path. */
    public static Mnist load() {
        byte[] images = readIdx(IMAGES, 0x00000803, 3);
        byte[] labels = readIdx(LABELS, 0x00000801, 1);
        if (images.length != labels.length * SIDE * SIDE) {
            throw new IllegalStateException("MNIST: " + images.length + " pixels for " + labels.length + " labels");
        }
        return new Mnist(images, labels);
    }

    private static byte[] readIdx(String name, int magic, int dims) {
        try (InputStream raw = Mnist.class.getResourceAsStream(name)) {
            if (raw == null) {
                throw new IllegalStateException("MNIST: resource dev/nabla/data/" + name + " is not on the class path");
            }
            DataInputStream in = new DataInputStream(new GZIPInputStream(raw));
            int m = in.readInt();
            if (m != magic) {
                throw new IllegalStateException("MNIST: " + name + " has magic " + Integer.toHexString(m) + ", expected "
                        + Integer.toHexString(magic));
            }
            long size = 1;
            for (int i = 0; i < dims; i++) {
                size *= in.readInt();
            }
            byte[] data = new byte[Math.toIntExact(size)];
            in.readFully(data);
            return data;
        } catch (IOException e) {
            throw new UncheckedIOException("MNIST: cannot read " + name, e);
        }
    }

    /** The 8,000 training digits. */
    public Dataset train() {
        return new Split(trainIndices);
    }

    /** The 2,000 held-out test digits. */
    public Dataset test() {
        return new Split(testIndices);
    }

    /** Indices (into the bundled file's order) of the training digits. */
    public int[] trainIndices() {
        return trainIndices.clone();
    }

    /** Indices (into the bundled file's order) of the test digits. */
    public int[] testIndices() {
        return testIndices.clone();
    }

    private final class Split implements Dataset {
        private final int[] members;

        Split(int[] members) {
            this.members = members;
        }

        @Override
        public int size() {
            return members.length;
        }

        @Override
        public Batch batch(int[] indices, Device device) {
            int n = indices.length;
            float[] x = new float[n * SIDE * SIDE];
            int[] y = new int[n];
            for (int b = 0; b < n; b++) {
                int digit = members[indices[b]];
                y[b] = labels[digit];
                int from = digit * SIDE * SIDE;
                for (int p = 0; p < SIDE * SIDE; p++) {
                    x[b * SIDE * SIDE + p] = (pixels[from + p] & 0xFF) / 255f;
                }
            }
            return new Batch(Tensor.of(device, x, n, 1, SIDE, SIDE), Tensor.of(device, y));
        }
    }
}
