package dev.nabla.conformance;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nabla.DType;
import dev.nabla.Device;
import dev.nabla.GradientTape;
import dev.nabla.Tensor;
import java.util.Arrays;

/** Inputs where a naive formula overflows, underflows or loses bits. */
class NumericalStabilityTest {
    /** log(1 + e^-1 + e^-2): logSumExp of [0, -1, -2]. */
    private static final double LSE_0_M1_M2 = Math.log(1 + Math.exp(-1) + Math.exp(-2));

    private static void assertFiniteAndClose(double[] expected, double[] actual, double tol, String what) {
        assertTrue(Arrays.stream(actual).allMatch(Double::isFinite), what + " not finite: " + Arrays.toString(actual));
        assertArrayEquals(expected, actual, tol, what);
    }

    @OnEachDevice
    void logSumExpSoftmaxAndLogSoftmaxOfLargeInputs(Device d) {
        for (DType t : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            double tol = t == DType.FLOAT32 ? 1e-4 : 1e-12;
            for (double base : new double[] {1000, -1000}) {
                // x = base + [0, 1, 2]; shifting by the max: lse = base + 2 + log(1 + e^-1 + e^-2)
                Tensor x = DeviceTensors.of(d, t, new long[] {3}, new double[] {base, base + 1, base + 2});
                assertFiniteAndClose(new double[] {base + 2 + LSE_0_M1_M2}, new double[] {x.logSumExp(0).doubleItem()},
                        tol * 1000, t + " logSumExp at " + base);
                // softmax_k = e^(k-2) / (1 + e^-1 + e^-2); logSoftmax_k = k - 2 - log(1 + e^-1 + e^-2)
                double z = 1 + Math.exp(-1) + Math.exp(-2);
                assertFiniteAndClose(new double[] {Math.exp(-2) / z, Math.exp(-1) / z, 1 / z},
                        x.softmax(0).toDoubleArray(), tol, t + " softmax at " + base);
                assertFiniteAndClose(new double[] {-2 - LSE_0_M1_M2, -1 - LSE_0_M1_M2, -LSE_0_M1_M2},
                        x.logSoftmax(-1).toDoubleArray(), tol, t + " logSoftmax at " + base);
            }
        }
    }

    @OnEachDevice
    void softmaxOfLargeLogitsIsExact(Device d) {
        // exp(x - max) = [1, 1, e^-2000 = 0], so softmax is exactly [1/2, 1/2, 0]; exp(x - logSumExp) gave 0.49998546
        for (DType t : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            Tensor x = DeviceTensors.of(d, t, new long[] {3}, new double[] {1000, 1000, -1000});
            assertArrayEquals(new double[] {0.5, 0.5, 0}, x.softmax(0).toDoubleArray(), 0.0, t + " softmax");
            // logSoftmax = (x - max) - log(1 + 1 + 0) = [-log 2, -log 2, -2000 - log 2]
            double ln2 = Math.log(2);
            double tol = t == DType.FLOAT32 ? Math.ulp(2000f) : Math.ulp(2000.0);
            assertArrayEquals(new double[] {-ln2, -ln2, -2000 - ln2}, x.logSoftmax(0).toDoubleArray(), tol,
                    t + " logSoftmax");
            // rows along axis 1 of a (2, 3) matrix, one of them shifted far down
            Tensor m = DeviceTensors.of(d, t, new long[] {2, 3}, new double[] {1000, 1000, -1000, -5000, -5000, -5000});
            double third = t == DType.FLOAT32 ? (float) (1.0 / 3) : 1.0 / 3;
            assertArrayEquals(new double[] {0.5, 0.5, 0, third, third, third}, m.softmax(1).toDoubleArray(), 0.0,
                    t + " softmax rows");
        }
    }

    @OnEachDevice
    void logSumExpGradientAtLargeInputsIsSoftmax(Device d) {
        Tensor x = Tensor.of(d, new double[] {1000, 1001, 1002});
        try (GradientTape tape = new GradientTape()) {
            tape.watch(x);
            Tensor y = x.logSumExp(0);
            double z = 1 + Math.exp(-1) + Math.exp(-2);
            // d lse/dx = softmax(x)
            assertFiniteAndClose(new double[] {Math.exp(-2) / z, Math.exp(-1) / z, 1 / z},
                    tape.gradient(y, x).toDoubleArray(), 1e-12, "gradient");
        }
    }

