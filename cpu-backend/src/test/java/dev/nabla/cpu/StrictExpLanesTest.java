package dev.nabla.cpu;

import static dev.nabla.cpu.StrictLanesCheck.around;
import static dev.nabla.cpu.StrictLanesCheck.checkDoubles;
import static dev.nabla.cpu.StrictLanesCheck.hiWord;

import dev.nabla.backend.UnaryOp;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link StrictExpLanes} gives {@link StrictMath#exp}'s bits (and SIGMOID's definition's) in every lane: on every
 * branch of fdlibm's algorithm, a few ulps either side of each boundary, at the specials, and on a sweep of float
 * bit patterns. {@code -Dnabla.test.exhaustive=true} checks all 2^32 floats instead of every 4093rd.
 */
class StrictExpLanesTest {
    private final Random random = new Random(11);

    /** Values at and around every place the algorithm changes path, both signs. */
    private static double[] boundaries() {
        return around(hiWord(0x3fd62e42L), hiWord(0x3fd62e43L), hiWord(0x3ff0a2b2L), hiWord(0x3e300000L),
            hiWord(0x40862e42L), 0x1.62e42fefa39efp9, 0x1.74910d52d3051p9, 708.3964185322641, 0.5 * Math.log(2),
            1.5 * Math.log(2), 1021 * Math.log(2), 1022 * Math.log(2), 0, Double.MIN_VALUE, Double.MIN_NORMAL,
            Double.MAX_VALUE, 1, 0.5, 2, 10, 88.72, 103.97, 745.1332191019412);
    }

    private static double[] specials() {
        double[] common = StrictLanesCheck.specials();
        double[] out = java.util.Arrays.copyOf(common, common.length + 2);
        out[common.length] = 709.79;
        out[common.length + 1] = -745.14;
        return out;
    }

    private static void check(double[] x) {
        checkDoubles("exp", StrictExpLanes::exp, StrictMath::exp, x);
        checkDoubles("sigmoid", StrictExpLanes::sigmoid, UnaryOp.SIGMOID::apply, x);
    }

    @Test
    void boundariesAndSpecialsMatchStrictMath() {
        check(boundaries());
        check(specials());
    }

    @Test
    void randomValuesOfEveryRangeMatchStrictMath() {
        int n = StrictLanesCheck.randomCount();
        double[] x = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = switch (i % 5) {
                case 0 -> (random.nextDouble() - 0.5) * 1500;             // every k, overflow and underflow
                case 1 -> (random.nextDouble() - 0.5) * 3;                // |x| around ln2 / 2 and 3 ln2 / 2
                case 2 -> -708 - random.nextDouble() * 38;                // subnormal results: the 2^-1000 detour
                case 3 -> Math.scalb(random.nextDouble() - 0.5, -random.nextInt(60)); // tiny
                default -> Double.longBitsToDouble(random.nextLong());   // any bit pattern
            };
        }
        check(x);
    }

    @Test
    void floatExpAndSigmoidAreTheDoubleDefinitionsRounded() {
        StrictLanesCheck.checkFloatSweep("StrictExpLanesTest", UnaryOp.EXP, UnaryOp.SIGMOID);
    }
}
