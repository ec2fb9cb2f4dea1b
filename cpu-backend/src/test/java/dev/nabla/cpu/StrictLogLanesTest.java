package dev.nabla.cpu;

import static dev.nabla.cpu.StrictLanesCheck.around;
import static dev.nabla.cpu.StrictLanesCheck.checkDoubles;
import static dev.nabla.cpu.StrictLanesCheck.hiWord;

import dev.nabla.backend.UnaryOp;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link StrictLogLanes} gives {@link StrictMath#log}'s bits in every lane: on every branch of fdlibm's algorithm,
 * 20 ulps either side of each place it changes path, at the specials, on random doubles of every range, and on a
 * sweep of float bit patterns ({@code -Dnabla.test.exhaustive=true}: all 2^32).
 */
class StrictLogLanesTest {
    private final Random random = new Random(12);

    @Test
    void boundariesAndSpecialsMatchStrictMath() {
        // mantissa high words where fdlibm changes path: 1 + f past sqrt(2) (0x6a09e), the i > 0 window
        // [0x6147a, 0x6b851], |f| < 2^-20 (0xffffe..0x00000); and the subnormal, normal and overflow edges
        double[] anchors = {hiWord(0x3ff6_a09eL), hiWord(0x3ff6_a09fL), hiWord(0x3ff6_147aL), hiWord(0x3ff6_1479L),
            hiWord(0x3ff6_b851L), hiWord(0x3ff6_b852L), hiWord(0x3fff_fffeL), hiWord(0x3fff_fffdL),
            hiWord(0x3ff0_0001L), hiWord(0x3ff0_0002L), hiWord(0x4006_a09eL), hiWord(0x3fe6_a09eL), 1, 2, 0.5, 10,
            Math.E, Double.MIN_NORMAL, Double.MIN_VALUE, 0x1p-1060, Double.MAX_VALUE, 0x1p1023, 0x1p-1022 * 1.5};
        checkDoubles("log", StrictLogLanes::log, StrictMath::log, around(anchors));
        checkDoubles("log", StrictLogLanes::log, StrictMath::log, StrictLanesCheck.specials());
    }

    @Test
    void randomValuesOfEveryRangeMatchStrictMath() {
        int n = StrictLanesCheck.randomCount();
        double[] x = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = switch (i % 6) {
                case 0 -> random.nextDouble() * 4;                                  // around 1, both branches
                case 1 -> 1 + Math.scalb(random.nextDouble() - 0.5, -random.nextInt(12, 60)); // |f| tiny
                case 2 -> Math.scalb(random.nextDouble(), random.nextInt(-1074, 1024)); // every exponent
                case 3 -> Double.longBitsToDouble(random.nextLong(1, 1L << 52));     // subnormals
                case 4 -> Double.longBitsToDouble(random.nextLong() & Long.MAX_VALUE); // any positive pattern
                default -> Double.longBitsToDouble(random.nextLong());               // any pattern
            };
        }
        checkDoubles("log", StrictLogLanes::log, StrictMath::log, x);
    }

    @Test
    void floatLogIsTheDoubleDefinitionRounded() {
        StrictLanesCheck.checkFloatSweep("StrictLogLanesTest", UnaryOp.LOG);
    }
}
