package dev.nabla.conformance;

import static org.junit.jupiter.api.Assertions.fail;

import dev.nabla.DType;
import dev.nabla.Device;
import dev.nabla.Tensor;
import dev.nabla.backend.BinaryOp;
import dev.nabla.ops.Elementwise;
import java.util.function.BinaryOperator;
import java.util.function.UnaryOperator;

/**
 * Every element-wise op at NaN, ±0, ±inf, subnormals and huge values, on every device, against IEEE 754 and C99
 * Annex F as written out here (not computed by the code under test). Each input sits in a tensor long enough for
 * vector bodies and scalar tails, at several positions, so every path of a backend sees it.
 */
class SpecialValuesTest {
    private static final double NAN = Double.NaN;
    private static final double INF = Double.POSITIVE_INFINITY;
    /** Stands for the dtype's largest finite value. */
    private static final double HUGE = 1234.5;
    /** Stands for the dtype's smallest subnormal. */
    private static final double SUB = 5678.5;

    private static double concrete(double v, DType t) {
        if (Math.abs(v) == HUGE) {
            return Math.signum(v) * (t == DType.FLOAT32 ? Float.MAX_VALUE : Double.MAX_VALUE);
        }
        if (Math.abs(v) == SUB) {
            return Math.signum(v) * (t == DType.FLOAT32 ? Float.MIN_VALUE : Double.MIN_VALUE);
        }
        return v;
    }

    private record Unary(String name, UnaryOperator<Tensor> op, double[][] cases) {
    }

    /** {input, expected} pairs; HUGE and SUB stand for the dtype's values. */
    private static final Unary[] UNARY = {
        new Unary("exp", Tensor::exp, new double[][] {{NAN, NAN}, {0.0, 1}, {-0.0, 1}, {INF, INF}, {-INF, 0.0},
            {HUGE, INF}, {-HUGE, 0.0}, {SUB, 1}}),
        new Unary("log", Tensor::log, new double[][] {{NAN, NAN}, {0.0, -INF}, {-0.0, -INF}, {INF, INF}, {-INF, NAN},
            {-1, NAN}, {1, 0.0}}),
        new Unary("sqrt", Tensor::sqrt, new double[][] {{NAN, NAN}, {0.0, 0.0}, {-0.0, -0.0}, {INF, INF}, {-INF, NAN},
            {-1, NAN}, {4, 2}}),
        new Unary("rsqrt", Tensor::rsqrt, new double[][] {{NAN, NAN}, {0.0, INF}, {-0.0, -INF}, {INF, 0.0},
            {-1, NAN}, {4, 0.5}}),
        new Unary("reciprocal", Tensor::reciprocal, new double[][] {{NAN, NAN}, {0.0, INF}, {-0.0, -INF}, {INF, 0.0},
            {-INF, -0.0}, {4, 0.25}}),
        new Unary("sin", Tensor::sin, new double[][] {{NAN, NAN}, {0.0, 0.0}, {-0.0, -0.0}, {INF, NAN}, {-INF, NAN}}),
        new Unary("cos", Tensor::cos, new double[][] {{NAN, NAN}, {0.0, 1}, {-0.0, 1}, {INF, NAN}, {-INF, NAN}}),
        new Unary("tanh", Tensor::tanh, new double[][] {{NAN, NAN}, {0.0, 0.0}, {-0.0, -0.0}, {INF, 1}, {-INF, -1},
            {HUGE, 1}, {-HUGE, -1}}),
        new Unary("sigmoid", Tensor::sigmoid, new double[][] {{NAN, NAN}, {0.0, 0.5}, {-0.0, 0.5}, {INF, 1},
            {-INF, 0.0}, {HUGE, 1}, {-HUGE, 0.0}}),
        new Unary("relu", Tensor::relu, new double[][] {{NAN, NAN}, {0.0, 0.0}, {-0.0, 0.0}, {INF, INF}, {-INF, 0.0},
            {-HUGE, 0.0}, {SUB, SUB}, {-SUB, 0.0}}),
        new Unary("abs", Tensor::abs, new double[][] {{NAN, NAN}, {-0.0, 0.0}, {-INF, INF}, {-SUB, SUB}}),
        new Unary("neg", Tensor::neg, new double[][] {{NAN, NAN}, {0.0, -0.0}, {INF, -INF}, {SUB, -SUB}}),
        new Unary("sign", Tensor::sign, new double[][] {{NAN, NAN}, {0.0, 0.0}, {-0.0, -0.0}, {INF, 1}, {-INF, -1},
            {SUB, 1}, {-SUB, -1}}),
        new Unary("square", Tensor::square, new double[][] {{NAN, NAN}, {-0.0, 0.0}, {-INF, INF}, {HUGE, INF},
            {SUB, 0.0}}),
    };

    private record Binary(String name, BinaryOperator<Tensor> op, double[][] cases) {
    }

