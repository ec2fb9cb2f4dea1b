package dev.nabla.bench.suite;

import java.util.Random;

/**
 * The inputs of the side-by-side workloads W1-W7, made from {@link java.util.Random} with fixed seeds so that every
 * variant (Nabla's and the peers') computes on the same numbers, and the constants the workloads share.
 */
public final class Data {
    /** W2 and W3: elements per operand (2^24). */
    public static final int N = 1 << 24;
    /** W4 and W6: the side of the square matrices. */
    public static final int SIDE = 1024;
    /** W5: batch, input, hidden and output sizes of the MLP. */
    public static final int MLP_BATCH = 128;
    public static final int MLP_IN = 784;
    public static final int MLP_HIDDEN = 256;
    public static final int MLP_OUT = 10;
    /** W7: batch of the MNIST CNN step. */
    public static final int CNN_BATCH = 64;
    /** W1: steps per invocation (the notebook's 30) and the steps a cold run measures. */
    public static final int NOTEBOOK_STEPS = 30;
    public static final int COLD_STEPS = 600;

    private Data() {
    }

    /** {@code n} floats uniform in [lo, hi). */
    public static float[] uniform(long seed, int n, float lo, float hi) {
        Random r = new Random(seed);
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = lo + (hi - lo) * r.nextFloat();
        }
        return out;
    }

    /** Glorot-uniform weights for a (fanIn, fanOut) kernel, row-major, as the peers load them too. */
    public static float[] glorot(long seed, int fanIn, int fanOut, int count) {
        float limit = (float) Math.sqrt(6.0 / (fanIn + fanOut));
        return uniform(seed, count, -limit, limit);
    }

    /** {@code n} labels in [0, classes). */
    public static int[] labels(long seed, int n, int classes) {
        Random r = new Random(seed);
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = r.nextInt(classes);
        }
        return out;
    }

    /** Row-major one-hot rows of {@code labels}. */
    public static float[] oneHot(int[] labels, int classes) {
        float[] out = new float[labels.length * classes];
        for (int i = 0; i < labels.length; i++) {
            out[i * classes + labels[i]] = 1;
        }
        return out;
    }

    /** W1: the notebook's x after {@code steps} steps of x -= 0.1 (2x + 1) from 3, in float32 (each op rounded). */
    public static float notebookX(int steps) {
        float x = 3f;
        for (int i = 0; i < steps; i++) {
            float g = x + x + 1f;   // d(x*x + x - 1)/dx as the tape computes it: x*1 + 1*x + 1
            x = x - 0.1f * g;
        }
        return x;
    }

    /** Fails loudly when a variant computed something else than the reference. */
    public static void check(String what, double expected, double actual, double relTolerance) {
        double err = Math.abs(expected - actual) / Math.max(1e-30, Math.abs(expected));
        if (!(err <= relTolerance)) {
            throw new IllegalStateException(what + ": expected " + expected + ", got " + actual + " (relative error "
                    + err + " > " + relTolerance + ")");
        }
    }
}
