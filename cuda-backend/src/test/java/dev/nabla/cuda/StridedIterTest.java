package dev.nabla.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Simplification of strided index spaces before they reach the kernels. */
class StridedIterTest {
    @Test
    void denseOperandsMergeIntoOneDimension() {
        StridedIter it = StridedIter.of(new long[] {2, 3, 4}, new long[] {12, 4, 1}, new long[] {12, 4, 1});
        assertEquals(1, it.rank());
        assertEquals(24, it.size());
        assertTrue(it.isDense(0) && it.isDense(1));
    }

    @Test
    void aScalarOperandIsRecognised() {
        StridedIter it = StridedIter.of(new long[] {5, 7}, new long[] {7, 1}, new long[] {0, 0});
        assertTrue(it.isDense(0));
        assertTrue(it.isBroadcastScalar(1));
        assertFalse(it.isBroadcastScalar(0));
    }

    @Test
    void aRowBroadcastKeepsTwoDimensions() {
        StridedIter it = StridedIter.of(new long[] {5, 7}, new long[] {7, 1}, new long[] {0, 1});
        assertArrayEquals(new long[] {5, 7}, it.shape());
        assertArrayEquals(new long[] {0, 1}, it.strides(1));
        assertFalse(it.isDense(1));
    }

    @Test
    void sizeOneDimensionsAreDropped() {
        StridedIter it = StridedIter.of(new long[] {1, 3, 1, 4}, new long[] {99, 4, 77, 1});
        assertEquals(1, it.rank());
        assertTrue(it.isDense(0));
    }

    @Test
    void aTransposeStaysTwoDimensional() {
        StridedIter it = StridedIter.of(new long[] {3, 4}, new long[] {1, 3}, new long[] {4, 1});
        assertArrayEquals(new long[] {3, 4}, it.shape());
        assertArrayEquals(new long[] {1, 3}, it.strides(0));
    }

    @Test
    void packMatchesTheKernelStructLayout() {
        StridedIter it = StridedIter.of(new long[] {5, 7}, new long[] {7, 1}, new long[] {0, 1}, new long[] {1, 0});
        long[] p = it.pack();
        assertEquals(33, p.length);
        assertArrayEquals(new long[] {5, 7}, Arrays.copyOfRange(p, 0, 2));
        assertArrayEquals(new long[] {7, 1}, Arrays.copyOfRange(p, 8, 10));
        assertArrayEquals(new long[] {0, 1}, Arrays.copyOfRange(p, 16, 18));
        assertArrayEquals(new long[] {1, 0}, Arrays.copyOfRange(p, 24, 26));
        assertEquals(2, p[32]);
    }

    @Test
    void aSingleElementHasRankZero() {
        StridedIter it = StridedIter.of(new long[] {1, 1}, new long[] {1, 1});
        assertEquals(0, it.rank());
        assertEquals(1, it.size());
        assertTrue(it.isDense(0) && it.isBroadcastScalar(0));
    }

    @Test
    void moreThanEightUnmergeableDimensionsAreWalkedInChunks() {
        long[] shape = new long[10];
        long[] strides = new long[10];
        Arrays.fill(shape, 2);
        for (int d = 0; d < 10; d++) {
            strides[d] = 1L << (2 * (9 - d)); // every step skips a gap: nothing merges
        }
        StridedIter it = StridedIter.of(shape, strides);
        assertEquals(10, it.rank());
        java.util.List<StridedIter.Chunk> chunks = it.chunks();
        assertEquals(4, chunks.size(), "the outer two dimensions, by the host");
        for (int c = 0; c < 4; c++) {
            StridedIter.Chunk chunk = chunks.get(c);
            assertEquals(8, chunk.inner().rank());
            assertEquals(256, chunk.inner().size());
            assertEquals(c * 256L, chunk.first());
            assertEquals((c >> 1) * strides[0] + (c & 1) * strides[1], chunk.offsets()[0]);
            assertEquals(33, chunk.inner().pack().length);
        }
        assertEquals(List.of(0L), StridedIter.of(new long[] {3, 4}, new long[] {4, 1}).chunks().stream()
                .map(StridedIter.Chunk::first).toList(), "one chunk when it fits");
    }
}
