package dev.nabla.backend;

/**
 * Element-wise binary primitives over broadcast strides. Comparisons produce BOOL; the rest keep the operands'
 * dtype. Each constant carries its scalar definition in double.
 */
public enum BinaryOp {
    ADD { public double apply(double a, double b) { return a + b; } },
    SUB { public double apply(double a, double b) { return a - b; } },
    MUL { public double apply(double a, double b) { return a * b; } },
    DIV { public double apply(double a, double b) { return a / b; } },
    POW { public double apply(double a, double b) { return Math.pow(a, b); } },
    /** NOTE: NaN propagates, as in TF and NumPy; Math.max does the same. */
    MAXIMUM { public double apply(double a, double b) { return Math.max(a, b); } },
    MINIMUM { public double apply(double a, double b) { return Math.min(a, b); } },
    EQ { public double apply(double a, double b) { return a == b ? 1 : 0; } },
    NE { public double apply(double a, double b) { return a != b ? 1 : 0; } },
    LT { public double apply(double a, double b) { return a < b ? 1 : 0; } },
    LE { public double apply(double a, double b) { return a <= b ? 1 : 0; } },
    GT { public double apply(double a, double b) { return a > b ? 1 : 0; } },
    GE { public double apply(double a, double b) { return a >= b ? 1 : 0; } };

    /** The scalar definition. */
    public abstract double apply(double a, double b);

    /** True for the comparisons, whose result is BOOL. */
    public boolean isComparison() {
        return ordinal() >= EQ.ordinal();
    }
}
