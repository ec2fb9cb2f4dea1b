package dev.nabla.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nabla.DType;
import dev.nabla.Device;
import dev.nabla.Shape;
import dev.nabla.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.junit.jupiter.api.Test;

class DataLoaderTest {
    /** Example i has the image [i] and the label i % 10, so a batch tells which examples it holds. */
    private record Numbered(int size) implements Dataset {
        @Override
        public Batch batch(int[] indices, Device device) {
            float[] images = new float[indices.length];
            int[] labels = new int[indices.length];
            for (int b = 0; b < indices.length; b++) {
                images[b] = indices[b];
                labels[b] = indices[b] % 10;
            }
            return new Batch(Tensor.of(device, images, indices.length, 1), Tensor.of(device, labels, indices.length));
        }
    }

    /** The example numbers of one epoch, batch by batch. */
    private static List<int[]> epoch(DataLoader loader) {
        List<int[]> batches = new ArrayList<>();
        for (Batch batch : loader) {
            try (batch) {
                float[] v = batch.inputs().toFloatArray();
                int[] ids = new int[v.length];
                for (int i = 0; i < v.length; i++) {
                    ids[i] = (int) v[i];
                }
                assertArrayEquals(Arrays.stream(ids).map(i -> i % 10).toArray(), batch.labels().toIntArray());
                batches.add(ids);
            }
        }
        return batches;
    }

    private static int[] flat(List<int[]> batches) {
        return batches.stream().flatMapToInt(Arrays::stream).toArray();
    }

    private static int[] sizes(List<int[]> batches) {
        return batches.stream().mapToInt(b -> b.length).toArray();
    }

    @Test
    void eachExampleOnceAnEpochInANewOrderEachEpoch() {
        DataLoader loader = new DataLoader(new Numbered(103), 10, true, false, 7, Device.cpu());
        int[] first = flat(epoch(loader));
        int[] second = flat(epoch(loader));
        int[] identity = new int[103];
        Arrays.setAll(identity, i -> i);
        assertArrayEquals(identity, Arrays.stream(first).sorted().toArray());
        assertArrayEquals(identity, Arrays.stream(second).sorted().toArray());
        assertFalse(Arrays.equals(first, second), "epochs 0 and 1 share their order");
        assertFalse(Arrays.equals(identity, first), "epoch 0 is not shuffled");
        assertEquals(2, loader.epoch());
        // the orders are what order(e) promises, and a fresh loader with the same seed repeats them
        assertArrayEquals(loader.order(0), first);
        assertArrayEquals(loader.order(1), second);
        DataLoader again = new DataLoader(new Numbered(103), 10, true, false, 7, Device.cpu());
        assertArrayEquals(first, flat(epoch(again)));
        again.setEpoch(0);
        assertArrayEquals(first, flat(epoch(again)));
        assertFalse(Arrays.equals(first, new DataLoader(new Numbered(103), 10, true, false, 8, Device.cpu()).order(0)));
    }

    @Test
    void theLastPartialBatchIsKeptOrDropped() {
        DataLoader keep = new DataLoader(new Numbered(10), 4, false, false, 0, Device.cpu());
        assertEquals(3, keep.batchesPerEpoch());
        List<int[]> kept = epoch(keep);
        assertArrayEquals(new int[] {4, 4, 2}, sizes(kept));
        assertArrayEquals(new int[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, flat(kept), "no shuffle: the dataset's order");

        DataLoader drop = new DataLoader(new Numbered(10), 4, true, true, 3, Device.cpu());
        assertEquals(2, drop.batchesPerEpoch());
        List<int[]> dropped = epoch(drop);
        assertArrayEquals(new int[] {4, 4}, sizes(dropped));
        assertArrayEquals(Arrays.copyOf(drop.order(0), 8), flat(dropped), "the two examples left over are dropped");
        assertEquals(8, Arrays.stream(flat(dropped)).distinct().count());

        // an exact multiple loses nothing either way
        assertEquals(5, new DataLoader(new Numbered(10), 2, true, true, 0, Device.cpu()).batchesPerEpoch());
        assertEquals(0, new DataLoader(new Numbered(3), 4, true, true, 0, Device.cpu()).batchesPerEpoch());
    }

    @Test
    void mnistBatchesHaveTheirShapesAndCoverTheTrainingSplit() {
        Mnist.Split train = Mnist.load().train();
        DataLoader loader = new DataLoader(train, 96, true, false, 1, Device.cpu());
        assertEquals(84, loader.batchesPerEpoch()); // 83 full batches of 96 and one of 8,000 - 83 * 96 = 32
        int[] order = loader.order(0);
        int[] counts = new int[10];
        int batches = 0;
        int seen = 0;
        for (Batch batch : loader) {
            try (batch) {
                int b = batches == 83 ? 32 : 96;
                assertEquals(Shape.of(b, 1, 28, 28), batch.inputs().shape());
                assertEquals(DType.FLOAT32, batch.inputs().dtype());
                assertEquals(Shape.of(b), batch.labels().shape());
                assertEquals(DType.INT32, batch.labels().dtype());
                assertEquals(Device.cpu(), batch.inputs().device());
                int[] labels = batch.labels().toIntArray();
                for (int i = 0; i < b; i++) {
                    assertEquals(train.label(order[seen + i]), labels[i]);
                    counts[labels[i]]++;
                }
                seen += b;
                batches++;
            }
        }
        assertEquals(84, batches);
        assertEquals(8_000, seen);
        int[] identity = new int[8_000];
        Arrays.setAll(identity, i -> i);
        assertArrayEquals(identity, Arrays.stream(order).sorted().toArray());
        int[] expected = new int[10];
        for (int i = 0; i < train.size(); i++) {
            expected[train.label(i)]++;
        }
        assertArrayEquals(expected, counts);
    }

    @Test
    void theShortConstructorShufflesOnTheDefaultDevice() {
        DataLoader loader = new DataLoader(new Numbered(20), 8);
        Iterator<Batch> it = loader.iterator();
        try (Batch b = it.next()) {
            assertEquals(Device.defaultDevice(), b.inputs().device());
            assertEquals(8, b.size());
        }
        it.next().close();
        it.next().close();
        assertFalse(it.hasNext());
        assertThrows(NoSuchElementException.class, it::next);
        int[] identity = new int[20];
        Arrays.setAll(identity, i -> i);
        assertFalse(Arrays.equals(identity, loader.order(0)));
    }

    @Test
    void badArgumentsAreRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new DataLoader(new Numbered(3), 0, true, false, 0, Device.cpu()));
        assertTrue(e.getMessage().contains("batch size"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Batch(Tensor.zeros(Device.cpu(), 3, 1),
                Tensor.of(Device.cpu(), new int[] {1, 2}, 2)));
    }
}
