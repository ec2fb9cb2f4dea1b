package dev.nabla.cpu;

import static dev.nabla.cpu.StrictLanesCheck.around;
import static dev.nabla.cpu.StrictLanesCheck.checkDoubles;
import static dev.nabla.cpu.StrictLanesCheck.hiWord;

import dev.nabla.backend.UnaryOp;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link StrictTanhLanes} gives {@link StrictMath#tanh}'s bits, and {@link StrictMath#expm1}'s for its building
 * block, in every lane: on every branch of fdlibm's algorithms, 20 ulps either side of each place they change path,
 * at the specials, on random doubles of every range, and on a sweep of float bit patterns
 * ({@code -Dnabla.test.exhaustive=true}: all 2^32).
 */
class StrictTanhLanesTest {
    private final Random random = new Random(13);

    @Test
    void expm1BoundariesAndSpecialsMatchStrictMath() {
        double ln2 = Math.log(2);
        // the reduction's edges, each k's formula (k = -1, 1 either side of x = -1/4, 2..19, 20..56, beyond), the
        // -1 and overflow thresholds
        double[] anchors = {hiWord(0x3fd6_2e42L), hiWord(0x3fd6_2e43L), hiWord(0x3ff0_a2b2L), hiWord(0x3c90_0000L),
            hiWord(0x4043_687aL), hiWord(0x4086_2e42L), 0x1.62e42fefa39efp9, 0.5 * ln2, 1.5 * ln2, 2.5 * ln2,
            19.5 * ln2, 20.5 * ln2, 56.5 * ln2, 57.5 * ln2, -1.5 * ln2, -2.5 * ln2, 0.25, 1, 2, 10, 44, 700};
        checkDoubles("expm1", StrictTanhLanes::expm1, StrictMath::expm1, around(anchors));
        checkDoubles("expm1", StrictTanhLanes::expm1, StrictMath::expm1, StrictLanesCheck.specials());
    }

    @Test
    void expm1RandomValuesOfEveryRangeMatchStrictMath() {
        int n = StrictLanesCheck.randomCount();
        double[] x = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = switch (i % 5) {
                case 0 -> (random.nextDouble() - 0.5) * 1500;                   // every k, overflow and -1
                case 1 -> (random.nextDouble() - 0.5) * 3;                      // k = -1, 0, 1
                case 2 -> (random.nextDouble() - 0.5) * 90;                     // 2..56 and beyond
                case 3 -> Math.scalb(random.nextDouble() - 0.5, -random.nextInt(70)); // tiny
                default -> Double.longBitsToDouble(random.nextLong());         // any bit pattern
            };
        }
        checkDoubles("expm1", StrictTanhLanes::expm1, StrictMath::expm1, x);
    }

    @Test
    void tanhBoundariesSpecialsAndRandomValuesMatchStrictMath() {
        double[] anchors = {hiWord(0x3c80_0000L), hiWord(0x3ff0_0000L), hiWord(0x4036_0000L), 0.5, 1, 2, 19.4, 22,
            0.25 * Math.log(2), 0.75 * Math.log(2), 1e-10, 1e-300};
        checkDoubles("tanh", StrictTanhLanes::tanh, StrictMath::tanh, around(anchors));
        checkDoubles("tanh", StrictTanhLanes::tanh, StrictMath::tanh, StrictLanesCheck.specials());
        int n = StrictLanesCheck.randomCount();
        double[] x = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = switch (i % 4) {
                case 0 -> (random.nextDouble() - 0.5) * 4;                      // both formulas
                case 1 -> (random.nextDouble() - 0.5) * 50;                     // up to and past 22
                case 2 -> Math.scalb(random.nextDouble() - 0.5, -random.nextInt(70)); // tiny
                default -> Double.longBitsToDouble(random.nextLong());         // any bit pattern
            };
        }
        checkDoubles("tanh", StrictTanhLanes::tanh, StrictMath::tanh, x);
    }

    @Test
    void floatTanhIsTheDoubleDefinitionRounded() {
        StrictLanesCheck.checkFloatSweep("StrictTanhLanesTest", UnaryOp.TANH);
    }
}