    /**
     * d(x²) = 2·x·g with g near the top of the range and x tiny: the gradient is small, and no intermediate may
     * overflow on the way (doubling g first did: 2·3e38 is infinite).
     */
    @OnEachDevice
    void squareGradientOfATinyInputUnderAHugeUpstreamGradientIsFinite(Device d) {
        for (DType t : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            double big = t == DType.FLOAT32 ? 3e38 : 1.7e308;
            Tensor x = DeviceTensors.of(d, t, new long[] {2}, new double[] {1e-30, -2e-30});
            Tensor w = DeviceTensors.of(d, t, new long[] {2}, new double[] {big, big});
            try (GradientTape tape = new GradientTape()) {
                tape.watch(x);
                Tensor y = x.square().mul(w);                   // dy/d(x²) = w, a full (not broadcast) gradient
                double[] xs = x.toDoubleArray();
                double[] ws = w.toDoubleArray();
                assertFiniteAndClose(new double[] {2 * xs[0] * ws[0], 2 * xs[1] * ws[1]},
                        tape.gradient(y, x).toDoubleArray(), (t == DType.FLOAT32 ? 1e-6 : 1e-14) * 4 * big * 1e-30,
                        t + " gradient");
            }
        }
    }

    /** d(1/x) = -g/x² with x tiny and g tinier: finite, though 1/x² alone overflows. */
    @OnEachDevice
    void reciprocalGradientOfATinyInputIsFiniteWhereItsSquareOverflows(Device d) {
        for (DType t : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            double tiny = t == DType.FLOAT32 ? 1e-20 : 1e-160;             // 1/tiny² overflows the dtype
            double tinier = t == DType.FLOAT32 ? 1e-30 : 1e-300;
            Tensor x = DeviceTensors.of(d, t, new long[] {2}, new double[] {tiny, -2 * tiny});
            Tensor w = DeviceTensors.of(d, t, new long[] {2}, new double[] {tinier, tinier});
            try (GradientTape tape = new GradientTape()) {
                tape.watch(x);
                Tensor y = x.reciprocal().mul(w);
                double[] xs = x.toDoubleArray();
                double[] ws = w.toDoubleArray();
                // divided twice: x² itself is subnormal in float64 for x = 1e-160
                double[] want = {-(ws[0] / xs[0]) / xs[0], -(ws[1] / xs[1]) / xs[1]};
                assertFiniteAndClose(want, tape.gradient(y, x).toDoubleArray(),
                        (t == DType.FLOAT32 ? 1e-6 : 1e-14) * Math.abs(want[0]), t + " gradient");
            }
        }
    }

    @OnEachDevice
    void logSumExpOfAllMinusInfinityIsMinusInfinity(Device d) {
        double ninf = Double.NEGATIVE_INFINITY;
        // log(e^-inf + e^-inf) = log 0 = -inf, not NaN from -inf - (-inf)
        assertEquals(ninf, Tensor.of(d, new double[] {ninf, ninf}).logSumExp(0).doubleItem());
    }

    @OnEachDevice
    void sigmoidSaturatesWithoutOverflow(Device d) {
        // sigmoid(100) = 1 / (1 + e^-100): 1 - 3.7e-44 is 1.0 in float32 and float64
        // sigmoid(-100) = e^-100 / (1 + e^-100) = 3.720075976020836e-44 (a float32 subnormal)
        double tiny = Math.exp(-100) / (1 + Math.exp(-100));
        double[] f32 = Tensor.of(d, new float[] {100, -100, 1000, -1000}).sigmoid().toDoubleArray();
        assertEquals(1.0, f32[0]);
        assertEquals(tiny, f32[1], 1e-45);
        assertEquals(1.0, f32[2]);
        assertEquals(0.0, f32[3]);
        double[] f64 = Tensor.of(d, new double[] {100, -100, 1000, -1000}).sigmoid().toDoubleArray();
        assertEquals(1.0, f64[0]);
        assertEquals(tiny, f64[1], tiny * 1e-12);
        assertEquals(1.0, f64[2]);
        assertEquals(0.0, f64[3]);
    }

