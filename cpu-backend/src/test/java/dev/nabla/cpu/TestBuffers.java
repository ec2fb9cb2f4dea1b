package dev.nabla.cpu;

import dev.nabla.DType;

/** CPU buffers made from doubles for the kernel tests, outside any backend. */
final class TestBuffers {
    /**
     * Multiply-adds from which a product test leaves FLOAT64 to FLOAT32: the same code runs both, and in the width-64
     * execution FLOAT64's one-lane vectors run on the Vector API's Java fallback (one such product of
     * {@code GemmCol2imTest} took 20 of its 27 s there).
     */
    static final long FLOAT64_MAX_MULTIPLY_ADDS = 10_000_000;

    private TestBuffers() {
    }

    /**
     * A backend for the kernel tests, on a poisoned pool ({@link BufferPool#poisoned}): scratch a kernel reads without
     * writing it is garbage there, not the zeros of a fresh array.
     */
    static CpuBackend backend() {
        return new CpuBackend(BufferPool.poisoned(1L << 30));
    }

    /** {@code v} as a buffer of {@code t} (FLOAT32: each value rounded), returning to {@code pool}. */
    static CpuBuffer of(BufferPool pool, DType t, double[] v) {
        if (t == DType.FLOAT64) {
            return new CpuBuffer(t, v.length, v.clone(), pool);
        }
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            f[i] = (float) v[i];
        }
        return new CpuBuffer(t, v.length, f, pool);
    }

    /** {@code v} uploaded to {@code backend} as a buffer of {@code t} (FLOAT32: each value rounded). */
    static dev.nabla.backend.Buffer upload(CpuBackend backend, double[] v, DType t) {
        if (t == DType.FLOAT64) {
            return backend.upload(v, t);
        }
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            f[i] = (float) v[i];
        }
        return backend.upload(f, t);
    }

    /** The buffer's values as doubles. */
    static double[] values(CpuBuffer b) {
        double[] v = new double[b.n()];
        for (int i = 0; i < v.length; i++) {
            v[i] = b.get(i);
        }
        return v;
    }
}
