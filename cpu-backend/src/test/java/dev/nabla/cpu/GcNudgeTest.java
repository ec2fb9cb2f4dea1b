package dev.nabla.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * The pool's collection request: on a miss once the outstanding bytes stand a limit above their floor; the limit
 * doubling while collections give little back or cost too much of the time, and halving back when they are cheap.
 * The collection and the clock are fakes: each "collection" advances the clock by {@link #gcNanos}.
 */
class GcNudgeTest {
    private long now;
    private long gcNanos = 1_000;
    private int collections;

    private GcNudge nudge(long base, long max) {
        return new GcNudge(base, max, () -> {
            collections++;
            now += gcNanos;
        }, () -> now);
    }

    @Test
    void codeThatGivesBackWhatItTakesIsNeverCollected() {
        GcNudge n = nudge(100, 1000);
        for (int step = 0; step < 50; step++) {
            // a step takes 90 bytes in misses (outstanding 30, 60, 90) and gives them all back
            assertFalse(n.onMiss(30));
            assertFalse(n.onMiss(60));
            assertFalse(n.onMiss(90));
            n.observe(0);
            now += 1_000_000;
        }
        assertEquals(0, collections);
    }

    @Test
    void droppedBuffersAreCollectedOnceTheyPileALimitAboveWhatIsHeld() {
        GcNudge n = nudge(100, 1000);
        assertFalse(n.onMiss(60));
        assertTrue(n.onMiss(100));                // 100 above the floor of 0
        n.observe(50);                            // the Cleaners gave back 50: the other 50 are held for good
        now += 10_000_000;
        // every step now drops 30 bytes more
        assertFalse(n.onMiss(80));
        assertFalse(n.onMiss(110));
        assertTrue(n.onMiss(150));                // 100 above the floor of 50
        assertEquals(2, collections);
        assertEquals(100, n.limit(), "the last collection gave back half and took 1 µs of 10 ms");
        n.observe(50);
        now += 10_000_000;
        assertFalse(n.onMiss(120));
        assertTrue(n.onMiss(150));
        assertEquals(3, collections);
        assertEquals(100, n.limit());
    }

    @Test
    void theLimitDoublesWhileCollectionsGiveLittleBack() {
        GcNudge n = nudge(100, 1000);
        assertTrue(n.onMiss(100));
        now += 10_000_000;
        // nothing came back: the 100 bytes are live
        assertFalse(n.onMiss(199));
        assertTrue(n.onMiss(200));                // still 100 above the floor, which is now 100
        assertEquals(200, n.limit());             // and the unproductive collection doubled the limit
        now += 10_000_000;
        assertFalse(n.onMiss(399));
        assertTrue(n.onMiss(400));
        assertEquals(400, n.limit());
        now += 10_000_000;
        assertTrue(n.onMiss(800));
        assertEquals(800, n.limit());
        n.observe(0);                             // this time everything came back
        now += 100_000_000;
        assertTrue(n.onMiss(800));
        assertEquals(400, n.limit(), "a productive, cheap collection halves the limit back toward the start");
        assertEquals(5, n.nudges());
    }

    @Test
    void theLimitDoublesWhileCollectionsTakeMoreThanTheirShareOfTheTime() {
        GcNudge n = nudge(100, 1000);
        gcNanos = 3_000_000;                      // 3 ms a collection
        assertTrue(n.onMiss(100));
        n.observe(0);
        now += 10_000_000;                        // 10 ms later: 3 of 13 ms went to collecting
        assertTrue(n.onMiss(100));
        assertEquals(200, n.limit());
        n.observe(0);
        now += 20_000_000;
        assertTrue(n.onMiss(200));
        assertEquals(400, n.limit());
        for (int i = 0; i < 5; i++) {
            n.observe(0);
            now += 20_000_000;
            assertTrue(n.onMiss(n.limit()));
        }
        assertEquals(1000, n.limit(), "capped at the pool's capacity");
        gcNanos = 1_000;
        n.observe(0);
        now += 100_000_000;
        assertTrue(n.onMiss(1000));               // the last one still took 3 ms: 1000
        n.observe(0);
        now += 100_000_000;
        assertTrue(n.onMiss(1000));
        assertEquals(500, n.limit());             // this one 1 µs: halved
    }

    @Test
    void zeroTurnsItOff() {
        GcNudge n = nudge(0, 1000);
        assertFalse(n.onMiss(Long.MAX_VALUE / 2));
        assertEquals(0, n.nudges());
        assertEquals(0, collections);
    }
}
