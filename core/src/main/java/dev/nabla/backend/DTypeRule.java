package dev.nabla.backend;

import dev.nabla.DType;
import java.util.EnumSet;
import java.util.Set;

/**
 * Which input dtypes an element-wise primitive accepts, and the dtype of its result: declared once on each
 * {@link UnaryOp} and {@link BinaryOp} constant, so core's checks, the backends' kernel lists and the tests' op-table
 * defaults all read the same rule (JAX's {@code standard_unop(_float, 'exp')}, PyTorch OpInfo's {@code dtypes=}).
 *
 * <pre>{@code
 * DTypeRule rule = UnaryOp.EXP.dtypes();
 * boolean ok = rule.accepts(DType.INT32);        // false: exp is for floating dtypes
 * DType out = rule.result(DType.FLOAT32);        // FLOAT32
 * }</pre>
 */
public enum DTypeRule {
    /** FLOAT32 and FLOAT64 only (exp, log, sqrt...); the result keeps the dtype. */
    FLOATING(EnumSet.of(DType.FLOAT32, DType.FLOAT64), false),
    /** Every dtype but BOOL (neg, abs, add, mul...); the result keeps the dtype. */
    NUMERIC(EnumSet.of(DType.FLOAT32, DType.FLOAT64, DType.INT32), false),
    /** BOOL only (logical not); the result is BOOL. */
    LOGICAL(EnumSet.of(DType.BOOL), false),
    /** Every dtype (comparisons); the result is BOOL. */
    COMPARISON(EnumSet.allOf(DType.class), true);

    private final Set<DType> accepted;
    private final boolean boolResult;

    DTypeRule(Set<DType> accepted, boolean boolResult) {
        this.accepted = java.util.Collections.unmodifiableSet(accepted);
        this.boolResult = boolResult;
    }

    /** The input dtypes accepted. */
    public Set<DType> accepted() {
        return accepted;
    }

    /** True when inputs of {@code t} are accepted. */
    public boolean accepts(DType t) {
        return accepted.contains(t);
    }

    /** The result dtype for inputs of {@code t}. */
    public DType result(DType t) {
        return boolResult ? DType.BOOL : t;
    }
}
