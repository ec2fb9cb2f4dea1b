package dev.nabla.cpu;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.nabla.backend.IndexCheck;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The index check names the first index outside the axis, wherever the bad ones sit in a long list. */
class IndexKernelsTest {
    private static final IndexCheck CHECK = new IndexCheck("gather", "axis 0 of (50,)");

    private static String firstBad(int[] idx, int count, long axisSize) {
        return assertThrows(IllegalArgumentException.class,
                () -> IndexKernels.checkIndices(idx, count, axisSize, CHECK)).getMessage();
    }

    @Test
    void validListsPass() {
        int[] idx = new Random(3).ints(1000, 0, 50).toArray();
        assertDoesNotThrow(() -> IndexKernels.checkIndices(idx, idx.length, 50, CHECK));
        assertDoesNotThrow(() -> IndexKernels.checkIndices(new int[0], 0, 0, CHECK));
        // only the first count indices are the list: what follows them in the array is not checked
        int[] longer = {0, 49, 50, -1};
        assertDoesNotThrow(() -> IndexKernels.checkIndices(longer, 2, 50, CHECK));
    }

    @Test
    void theFirstBadIndexIsReportedWhereverItSits() {
        Random random = new Random(5);
        for (int trial = 0; trial < 200; trial++) {
            int count = 1 + random.nextInt(300);
            int[] idx = random.ints(count, 0, 50).toArray();
            int first = random.nextInt(count);
            int[] bad = {50, -1, Integer.MIN_VALUE, Integer.MAX_VALUE, 1000};
            idx[first] = bad[random.nextInt(bad.length)];
            for (int j = first + 1; j < count; j++) {
                if (random.nextInt(4) == 0) {
                    idx[j] = bad[random.nextInt(bad.length)];
                }
            }
            assertEquals(CHECK.error(idx[first], first, 50).getMessage(), firstBad(idx, count, 50));
        }
    }
}
