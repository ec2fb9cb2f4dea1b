package dev.nabla.backend;

import dev.nabla.DType;
import java.lang.ref.Cleaner;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * A buffer shared by the tensors that view it (a reshape shares its source's storage). Each tensor holds one
 * reference and gives it back on {@code close()} or, as a backstop, when the garbage collector finds the tensor
 * unreachable; the last reference releases the buffer to its backend.
 *
 * <p>The buffer may be {@linkplain Deferred deferred}: allocated and computed the first time {@link #buffer()} is
 * called (the one way to read or write the values), so that an element-wise chain can run as one pass (see
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
    private final DType dtype;
    private final long size;
    /** Where a deferred storage was made, while allocations are tracked: its buffer is recorded there. */
    private String[] site;
    /** Null while the values are deferred: allocated when first asked for. */
    private volatile Buffer buffer;
    private final AtomicInteger refs = new AtomicInteger();
    /** The computation that allocates and writes the buffer when first asked for, or null once it is there. */
    private volatile Deferred deferred;
    private volatile boolean writtenInPlace;

    /**
     * The computation of a deferred buffer's values. It holds references to the storages it reads, so that they stay
     * unchanged and alive until it has run or is dropped.
     *
     * <pre>{@code
     * Storage out = new Storage(backend, DType.FLOAT32, n, new Storage.Deferred() {
     *     public void computeInto(Buffer b) { backend.unary(UnaryOp.EXP, x.buffer(), b); }
     *     public void release() { xRef.clean(); }      // the reference taken on x's storage
     * });
     * out.buffer();                                    // allocates, runs computeInto, then release
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
        this.dtype = buffer.dtype();
        this.size = buffer.size();
    }

    /**
     * A storage whose buffer ({@code dtype}, {@code size} elements, which the backend must be able to allocate) is
     * allocated and written by {@code d} when first asked for.
     */
    public Storage(Backend backend, DType dtype, long size, Deferred d) {
        this.backend = backend;
        this.dtype = dtype;
        this.size = size;
        this.deferred = d;
        this.site = AllocationTracker.siteNow();
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
        return dtype;
    }

    /** The buffer's number of elements (computes nothing). */
    public long size() {
        return size;
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

    private void materialize() {
        materializeWith(null);
    }

    /**
     * Computes deferred values now through {@code compute}, which must write exactly the values the deferred
     * computation would (in a pass that also does other work: a sum of them); null runs the deferred computation.
     * Returns false, running nothing, when the values are computed already.
     */
    public synchronized boolean materializeWith(Consumer<Buffer> compute) {
        Deferred d = deferred;
        if (d == null) {
            return false;
        }
        Buffer b = AllocationTracker.allocateAt(site, backend, dtype, size);
        try {
            if (compute == null) {
                d.computeInto(b);
            } else {
                compute.accept(b);
            }
        } catch (RuntimeException | Error e) {
            b.release();
            throw e;
        }
        buffer = b;
        deferred = null;
        site = null;
        d.release();
        return true;
    }

    /**
     * Takes a reference on behalf of {@code holder}: the reference is returned when the returned cleanable runs,
     * either explicitly or once {@code holder} becomes unreachable.
     */
    public Cleaner.Cleanable acquire(Object holder) {
        Buffer b = buffer;
        if (b != null && !b.requiresRelease()) {   // a deferred buffer counts its references: it may need them
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
            Buffer b = buffer;
            if (b != null && b.requiresRelease()) {
                b.release();
            }
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
