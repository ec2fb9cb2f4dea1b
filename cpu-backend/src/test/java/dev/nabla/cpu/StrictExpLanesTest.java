package dev.nabla.cpu;

import static org.junit.jupiter.api.Assertions.fail;

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

    private static double hiWord(long hi) {
        return Double.longBitsToDouble(hi << 32);
    }

    /** Values at and around every place the algorithm changes path, both signs. */
    private static double[] boundaries() {
        double[] anchors = {hiWord(0x3fd62e42L), hiWord(0x3fd62e43L), hiWord(0x3ff0a2b2L), hiWord(0x3e300000L),
            hiWord(0x40862e42L), 0x1.62e42fefa39efp9, 0x1.74910d52d3051p9, 708.3964185322641, 0.5 * Math.log(2),
            1.5 * Math.log(2), 1021 * Math.log(2), 1022 * Math.log(2), 0, Double.MIN_VALUE, Double.MIN_NORMAL,
            Double.MAX_VALUE, 1, 0.5, 2, 10, 88.72, 103.97, 745.1332191019412};
        double[] out = new double[anchors.length * 2 * 41];
        int n = 0;
        for (double a : anchors) {
            for (double s : new double[] {1, -1}) {
                for (int step = -20; step <= 20; step++) {
                    out[n++] = Double.longBitsToDouble(Double.doubleToRawLongBits(s * a) + step);
                }
            }
        }
        return out;
    }

    private static double[] specials() {
        return new double[] {Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, 0.0, -0.0,
            Double.MIN_VALUE, -Double.MIN_VALUE, Double.MAX_VALUE, -Double.MAX_VALUE, 709.79, -745.14, 1e-300,
            Double.longBitsToDouble(0x7ff8_0000_0000_1234L)};
    }

    /**
     * Checks {@code x} as given and repeated past {@link StrictExpLanes#SCALAR_BELOW} (a short call runs the scalar
     * definition, so the lanes see only long ones), shifted by one element so that values change lanes.
     */
    private void checkDoubles(double[] x) {
        checkCall(x);
        int copies = StrictExpLanes.SCALAR_BELOW / Math.max(1, x.length) + 2;
        double[] repeated = new double[copies * x.length + 1];
        for (int i = 1; i < repeated.length; i++) {
            repeated[i] = x[(i - 1) % x.length];
        }
        checkCall(repeated);
    }

    private void checkCall(double[] x) {
        double[] y = new double[x.length];
        StrictExpLanes.exp(x, y, 0, x.length);
        double[] s = new double[x.length];
        StrictExpLanes.sigmoid(x, s, 0, x.length);
        for (int i = 0; i < x.length; i++) {
            same("exp", x[i], StrictMath.exp(x[i]), y[i]);
            same("sigmoid", x[i], UnaryOp.SIGMOID.apply(x[i]), s[i]);
        }
    }

    private static void same(String op, double x, double expected, double got) {
        boolean ok = Double.isNaN(expected) ? Double.isNaN(got)
                : Double.doubleToRawLongBits(expected) == Double.doubleToRawLongBits(got);
        if (!ok) {
            fail(op + "(" + x + " = " + Double.toHexString(x) + "): StrictMath gives " + Double.toHexString(expected)
                    + ", the lanes " + Double.toHexString(got) + " (" + StrictExpLanes.D + ")");
        }
    }

    @Test
    void boundariesAndSpecialsMatchStrictMath() {
        checkDoubles(boundaries());
        checkDoubles(specials());
    }

    @Test
    void randomValuesOfEveryRangeMatchStrictMath() {
        int n = 1 << 20;
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
        checkDoubles(x);
    }

    @Test
    void floatExpAndSigmoidAreTheDoubleDefinitionsRounded() {
        // exhaustive only at the host's own width: the forced-width runs would repeat it, some on the slow fallback
        boolean exhaustive = Boolean.getBoolean("nabla.test.exhaustive") && System.getProperty("nabla.cpu.species") == null;
        long step = exhaustive ? 1 : 4093;
        int chunk = 1 << 16;
        float[] x = new float[chunk];
        float[] e = new float[chunk];
        float[] s = new float[chunk];
        long checked = 0;
        for (long bits = 0; bits < (1L << 32); ) {
            int n = 0;
            for (; n < chunk && bits < (1L << 32); n++, bits += step) {
                x[n] = Float.intBitsToFloat((int) bits);
            }
            FloatLanes.unary(UnaryOp.EXP, x, e, 0, n);
            FloatLanes.unary(UnaryOp.SIGMOID, x, s, 0, n);
            for (int i = 0; i < n; i++) {
                same("float exp", x[i], (float) StrictMath.exp(x[i]), e[i]);
                same("float sigmoid", x[i], (float) UnaryOp.SIGMOID.apply(x[i]), s[i]);
            }
            checked += n;
        }
        System.out.println("StrictExpLanesTest: " + checked + " float bit patterns checked");
    }
}
