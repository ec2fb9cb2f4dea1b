package dev.nabla.backend;

import dev.nabla.DType;

/**
 * Memory owned by one backend, holding {@link #size()} elements of one {@link DType}. A buffer has one owner at a
 * time (a tensor's storage); {@link #release()} hands it back to the backend, which may reuse it.
 *
 * <pre>{@code
 * Buffer b = backend.allocate(DType.FLOAT32, 1024);
 * long n = b.size();      // 1024
 * b.release();            // back to the backend's pool
 * }</pre>
 */
public interface Buffer {
    /** The element type. */
    DType dtype();

    /** Number of elements. */
    long size();

    /**
     * False when the garbage collector alone reclaims this buffer's memory and {@link #release()} does nothing
     * useful (small heap arrays): tensors viewing it then skip the {@link java.lang.ref.Cleaner} registration, the
     * largest fixed cost of a small op.
     */
    default boolean requiresRelease() {
        return true;
    }

    /** Returns the memory to the backend (its pool or allocator); the buffer must not be used afterwards. */
    void release();
}
