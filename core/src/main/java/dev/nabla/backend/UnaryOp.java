package dev.nabla.backend;

/**
 * Element-wise unary primitives. Each constant carries its scalar definition in double, which is the reference
 * the CPU backend's generic path uses and the meaning every backend must reproduce.
 */
public enum UnaryOp {
    NEG { public double apply(double x) { return -x; } },
    ABS { public double apply(double x) { return Math.abs(x); } },
    SIGN { public double apply(double x) { return Math.signum(x); } },
    EXP { public double apply(double x) { return Math.exp(x); } },
    LOG { public double apply(double x) { return Math.log(x); } },
    SQRT { public double apply(double x) { return Math.sqrt(x); } },
    RSQRT { public double apply(double x) { return 1.0 / Math.sqrt(x); } },
    SQUARE { public double apply(double x) { return x * x; } },
    RECIPROCAL { public double apply(double x) { return 1.0 / x; } },
    SIN { public double apply(double x) { return Math.sin(x); } },
    COS { public double apply(double x) { return Math.cos(x); } },
    TANH { public double apply(double x) { return Math.tanh(x); } },
    /** NOTE: written so that neither branch overflows: exp is only taken of a non-positive number. */
    SIGMOID {
        public double apply(double x) {
            if (x >= 0) {
                return 1.0 / (1.0 + Math.exp(-x));
            }
            double e = Math.exp(x);
            return e / (1.0 + e);
        }
    },
    /** NOTE: relu as a primitive rather than maximum(x, 0): maximum's gradient splits at 0, relu's is 0 there. */
    RELU { public double apply(double x) { return x > 0 ? x : 0.0 * x; } },
    /** 1 where x is positive, else 0: the mask that relu's gradient multiplies by. */
    STEP { public double apply(double x) { return x > 0 ? 1.0 : 0.0; } },
    LOGICAL_NOT { public double apply(double x) { return x == 0 ? 1.0 : 0.0; } };

    /** The scalar definition. */
    public abstract double apply(double x);
}
