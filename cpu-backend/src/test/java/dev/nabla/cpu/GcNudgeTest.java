package dev.nabla.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The pool's collection request: after {@code limit} fresh bytes, backing off while collections give little back. */
class GcNudgeTest {
    @Test
    void requestsACollectionAfterTheLimitAndBacksOffWhenItGaveNothingBack() {
        GcNudge n = new GcNudge(100, 1000);
        assertFalse(n.onMiss(60));
        assertTrue(n.onMiss(60));                 // 120 >= 100
        assertEquals(1, n.nudges());
        n.returned(80);                           // the collection paid: 80 of 120 came back
        assertFalse(n.onMiss(60));
        assertTrue(n.onMiss(60));                 // the limit stays 100
        assertEquals(2, n.nudges());
        // nothing comes back after these: the memory is live, so each next limit doubles (200, then 400)
        assertTrue(n.onMiss(150));                // the third request, which finds that the second one paid
        assertEquals(3, n.nudges());
        assertFalse(n.onMiss(150));               // the third gave nothing back: the limit is 200
        assertTrue(n.onMiss(60));
        assertFalse(n.onMiss(350));               // 400 now
        assertTrue(n.onMiss(60));                 // and 800 after this one
        assertEquals(5, n.nudges());
        n.returned(1000);                         // a productive collection resets it to 100
        assertFalse(n.onMiss(799));
        assertTrue(n.onMiss(1));
        assertFalse(n.onMiss(60));
        assertTrue(n.onMiss(60));
    }

    @Test
    void zeroTurnsItOff() {
        GcNudge n = new GcNudge(0, 1000);
        assertFalse(n.onMiss(Long.MAX_VALUE / 2));
        assertEquals(0, n.nudges());
    }
}