    /** {a, b, expected} triples. */
    private static final Binary[] BINARY = {
        new Binary("add", Tensor::add, new double[][] {{INF, -INF, NAN}, {NAN, 1, NAN}, {-0.0, -0.0, -0.0},
            {-0.0, 0.0, 0.0}, {HUGE, HUGE, INF}, {SUB, -SUB, 0.0}}),
        new Binary("sub", Tensor::sub, new double[][] {{INF, INF, NAN}, {0.0, 0.0, 0.0}, {-0.0, 0.0, -0.0},
            {-HUGE, HUGE, -INF}}),
        new Binary("mul", Tensor::mul, new double[][] {{0.0, INF, NAN}, {-0.0, 5, -0.0}, {-1, 0.0, -0.0},
            {HUGE, HUGE, INF}, {SUB, 0.5, 0.0}, {NAN, 0.0, NAN}}),
        new Binary("div", Tensor::div, new double[][] {{0.0, 0.0, NAN}, {1, 0.0, INF}, {1, -0.0, -INF},
            {-1, 0.0, -INF}, {INF, INF, NAN}, {1, INF, 0.0}, {-1, INF, -0.0}, {HUGE, SUB, INF}}),
        new Binary("pow", Tensor::pow, new double[][] {{1, NAN, 1}, {1, INF, 1}, {-1, -INF, 1}, {NAN, 0.0, 1},
            {NAN, -0.0, 1}, {-0.0, -3, -INF}, {0.0, -2, INF}, {-INF, 3, -INF}, {-2, 0.5, NAN}, {2, NAN, NAN},
            {0.5, -INF, INF}, {2, -INF, 0.0}, {-0.0, 3, -0.0}, {HUGE, 2, INF}}),
        new Binary("maximum", Tensor::maximum, new double[][] {{NAN, 1, NAN}, {1, NAN, NAN}, {-0.0, 0.0, 0.0},
            {0.0, -0.0, 0.0}, {-INF, 3, 3}}),
        new Binary("minimum", Tensor::minimum, new double[][] {{NAN, 1, NAN}, {1, NAN, NAN}, {-0.0, 0.0, -0.0},
            {0.0, -0.0, -0.0}, {INF, 3, 3}}),
        // relu's gradient (x, g): g where x > 0; +0 where relu is flat (x <= 0 or NaN) whatever g is
        new Binary("relu_gradient", (x, g) -> Elementwise.binary(BinaryOp.RELU_GRADIENT, x, g), new double[][] {
            {-1, INF, 0.0}, {-1, NAN, 0.0}, {0.0, INF, 0.0}, {-0.0, -INF, 0.0}, {NAN, 3, 0.0}, {SUB, -0.0, -0.0},
            {2, NAN, NAN}, {INF, -INF, -INF}, {-SUB, 5, 0.0}}),
    };

    /** Positions that land in a vector body and in a scalar tail, for any width from 2 to 16 lanes. */
    private static final int LENGTH = 67;
    private static final int[] POSITIONS = {0, 17, 66};

    @OnEachDevice
    void unaryOpsAtSpecialValues(Device d) {
        for (DType t : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            for (Unary u : UNARY) {
                for (double[] c : u.cases()) {
                    for (int at : POSITIONS) {
                        double[] x = filler(LENGTH);
                        x[at] = concrete(c[0], t);
                        double got = u.op().apply(DeviceTensors.of(d, t, new long[] {LENGTH}, x)).toDoubleArray()[at];
                        check(u.name() + "(" + x[at] + ") " + t + " at " + at, concrete(c[1], t), got, t);
                    }
                }
            }
        }
    }

    @OnEachDevice
    void binaryOpsAtSpecialValues(Device d) {
        for (DType t : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            for (Binary b : BINARY) {
                for (double[] c : b.cases()) {
                    for (int at : POSITIONS) {
                        double[] x = filler(LENGTH);
                        double[] y = filler(LENGTH);
                        x[at] = concrete(c[0], t);
                        y[at] = concrete(c[1], t);
                        Tensor a = DeviceTensors.of(d, t, new long[] {LENGTH}, x);
                        Tensor bt = DeviceTensors.of(d, t, new long[] {LENGTH}, y);
                        String what = b.name() + "(" + x[at] + ", " + y[at] + ") " + t + " at " + at;
                        check(what, concrete(c[2], t), b.op().apply(a, bt).toDoubleArray()[at], t);
                        // the same with the special value as a broadcast scalar operand
                        Tensor scalarB = DeviceTensors.of(d, t, new long[] {}, new double[] {y[at]});
                        check(what + " (scalar b)", concrete(c[2], t), b.op().apply(a, scalarB).toDoubleArray()[at], t);
                    }
                }
            }
        }
    }

    private static double[] filler(int n) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = 0.25 + i % 7;
        }
        return v;
    }

    /** Same value and sign (so -0 is not +0); any NaN matches NaN. Finite results within an ulp of the dtype. */
    private static void check(String what, double expected, double got, DType t) {
        boolean ok;
        if (Double.isNaN(expected) || Double.isInfinite(expected) || expected == 0) {
            ok = Double.isNaN(expected) ? Double.isNaN(got)
                    : Double.doubleToRawLongBits(expected) == Double.doubleToRawLongBits(got);
        } else {
            double ulp = t == DType.FLOAT32 ? Math.ulp((float) expected) : Math.ulp(expected);
            ok = Math.abs(got - expected) <= ulp;
        }
        if (!ok) {
            fail(what + ": expected " + expected + " but got " + got);
        }
    }
}
