package dev.nabla.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

/** Reduction plans: the right kernel, and segments that cover the axis and fill the GPU. */
class ReducePlanTest {
    private static final int SMS = 132;

    private static void assertCovers(ReducePlan p, long n) {
        assertTrue(p.segments() >= 1);
        assertTrue(p.segments() * p.segmentLength() >= n, p.toString());
        assertTrue((p.segments() - 1) * p.segmentLength() < n, "no empty segment: " + p);
        assertTrue(p.blocks() >= 1 && p.blocks() <= SMS * 32L, p.toString());
    }

    @Test
    void shortRowsGoToAWarpEach() {
        ReducePlan p = ReducePlan.choose(100_000, 128, 1, SMS);
        assertEquals(ReducePlan.Kind.ROWS_WARP, p.kind());
        assertEquals(1, p.segments());
    }

    @Test
    void aSumOfEverythingIsSplitAcrossTheGpu() {
        long n = 1L << 26;
        ReducePlan p = ReducePlan.choose(1, n, 1, SMS);
        assertEquals(ReducePlan.Kind.ROWS_BLOCK, p.kind());
        assertTrue(p.segments() >= SMS, "enough blocks to fill every SM: " + p);
        assertEquals(0, p.segmentLength() % 4, "packed loads need 4-element segments");
        assertCovers(p, n);
    }

    @Test
    void manyLongRowsNeedNoSecondPass() {
        ReducePlan p = ReducePlan.choose(10_000, 4096, 1, SMS);
        assertEquals(ReducePlan.Kind.ROWS_BLOCK, p.kind());
        assertEquals(1, p.segments());
        assertCovers(p, 4096);
    }

    @Test
    void columnReductionsSplitALongAxisWhenThereAreFewColumns() {
        ReducePlan p = ReducePlan.choose(1, 1_000_000, 4, SMS);
        assertEquals(ReducePlan.Kind.COLS, p.kind());
        assertTrue(p.segments() > 1, p.toString());
        assertCovers(p, 1_000_000);
        ReducePlan wide = ReducePlan.choose(64, 100, 4096, SMS);
        assertEquals(1, wide.segments(), "enough column tiles already: " + wide);
        assertCovers(wide, 100);
    }

    @Test
    void oddLengthsStillCoverTheAxis() {
        for (long n : new long[] {1, 3, 1025, 8191, 8193, 100_003, 12_345_679}) {
            assertCovers(ReducePlan.choose(1, n, 1, SMS), n);
            assertCovers(ReducePlan.choose(3, n, 7, SMS), n);
        }
    }

    /** Defect: softmax over 10 classes gave each row a whole warp, 22 of its 32 lanes idle. */
    @Test
    void rowsOfAtMost16ShareAWarp() {
        ReducePlan p = ReducePlan.choose(1000, 10, 1, SMS);
        assertEquals(ReducePlan.Kind.ROWS_LANES, p.kind());
        assertEquals(1, p.segments());
        assertEquals(16, ReducePlan.laneWidth(10));
        assertEquals(List.of(1L, 2L, 4L, 4L, 8L, 16L, 16L), LongStream.of(1, 2, 3, 4, 5, 9, 16)
                .map(ReducePlan::laneWidth).boxed().toList());
        assertEquals(ReducePlan.Kind.ROWS_WARP, ReducePlan.choose(1000, 17, 1, SMS).kind());
    }

    /** Defect: columns fewer than 32 left most lanes of the 32 x 8 block idle. */
    @Test
    void fewColumnsGetANarrowerTallerBlock() {
        assertEquals(List.of(2, 4, 8, 16, 32, 32, 32), LongStream.of(2, 3, 5, 16, 17, 32, 1000)
                .mapToObj(ReducePlan::columnWidth).toList());
    }
}
