package dev.nabla.cpu;

import static org.junit.jupiter.api.Assertions.fail;

import dev.nabla.backend.UnaryOp;
import java.util.function.DoubleUnaryOperator;

/**
 * Checks for the Strict*Lanes classes: a vector form of a StrictMath function must give the function's bits in every
 * lane, for doubles and (through {@link FloatLanes#unary}) for floats, NaNs compared as NaNs.
 */
final class StrictLanesCheck {
    private StrictLanesCheck() {
    }

    /** A vector form over {@code [lo, hi)}: {@code y[i] = f(x[i])}. */
    @FunctionalInterface
    interface Lanes {
        void run(double[] x, double[] y, int lo, int hi);
    }

    /**
     * Random doubles a test draws: 2^20 at the host's own width, 2^16 in the forced-width runs, where one double
     * lane runs the Vector API's slow Java fallback (the lanes compute each lane alone, so the boundaries and
     * specials, checked in full everywhere, are what a width could change).
     */
    static int randomCount() {
        return System.getProperty("nabla.cpu.species") == null ? 1 << 20 : 1 << 16;
    }

    static double hiWord(long hi) {
        return Double.longBitsToDouble(hi << 32);
    }

    /** Each anchor and the 20 doubles either side of it, with both signs. */
    static double[] around(double... anchors) {
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

    /** Infinities, zeros, NaNs (one with a payload), the extremes of the double range. */
    static double[] specials() {
        return new double[] {Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, 0.0, -0.0,
            Double.MIN_VALUE, -Double.MIN_VALUE, Double.MIN_NORMAL, -Double.MIN_NORMAL, Double.MAX_VALUE,
            -Double.MAX_VALUE, 1e-300, -1e-300, 1, -1, Double.longBitsToDouble(0x7ff8_0000_0000_1234L),
            Double.longBitsToDouble(0xfff8_0000_0000_0001L)};
    }

    /**
     * Checks {@code x} as given and repeated past {@link VectorSupport#SCALAR_BELOW} (a short call runs the scalar
     * definition, so the lanes see only long ones), shifted by one element so that values change lanes.
     */
    static void checkDoubles(String name, Lanes lanes, DoubleUnaryOperator reference, double[] x) {
        checkCall(name, lanes, reference, x);
        int copies = VectorSupport.SCALAR_BELOW / Math.max(1, x.length) + 2;
        double[] repeated = new double[copies * x.length + 1];
        for (int i = 1; i < repeated.length; i++) {
            repeated[i] = x[(i - 1) % x.length];
        }
        checkCall(name, lanes, reference, repeated);
    }

    /** One call into a new array, and one in place (as FLOAT32's chunks through double run). */
    private static void checkCall(String name, Lanes lanes, DoubleUnaryOperator reference, double[] x) {
        double[] y = new double[x.length];
        lanes.run(x, y, 0, x.length);
        double[] inPlace = x.clone();
        lanes.run(inPlace, inPlace, 0, x.length);
        for (int i = 0; i < x.length; i++) {
            same(name, x[i], reference.applyAsDouble(x[i]), y[i]);
            same(name + " in place", x[i], reference.applyAsDouble(x[i]), inPlace[i]);
        }
    }

    static void same(String op, double x, double expected, double got) {
        boolean ok = Double.isNaN(expected) ? Double.isNaN(got)
                : Double.doubleToRawLongBits(expected) == Double.doubleToRawLongBits(got);
        if (!ok) {
            fail(op + "(" + x + " = " + Double.toHexString(x) + "): StrictMath gives " + Double.toHexString(expected)
                    + ", the lanes " + Double.toHexString(got) + " (" + DoubleLanes.SPECIES + ")");
        }
    }

    /**
     * FLOAT32 {@code ops} through {@link FloatLanes#unary} against their definitions (the double result rounded) on
     * every 4093rd float bit pattern (every 65521st in the forced-width runs), or on all 2^32 with
     * {@code -Dnabla.test.exhaustive=true} (at the host's own width only).
     */
    static void checkFloatSweep(String test, UnaryOp... ops) {
        boolean forcedWidth = System.getProperty("nabla.cpu.species") != null;
        boolean exhaustive = Boolean.getBoolean("nabla.test.exhaustive") && !forcedWidth;
        long step = exhaustive ? 1 : forcedWidth ? 65521 : 4093;     // see randomCount
        int chunk = 1 << 16;
        float[] x = new float[chunk];
        float[] y = new float[chunk];
        long checked = 0;
        for (long bits = 0; bits < (1L << 32); ) {
            int n = 0;
            for (; n < chunk && bits < (1L << 32); n++, bits += step) {
                x[n] = Float.intBitsToFloat((int) bits);
            }
            for (UnaryOp op : ops) {
                FloatLanes.unary(op, x, y, 0, n);
                for (int i = 0; i < n; i++) {
                    same("float " + op, x[i], (float) op.apply(x[i]), y[i]);
                }
            }
            checked += n;
        }
        System.out.println(test + ": " + checked + " float bit patterns checked");
    }
}
