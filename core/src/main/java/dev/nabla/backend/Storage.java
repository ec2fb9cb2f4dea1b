package dev.nabla.backend;

import java.lang.ref.Cleaner;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A buffer shared by the tensors that view it (a reshape shares its source's storage). Each tensor holds one
 * reference and gives it back on {@code close()} or, as a backstop, when the garbage collector finds the tensor
 * unreachable; the last reference releases the buffer to its backend.
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

    /** Wraps a freshly allocated buffer that no one else references. */
    public Storage(Backend backend, Buffer buffer) {
        this.backend = backend;
        this.buffer = buffer;
    }

    /** The backend that owns the buffer. */
    public Backend backend() {
        return backend;
    }

    /** The buffer. */
    public Buffer buffer() {
        return buffer;
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
