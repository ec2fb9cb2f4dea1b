package dev.nabla.cpu;

import dev.nabla.DType;
import dev.nabla.backend.AllocationTracker;
import dev.nabla.backend.Buffer;

/**
 * A CPU buffer: a Java array of the dtype's element type (BOOL as {@code byte[]} of 0/1). The array may be longer
 * than {@link #size()} when it came from the pool; kernels use {@code size()}, never {@code array.length}.
 */
final class CpuBuffer implements Buffer {
    private final DType dtype;
    private final int size;
    private final BufferPool pool;
    /** The buffer whose array this one views (a prefix, {@link #prefixOf}), or null when it owns its array. */
    private final CpuBuffer owner;
    private Object array;
    /** Its allocation site while tracking is on, else null. */
    private AllocationTracker.Entry tracked;

    CpuBuffer(DType dtype, int size, Object array, BufferPool pool) {
        this(dtype, size, array, pool, null);
    }

    private CpuBuffer(DType dtype, int size, Object array, BufferPool pool, CpuBuffer owner) {
        this.dtype = dtype;
        this.size = size;
        this.array = array;
        this.pool = pool;
        this.owner = owner;
    }

    /** The first {@code size} elements of {@code owner}'s array, which stays {@code owner}'s to release. */
    static CpuBuffer prefixOf(CpuBuffer owner, int size) {
        if (size < 0 || size > owner.size) {
            throw new IllegalArgumentException("cpu: a prefix of " + size + " elements of a buffer of " + owner.size);
        }
        if (owner.owner != null) {
            return prefixOf(owner.owner, size);
        }
        return new CpuBuffer(owner.dtype, size, owner.live(), owner.pool, owner);
    }

    @Override
    public DType dtype() {
        return dtype;
    }

    @Override
    public long size() {
        return size;
    }

    int n() {
        return size;
    }

    float[] floats() {
        return (float[]) live();
    }

    double[] doubles() {
        return (double[]) live();
    }

    int[] ints() {
        return (int[]) live();
    }

    byte[] bools() {
        return (byte[]) live();
    }

    /** The pool this buffer's array returns to; kernels borrow scratch arrays from it. */
    BufferPool pool() {
        return pool;
    }

    Object live() {
        Object a = array;
        if (a == null || owner != null && owner.array == null) {
            throw new IllegalStateException("CPU buffer used after release");
        }
        return a;
    }

    /** Element i as a double, whatever the dtype (the generic, scalar path). */
    double get(int i) {
        return switch (dtype) {
            case FLOAT32 -> ((float[]) array)[i];
            case FLOAT64 -> ((double[]) array)[i];
            case INT32 -> ((int[]) array)[i];
            case BOOL -> ((byte[]) array)[i];
        };
    }

    /** Stores v converted to the dtype: INT32 truncates toward zero, BOOL is v != 0. */
    void set(int i, double v) {
        switch (dtype) {
            case FLOAT32 -> ((float[]) array)[i] = (float) v;
            case FLOAT64 -> ((double[]) array)[i] = v;
            case INT32 -> ((int[]) array)[i] = (int) v;
            case BOOL -> ((byte[]) array)[i] = (byte) (v != 0 ? 1 : 0);
        }
    }

    void track(AllocationTracker.Entry entry) {
        tracked = entry;
    }

    /**
     * Only pooled arrays need an explicit release (the garbage collector reclaims the small ones by itself), and a
     * prefix never does.
     */
    @Override
    public boolean requiresRelease() {
        return owner == null && BufferPool.pooled((long) size * dtype.byteSize());
    }

    @Override
    public void release() {
        if (owner != null) {
            return;
        }
        Object a = array;
        array = null;
        if (a != null) {
            pool.give(dtype, a);
            AllocationTracker.Entry t = tracked;
            if (t != null) {
                t.release();
            }
        }
    }
}
