package dev.nabla.backend;

/**
 * Element-wise binary primitives over broadcast strides. Comparisons produce BOOL; the rest keep the operands'
 * dtype. Each constant carries its scalar definitions: {@link #apply(double, double)} for the floating dtypes (a
 * FLOAT32 result is the double result rounded to float) and {@link #applyInt(int, int)} for INT32, which wraps in
 * two's complement as Java, TF and NumPy do.
 *
 * <p>Every backend and every path (vector body, scalar tail, strided loop) must reproduce these bit for bit, except
 * where a constant's documentation says otherwise. Transcendental definitions use {@link StrictMath} (fdlibm), whose
 * results the Java specification fixes on every host, rather than {@link Math}, whose intrinsics may differ by an
 * ulp between processors and JIT tiers.
 *
 * <pre>{@code
 * double p = BinaryOp.POW.apply(1, Double.NaN);        // 1.0, as C99 says
 * int w = BinaryOp.MUL.applyInt(100000, 100000);      // 1410065408: wraps
 * }</pre>
 */
public enum BinaryOp {
    ADD {
        public double apply(double a, double b) { return a + b; }
        public int applyInt(int a, int b) { return a + b; }
    },
    SUB {
        public double apply(double a, double b) { return a - b; }
        public int applyInt(int a, int b) { return a - b; }
    },
    MUL {
        public double apply(double a, double b) { return a * b; }
        public int applyInt(int a, int b) { return a * b; }
    },
    /**
     * INT32 division truncates toward zero (as C, Java and CUDA); {@code MIN_VALUE / -1} wraps to {@code MIN_VALUE}
     * and division by zero gives 0 (NumPy's answer; a kernel cannot throw).
     */
    DIV {
        public double apply(double a, double b) { return a / b; }
        public int applyInt(int a, int b) { return b == 0 ? 0 : a / b; }
    },
    /**
     * C99 Annex F {@code pow}, as TensorFlow, NumPy and CUDA: {@code pow(1, y) = 1} and {@code pow(x, ±0) = 1} for
     * every x and y, NaN included, and {@code pow(-1, ±inf) = 1}. Java's {@code Math.pow} returns NaN in those
     * three corners; elsewhere the two agree. INT32 powers multiply with wrap-around; a negative exponent gives the
     * truncated real result (0, or ±1 for a base of ±1), and 0 to a negative power gives 0.
     */
    POW {
        public double apply(double a, double b) {
            if (a == 1.0 || b == 0.0 || (a == -1.0 && Double.isInfinite(b))) {
                return 1.0;
            }
            return StrictMath.pow(a, b);
        }

        public int applyInt(int a, int b) {
            if (b < 0) {
                return a == 1 ? 1 : a == -1 ? ((b & 1) == 0 ? 1 : -1) : 0;
            }
            int result = 1;
            int base = a;
            for (int e = b; e != 0; e >>>= 1) {
                if ((e & 1) != 0) {
                    result *= base;
                }
                base *= base;
            }
            return result;
        }
    },
    /** NOTE: NaN propagates, as in TF and NumPy; Math.max does the same, and orders -0 below +0. */
    MAXIMUM {
        public double apply(double a, double b) { return Math.max(a, b); }
        public int applyInt(int a, int b) { return Math.max(a, b); }
    },
    MINIMUM {
        public double apply(double a, double b) { return Math.min(a, b); }
        public int applyInt(int a, int b) { return Math.min(a, b); }
    },
    /**
     * {@code a > 0 ? b : 0}: relu's gradient {@code b} where its input {@code a} is positive, in one pass (TF's
     * ReluGrad): as a product with a 0/1 step it took two passes, and an infinite or NaN gradient times the step's
     * 0 gave NaN where relu is flat.
     */
    RELU_GRADIENT {
        public double apply(double a, double b) { return a > 0 ? b : 0.0; }
        public int applyInt(int a, int b) { return a > 0 ? b : 0; }
    },
    EQ {
        public double apply(double a, double b) { return a == b ? 1 : 0; }
        public int applyInt(int a, int b) { return a == b ? 1 : 0; }
    },
    NE {
        public double apply(double a, double b) { return a != b ? 1 : 0; }
        public int applyInt(int a, int b) { return a != b ? 1 : 0; }
    },
    LT {
        public double apply(double a, double b) { return a < b ? 1 : 0; }
        public int applyInt(int a, int b) { return a < b ? 1 : 0; }
    },
    LE {
        public double apply(double a, double b) { return a <= b ? 1 : 0; }
        public int applyInt(int a, int b) { return a <= b ? 1 : 0; }
    },
    GT {
        public double apply(double a, double b) { return a > b ? 1 : 0; }
        public int applyInt(int a, int b) { return a > b ? 1 : 0; }
    },
    GE {
        public double apply(double a, double b) { return a >= b ? 1 : 0; }
        public int applyInt(int a, int b) { return a >= b ? 1 : 0; }
    };

    /** The definition for FLOAT32 and FLOAT64 (and BOOL comparisons), in double. */
    public abstract double apply(double a, double b);

    /** The definition for INT32: exact, wrapping in two's complement; comparisons give 0 or 1. */
    public abstract int applyInt(int a, int b);

    /** The dtypes this op accepts and the dtype it gives: the one rule core's checks and the kernel lists read. */
    public DTypeRule dtypes() {
        return isComparison() ? DTypeRule.COMPARISON : DTypeRule.NUMERIC;
    }

    /** True for the comparisons, whose result is BOOL. */
    public boolean isComparison() {
        return ordinal() >= EQ.ordinal();
    }
}
