package dev.nabla.cpu;

import static dev.nabla.cpu.StrictLanesCheck.around;
import static dev.nabla.cpu.StrictLanesCheck.hiWord;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.nabla.backend.BinaryOp;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link StrictPowLanes} gives POW's bits ({@link StrictMath#pow} with C99's corners) in every lane: every pair of
 * special values, both sides of each place fdlibm changes path (the reduction's intervals, |z| = 1/2, overflow,
 * underflow and subnormal results), random pairs of every range and sign, both broadcast forms and in place, and
 * FLOAT32 through {@link FloatLanes#pow}. Where the main path applies, the lanes must compute it themselves.
 */
class StrictPowLanesTest {
    private static final double Y_HUGE = 0x1.00000ffffffffp31;
    private final Random random = new Random(13);

    @Test
    void everyPairOfSpecialValuesMatchesTheDefinition() {
        List<Double> values = new ArrayList<>();
        for (double v : StrictLanesCheck.specials()) {
            values.add(v);
        }
        for (double v : new double[] {2, 0.5, 3, 10, 0.1, 1e-10, 1e300, Math.nextUp(1.0), Math.nextDown(1.0),
            1.5, 0.25, 1.0 / 3, 4, 7, 2.5, 1023, 1024, 1075, 0x1p31, Y_HUGE, Math.nextUp(Y_HUGE), 0x1p52 + 1, 0x1p53,
            0x1p53 + 2, 0x1p63, 0x1p64, 0x1.00001p64}) {
            values.add(v);
            values.add(-v);
        }
        int n = values.size();
        double[] x = new double[n * n];
        double[] y = new double[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                x[i * n + j] = values.get(i);
                y[i * n + j] = values.get(j);
            }
        }
        check("specials", x, y);
    }

    @Test
    void bothSidesOfEachPathChangeMatchTheDefinition() {
        // the reduction's intervals (mantissa high words 0x3988e and 0xbb67a), |x| near 1 and the normal edge
        double[] bases = around(hiWord(0x3ff3_988eL), hiWord(0x3ff3_988fL), hiWord(0x3ffb_b67aL),
                hiWord(0x3ffb_b679L), 1, 2, Double.MIN_NORMAL, Double.MAX_VALUE);
        double[] exponents = {3, -3, 0.7, -1.3, 1e3, -1e3, 33.5, 1e9};
        check("reduction edges", pairs(bases, exponents), repeatEach(exponents, bases.length));

        // z = y log2 x where it crosses ±1/2, 1024 (overflow), -1022 (subnormal results) and -1075 (underflow)
        List<Double> zs = new ArrayList<>();
        for (double z : new double[] {0.5, -0.5, 1.5, -1.5, 1024, 1023.5, -1022, -1021.5, -1074, -1075, -1075.5}) {
            zs.add(z);
        }
        double[] xs = {2, 0.5, 10, Math.E, 1.0000001, 3e-7, -2, -10};
        List<Double> px = new ArrayList<>();
        List<Double> py = new ArrayList<>();
        for (double base : xs) {
            double log2 = Math.log(Math.abs(base)) / Math.log(2);
            for (double z : zs) {
                for (double e : around(z / log2)) {
                    px.add(base);
                    py.add(e);
                }
                // a negative base needs an integer exponent: the integers nearest the crossing
                double near = Math.rint(z / log2);
                for (double e = near - 3; e <= near + 3; e++) {
                    px.add(base);
                    py.add(e);
                }
            }
        }
        check("z edges", toArray(px), toArray(py));
    }

    /** 2^20 random pairs (2^16 in the forced-width runs); 2^26 with {@code -Dnabla.test.exhaustive=true}. */
    @Test
    void randomPairsOfEveryRangeMatchTheDefinition() {
        int rounds = Boolean.getBoolean("nabla.test.exhaustive") ? 64 : 1;
        for (int round = 0; round < rounds; round++) {
            randomPairs(StrictLanesCheck.randomCount());
        }
    }

    private void randomPairs(int n) {
        double[] x = new double[n];
        double[] y = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = switch (i % 5) {
                case 0 -> random.nextDouble() * 4;
                case 1 -> (random.nextDouble() - 0.5) * 20;                        // negative bases too
                case 2 -> Math.copySign(Math.scalb(random.nextDouble(), random.nextInt(-1074, 1024)),
                        random.nextBoolean() ? 1 : -1);                             // every exponent
                case 3 -> 1 + Math.scalb(random.nextDouble() - 0.5, -random.nextInt(12, 60)); // near 1
                default -> Double.longBitsToDouble(random.nextLong());            // any pattern
            };
            y[i] = switch ((i / 5) % 6) {
                case 0 -> random.nextInt(-40, 41);                                  // integers: odd and even
                case 1 -> random.nextInt(-80, 81) / 2.0;                            // halves
                case 2 -> (random.nextDouble() - 0.5) * 20;
                case 3 -> Math.scalb(random.nextDouble() - 0.5, random.nextInt(-60, 40));
                case 4 -> random.nextInt() + (random.nextBoolean() ? 0 : 0.5);      // near |y| = 2^31
                default -> Double.longBitsToDouble(random.nextLong());
            };
        }
        check("random", x, y);
    }

    @Test
    void theMainPathRunsInLanes() {
        // ordinary bases and exponents (negative bases with integer exponents) must not fall back to the definition
        int n = 4096;
        double[] x = new double[n];
        double[] y = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = (0.001 + random.nextDouble() * 100) * (i % 2 == 0 ? 1 : -1);
            y[i] = i % 2 == 0 ? (random.nextDouble() - 0.5) * 8 + 0.01 : random.nextInt(3, 18) * (i % 4 == 1 ? 1 : -1);
        }
        double[] out = new double[n];
        int definitionLanes = StrictPowLanes.pow(x, 0, false, y, 0, false, out, 0, n);
        assertEquals(0, definitionLanes, "lanes given to the definition");
        for (int i = 0; i < n; i++) {
            same("main path", x[i], y[i], out[i]);
        }
    }

    @Test
    void floatPowIsTheDoubleDefinitionRounded() {
        boolean forcedWidth = System.getProperty("nabla.cpu.species") != null;
        long step = forcedWidth ? 65521 : 4093;
        int count = (int) ((1L << 32) / step) + 1;
        float[] x = new float[count];
        for (int i = 0; i < count; i++) {
            x[i] = Float.intBitsToFloat((int) (i * step));
        }
        float[] y = new float[count];
        float[] out = new float[count];
        for (float e : new float[] {3, -3, 1.5f, 2.5f, -0.5f, 1f / 3, 7, 0.1f, 10, -10, 2, 0.5f}) {
            FloatLanes.pow(x, 0, false, new float[] {e}, 0, true, out, 0, count);
            for (int i = 0; i < count; i++) {
                sameFloat(x[i], e, out[i]);
            }
        }
        for (int i = 0; i < count; i++) {
            y[i] = switch (i % 3) {
                case 0 -> random.nextInt(-12, 13);
                case 1 -> (random.nextFloat() - 0.5f) * 16;
                default -> Float.intBitsToFloat(random.nextInt());
            };
        }
        FloatLanes.pow(x, 0, false, y, 0, false, out, 0, count);
        for (int i = 0; i < count; i++) {
            sameFloat(x[i], y[i], out[i]);
        }
        // a broadcast base, and in place
        float[] inPlace = y.clone();
        FloatLanes.pow(new float[] {1.7f}, 0, true, inPlace, 0, false, inPlace, 0, count);
        for (int i = 0; i < count; i++) {
            sameFloat(1.7f, y[i], inPlace[i]);
        }
    }

    /**
     * {@code x[i]^y[i]}, repeated past {@link VectorSupport#SCALAR_BELOW} (shorter calls run the definition) and at
     * odd offsets; then in place over each operand, and with each operand broadcast.
     */
    private static void check(String name, double[] x, double[] y) {
        int below = VectorSupport.SCALAR_BELOW;
        int copies = x.length > 4 * below ? 1 : below / Math.max(1, x.length) + 2;
        int n = copies * x.length;
        double[] xs = new double[n + 1];
        double[] ys = new double[n + 2];
        for (int i = 0; i < n; i++) {
            xs[i + 1] = x[i % x.length];
            ys[i + 2] = y[i % y.length];
        }
        double[] out = new double[n + 3];
        StrictPowLanes.pow(xs, 1, false, ys, 2, false, out, 3, n);
        for (int i = 0; i < n; i++) {
            same(name, xs[i + 1], ys[i + 2], out[i + 3]);
        }
        double[] onX = xs.clone();
        StrictPowLanes.pow(onX, 1, false, ys, 2, false, onX, 1, n);
        double[] onY = ys.clone();
        StrictPowLanes.pow(xs, 1, false, onY, 2, false, onY, 2, n);
        for (int i = 0; i < n; i++) {
            same(name + " in place", xs[i + 1], ys[i + 2], onX[i + 1]);
            same(name + " in place", xs[i + 1], ys[i + 2], onY[i + 2]);
        }
        // broadcasts: three values of each operand against the whole other one, writing over the broadcast value
        for (int k = 0; k < Math.min(x.length, 3); k++) {
            int at = 1 + k * (x.length / 3 + 1) % n;
            double[] base = {xs[at]};
            double[] result = new double[n];
            StrictPowLanes.pow(base, 0, true, ys, 2, false, result, 0, n);
            double[] exponent = {ys[at + 1]};
            double[] over = Arrays.copyOf(exponent, n);
            StrictPowLanes.pow(xs, 1, false, over, 0, true, over, 0, n);
            for (int i = 0; i < n; i++) {
                same(name + " broadcast base", base[0], ys[i + 2], result[i]);
                same(name + " broadcast exponent", xs[i + 1], exponent[0], over[i]);
            }
        }
    }

    private static void same(String what, double x, double y, double got) {
        double expected = BinaryOp.POW.apply(x, y);
        boolean ok = Double.isNaN(expected) ? Double.isNaN(got)
                : Double.doubleToRawLongBits(expected) == Double.doubleToRawLongBits(got);
        if (!ok) {
            fail(what + ": pow(" + x + " = " + Double.toHexString(x) + ", " + y + " = " + Double.toHexString(y)
                    + ") is " + Double.toHexString(expected) + ", the lanes give " + Double.toHexString(got) + " ("
                    + DoubleLanes.SPECIES + ")");
        }
    }

    private static void sameFloat(float x, float y, float got) {
        float expected = (float) BinaryOp.POW.apply(x, y);
        boolean ok = Float.isNaN(expected) ? Float.isNaN(got)
                : Float.floatToRawIntBits(expected) == Float.floatToRawIntBits(got);
        if (!ok) {
            fail("float pow(" + x + ", " + y + ") is " + expected + ", the lanes give " + got + " ("
                    + FloatLanes.SPECIES + ")");
        }
    }

    /** Each base with each exponent: bases vary fastest (see {@link #repeatEach}). */
    private static double[] pairs(double[] bases, double[] exponents) {
        double[] out = new double[bases.length * exponents.length];
        for (int e = 0; e < exponents.length; e++) {
            System.arraycopy(bases, 0, out, e * bases.length, bases.length);
        }
        return out;
    }

    private static double[] repeatEach(double[] values, int times) {
        double[] out = new double[values.length * times];
        for (int i = 0; i < out.length; i++) {
            out[i] = values[i / times];
        }
        return out;
    }

    private static double[] toArray(List<Double> values) {
        return values.stream().mapToDouble(Double::doubleValue).toArray();
    }
}
