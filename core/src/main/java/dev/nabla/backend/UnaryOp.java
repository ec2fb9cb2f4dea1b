package dev.nabla.backend;

/**
 * Element-wise unary primitives. Each constant carries its scalar definitions: {@link #apply(double)} for the
 * floating dtypes (a FLOAT32 result is the double result rounded to float) and, for the ops core allows on INT32,
 * {@link #applyInt(int)}, which wraps in two's complement ({@code -MIN_VALUE == MIN_VALUE}). These are the reference
 * the CPU backend's scalar paths run and the meaning every backend must reproduce bit for bit (see {@link BinaryOp}
 * for why transcendentals are {@link StrictMath}).
 *
 * <pre>{@code
 * double r = UnaryOp.RELU.apply(Double.NEGATIVE_INFINITY);   // +0.0
 * int n = UnaryOp.NEG.applyInt(Integer.MIN_VALUE);             // MIN_VALUE: wraps
 * }</pre>
 */
public enum UnaryOp {
    NEG {
        public double apply(double x) { return -x; }
        public int applyInt(int x) { return -x; }
    },
    ABS {
        public double apply(double x) { return Math.abs(x); }
        public int applyInt(int x) { return Math.abs(x); }
    },
    SIGN {
        public double apply(double x) { return Math.signum(x); }
        public int applyInt(int x) { return Integer.signum(x); }
    },
    EXP { public double apply(double x) { return StrictMath.exp(x); } },
    LOG { public double apply(double x) { return StrictMath.log(x); } },
    SQRT { public double apply(double x) { return Math.sqrt(x); } },
    RSQRT { public double apply(double x) { return 1.0 / Math.sqrt(x); } },
    SQUARE {
        public double apply(double x) { return x * x; }
        public int applyInt(int x) { return x * x; }
    },
    RECIPROCAL { public double apply(double x) { return 1.0 / x; } },
    SIN { public double apply(double x) { return StrictMath.sin(x); } },
    COS { public double apply(double x) { return StrictMath.cos(x); } },
    TANH { public double apply(double x) { return StrictMath.tanh(x); } },
    /** NOTE: written so that neither branch overflows: exp is only taken of a non-positive number. */
    SIGMOID {
        public double apply(double x) {
            if (x >= 0) {
                return 1.0 / (1.0 + StrictMath.exp(-x));
            }
            double e = StrictMath.exp(x);
            return e / (1.0 + e);
        }
    },
    /**
     * {@code max(x, 0)} with NaN propagated and +0 for every non-positive x (-0 and -inf included: the old
     * {@code 0 * x} gave NaN for -inf). NOTE: relu as a primitive rather than maximum(x, 0): maximum's gradient
     * splits at 0, relu's is 0 there.
     */
    RELU {
        public double apply(double x) { return x > 0 || x != x ? x : 0.0; }
        public int applyInt(int x) { return x > 0 ? x : 0; }
    },
    LOGICAL_NOT {
        public double apply(double x) { return x == 0 ? 1.0 : 0.0; }
        public int applyInt(int x) { return x == 0 ? 1 : 0; }
    };

    /** The dtypes this op accepts and the dtype it gives: the one rule core's checks and the kernel lists read. */
    public DTypeRule dtypes() {
        return switch (this) {
            case NEG, ABS, SIGN, SQUARE, RELU -> DTypeRule.NUMERIC;
            case LOGICAL_NOT -> DTypeRule.LOGICAL;
            default -> DTypeRule.FLOATING;
        };
    }

    /** The definition for FLOAT32 and FLOAT64, in double. */
    public abstract double apply(double x);

    /**
     * The definition for INT32 (and BOOL as 0/1): exact, wrapping in two's complement.
     *
     * @throws UnsupportedOperationException for the floating-only ops (exp, log, sqrt...)
     */
    public int applyInt(int x) {
        throw new UnsupportedOperationException(name().toLowerCase(java.util.Locale.ROOT) + " has no INT32 form");
    }
}
