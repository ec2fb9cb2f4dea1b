package dev.nabla.backend;

import dev.nabla.DType;
import java.lang.ref.Cleaner;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A buffer shared by the tensors that view it (a reshape shares its source's storage). Each tensor holds one
 * reference and gives it back on {@code close()} or, as a backstop, when the garbage collector finds the tensor
 * unreachable; the last reference releases the buffer to its backend.
 *
 * <p>The buffer's values may be {@linkplain #defer deferred}: computed the first time {@link #buffer()} is called
 * (the one way to read or write them), so that an element-wise chain can run as one pass (see
 * {@code dev.nabla.ops.Deferral}). {@link #dtype()} and {@link #size()} never compute.
 *
 * <pre>{@code
 * Storage s = new Storage(backend, backend.allocate(DType.FLOAT32, 6));
 * Cleaner.Cleanable ref = s.acquire(holder);   // one reference per tensor viewing it
 * ref.clean();                                 // the last one releases the buffer
 * }</pre>
 */
public final class Storage {
    private static final Cleaner CLEANER = Cleaner.create();
    private final Backend backend;
    private final Buffer buffer;
    private final AtomicInteger refs = new AtomicInteger();
    /** The computation that writes the buffer's values when first read, or null once they are there. */
    private volatile Deferred deferred;
    private volatile boolean writtenInPlace;

    /**
     * The computation of a deferred buffer's values. It holds references to the storages it reads, so that they stay
     * unchanged and alive until it has run or is dropped.
     *
     * <pre>{@code
     * Storage out = new Storage(backend, backend.allocate(DType.FLOAT32, n));
     * out.defer(new Storage.Deferred() {
     *     public void computeInto(Buffer b) { backend.unary(UnaryOp.EXP, x.buffer(), b); }
     *     public void release() { xRef.clean(); }      // the reference taken on x's storage
     * });
     * out.buffer();                                    // runs computeInto, then release
     * }</pre>
     */
    public interface Deferred {
        /** Writes the values into {@code out}, the storage's own buffer. */
        void computeInto(Buffer out);

        /** Gives back the references to what it reads; called once, after {@link #computeInto} or instead of it. */
        void release();
    }

    /** Wraps a freshly allocated buffer that no one else references. */
    public Storage(Backend backend, Buffer buffer) {
        this.backend = backend;
        this.buffer = buffer;
    }

    /** The backend that owns the buffer. */
    public Backend backend() {
        return backend;
    }

    /** The buffer, its values computed first if they were deferred: call it to read or write the values. */
    public Buffer buffer() {
        if (deferred != null) {
            materialize();
        }
        return buffer;
    }

    /** The buffer's dtype (computes nothing). */
    public DType dtype() {
        return buffer.dtype();
    }

    /** The buffer's number of elements (computes nothing). */
    public long size() {
        return buffer.size();
    }

    /**
     * Defers the values of this fresh storage to {@code d}, which runs when the buffer is first asked for; called
     * before the storage is shared.
     */
    public void defer(Deferred d) {
        deferred = d;
    }

    /** The pending computation of the values, or null when they are in the buffer. */
    public Deferred deferred() {
        return deferred;
    }

    /**
     * Marks the buffer as written in place after creation (a Variable's, an optimizer slot's): a deferred computation
     * must not read it later, since its values would have changed by then.
     */
    public void markWrittenInPlace() {
        writtenInPlace = true;
    }

    /** True after {@link #markWrittenInPlace()}. */
    public boolean isWrittenInPlace() {
        return writtenInPlace;
    }

    private synchronized void materialize() {
        Deferred d = deferred;
        if (d != null) {
            d.computeInto(buffer);
            deferred = null;
            d.release();
        }
    }

    /**
     * Takes a reference on behalf of {@code holder}: the reference is returned when the returned cleanable runs,
     * either explicitly or once {@code holder} becomes unreachable.
     */
    public Cleaner.Cleanable acquire(Object holder) {
        if (!buffer.requiresRelease()) {
            return NOTHING_TO_RELEASE;
        }
        refs.incrementAndGet();
        return CLEANER.register(holder, new Release(this));
    }

    private static final Cleaner.Cleanable NOTHING_TO_RELEASE = () -> { };

    private void releaseOne() {
        if (refs.decrementAndGet() == 0) {
            Deferred d;
            synchronized (this) {
                d = deferred;
                deferred = null;
            }
            if (d != null) {
                d.release();
            }
            buffer.release();
        }
    }

    /** The cleaning action; it must not reference the holder, or the holder would never become unreachable. */
    private record Release(Storage storage) implements Runnable {
        @Override
        public void run() {
            storage.releaseOne();
        }
    }
}
