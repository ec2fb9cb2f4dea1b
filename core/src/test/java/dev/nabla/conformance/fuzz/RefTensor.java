package dev.nabla.conformance.fuzz;

import dev.nabla.DType;

/**
 * A value of the reference interpreter: a shape, a dtype, the expected element values {@code v} (computed in
 * float64 and rounded to the dtype after every op) and, per element, a bound {@code e} on how far a correct
 * implementation may be from {@code v}.
 *
 * <p>{@code e == 0}: the element must match exactly (NaN matches NaN, infinities and, in forward values, the sign
 * of zero too). {@code 0 < e < inf}: {@code |actual - v| <= e}. {@code e == inf}: the element is not compared
 * (its value depends on rounding differences a correct implementation may have, e.g. a comparison of two values
 * whose error intervals overlap).
 */
final class RefTensor {
    final long[] shape;
    final DType dtype;
    final double[] v;
    final double[] e;
    /** On a recorded path from a gradient source (the reference's tape watches it). */
    boolean tracked;

    RefTensor(long[] shape, DType dtype, double[] v, double[] e) {
        if (v.length != Reference.size(shape) || e.length != v.length) {
            throw new IllegalStateException("reference bug: " + v.length + " values for " + Program.fmt(shape));
        }
        this.shape = shape;
        this.dtype = dtype;
        this.v = v;
        this.e = e;
    }

    int size() {
        return v.length;
    }

    int rank() {
        return shape.length;
    }

    boolean floating() {
        return dtype == DType.FLOAT32 || dtype == DType.FLOAT64;
    }

    @Override
    public String toString() {
        return Program.dtypeName(dtype) + " " + Program.fmt(shape) + " " + Program.values(dtype, v, 16);
    }
}