    @OnEachDevice
    void sigmoidGradientStaysFiniteWhenSaturated(Device d) {
        Tensor x = Tensor.of(d, new double[] {-1000, -100, 100, 1000});
        try (GradientTape tape = new GradientTape()) {
            tape.watch(x);
            double[] g = tape.gradient(x.sigmoid(), x).toDoubleArray();
            // s (1 - s): e^-100 (to double precision) at ±100, 0 at ±1000
            assertFiniteAndClose(new double[] {0, Math.exp(-100), 0, 0}, g, 1e-50, "sigmoid gradient");
        }
    }

    /** A left-to-right float32 running sum: the naive loop the tolerances below are chosen to reject. */
    private static float naiveFloatSum(float[] v) {
        float s = 0;
        for (float x : v) {
            s += x;
        }
        return s;
    }

    /**
     * Checks sum and mean of {@code v} against the float64 sum within {@code relTol}, after checking that the naive
     * float32 loop misses that bound, so the data can tell a blocked sum from a naive one.
     */
    private static void assertSumBeatsTheNaiveLoop(Device d, float[] v, double relTol, String what) {
        double exact = 0;
        for (float x : v) {
            exact += x;   // exact in float64 for the data below: every partial sum needs at most 48 bits
        }
        double tol = relTol * exact;
        float naive = naiveFloatSum(v);
        assertTrue(Math.abs(naive - exact) > 100 * tol, what + ": the naive loop (" + naive + ") must miss " + exact
                + " by far more than the tolerance " + tol);
        try (Tensor t = Tensor.of(d, v); Tensor s = t.sum(); Tensor m = t.mean()) {
            assertEquals(exact, s.item(), tol, what + " sum");
            assertEquals(exact / v.length, m.item(), relTol * exact / v.length, what + " mean");
        }
    }

    @OnEachDevice
    void float32SumKeepsCountingPastTwoToTheTwentyFour(Device d) {
        // 2^24 ones, then 2^20 quarters: 2^24 + 2^18 = 17039360 exactly (representable: even and below 2^25). A
        // naive float32 loop reaches 2^24 = 16777216 and then every 2^24 + 0.25 rounds back to 2^24, so it returns
        // 16777216, 262144 (1.5%) short; a blocked or pairwise sum is within a few ulps (ulp 2) of the total
        int ones = 1 << 24;
        float[] v = new float[ones + (1 << 20)];
        Arrays.fill(v, 0, ones, 1f);
        Arrays.fill(v, ones, v.length, 0.25f);
        assertSumBeatsTheNaiveLoop(d, v, 1e-5, "2^24 ones and 2^20 quarters");
    }

    @OnEachDevice
    void float32SumOfTenMillionTenthsDoesNotDrift(Device d) {
        // 10^7 copies of 0.1f (= 0.100000001490116...): the float64 total is 1000000.0149; a naive float32 loop
        // drifts to 1087937 (+8.8%), its rounding errors all in the same direction
        float[] v = new float[10_000_000];
        Arrays.fill(v, 0.1f);
        assertSumBeatsTheNaiveLoop(d, v, 1e-5, "10^7 tenths");
    }

    @OnEachDevice
    void float32SumOfManySmallValuesKeepsTheirTotal(Device d) {
        // 1 + 2^22 * 2^-24 = 1.25; adding 2^-24 to 1.0 one at a time in float32 rounds back to 1.0 every time
        // (a naive loop returns 1.0); blocked or pairwise float32 sums may be off by a few ulps times log n
        int n = 1 << 22;
        float[] v = new float[n + 1];
        Arrays.fill(v, 0x1p-24f);
        v[0] = 1;
        assertEquals(1.25f, Tensor.of(d, v).sum().item(), 1e-4f);
    }
}
