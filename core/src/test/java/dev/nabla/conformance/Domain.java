package dev.nabla.conformance;

import java.util.Random;

/**
 * Where an op's input values are drawn from: keeps them inside the op's domain (log of positives) and away from
 * points where it is not differentiable (relu at 0, ties of maximum), so central differences are meaningful.
 */
@FunctionalInterface
interface Domain {
    /** {@code n} values for input number {@code input} of an op. */
    double[] draw(Random r, int input, int n);

    /** Anything moderate: uniform on [-3, 3). */
    Domain REAL = (r, input, n) -> uniform(r, n, -3, 3);

    /** Strictly positive, away from 0: uniform on [0.5, 3). */
    Domain POSITIVE = (r, input, n) -> uniform(r, n, 0.5, 3);

    /** Either sign, |x| in [0.6, 3): away from 0, and INT32 rounding keeps it non-zero. */
    Domain NONZERO = (r, input, n) -> {
        double[] v = uniform(r, n, 0.6, 3);
        for (int i = 0; i < n; i++) {
            v[i] = r.nextBoolean() ? v[i] : -v[i];
        }
        return v;
    };

    /** Integers in [-2, 2]: comparisons and argmax see ties. */
    Domain SMALL_INTEGERS = (r, input, n) -> {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = r.nextInt(5) - 2;
        }
        return v;
    };

    /**
     * Pairwise distinct values, also across inputs and never an integer: a shuffled grid 0.3 apart, shifted by
     * 0.05 + 0.1 per input, with a little jitter. No ties for max/min/maximum, no point closer than ~0.05 to an
     * integer constant they are compared with.
     */
    Domain DISTINCT = (r, input, n) -> {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = (i - n / 2) * 0.3 + 0.05 + 0.1 * (input % 3) + 0.01 * r.nextDouble();
        }
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            double t = v[i];
            v[i] = v[j];
            v[j] = t;
        }
        return v;
    };

    /** A different domain per input (e.g. pow: positive base, any exponent); the last repeats. */
    static Domain perInput(Domain... domains) {
        return (r, input, n) -> domains[Math.min(input, domains.length - 1)].draw(r, input, n);
    }

    private static double[] uniform(Random r, int n, double lo, double hi) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = lo + (hi - lo) * r.nextDouble();
        }
        return v;
    }
}
