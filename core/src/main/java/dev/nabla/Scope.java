package dev.nabla;

import dev.nabla.autograd.Recorder;
import dev.nabla.autograd.Tape;
import dev.nabla.autograd.TapeListener;
import dev.nabla.internal.TensorAccess;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A memory scope: closing it closes every tensor created on its thread since it was opened, except the ones passed
 * to {@link #keep} and {@link Variable}s, so that a training step hands its intermediates back to the device's pool
 * the moment it ends instead of whenever the garbage collector finds them.
 *
 * <pre>{@code
 * for (Batch b : loader) {
 *     try (Scope step = Nabla.scope()) {
 *         Tensor loss = opt.minimize(() -> lossOf(model, b), model.parameters());
 *         losses.add(step.keep(loss).item());       // everything else made in the step is freed here
 *     }
 * }
 * }</pre>
 *
 * <p>Scopes nest: a kept tensor belongs to the enclosing scope, which closes it in turn unless kept again; at the
 * outermost scope a kept tensor is owned by no scope (freed by {@link Tensor#close()} or the garbage collector).
 * Tensors made on other threads are never touched. A scope is closed on the thread that opened it; closing one that
 * still has open inner scopes closes those first.
 *
 * <p><b>Tapes.</b> A tensor a live {@link GradientTape} may still need (a recorded op's input or output, or anything
 * created while the tape recorded, which a gradient rule may have saved) is not closed while the tape lives: it is
 * closed when the tape releases its records (after its one {@code gradient} call for a non-persistent tape, at
 * {@link GradientTape#release()} for a persistent one), or freed by the garbage collector with the tape. So a scope
 * around a layer's forward pass inside a training tape frees the layer's intermediates as soon as the gradient was
 * taken.
 */
public final class Scope implements AutoCloseable {
    private static final ThreadLocal<Scope> CURRENT = new ThreadLocal<>();
    /** Scopes open on any thread: while zero, a new tensor does not look up its thread's scope. */
    private static final AtomicInteger OPEN = new AtomicInteger();

    static {
        TapeListener.install(Scope::tapeOpened);
    }

    private final Scope parent;
    private final Thread thread;
    private final List<Tensor> tensors = new ArrayList<>();
    /** Tapes that recorded (or could have) while this scope was open. */
    private final List<Tape> tapes = new ArrayList<>();
    private boolean closed;

    Scope() {
        this.thread = Thread.currentThread();
        this.parent = CURRENT.get();
        tapes.addAll(Recorder.activeTapes());
        CURRENT.set(this);
        OPEN.incrementAndGet();
    }

    /** The scope a new tensor belongs to (null when none is open on this thread, or for a Variable). */
    static Scope adopt(Tensor t) {
        if (OPEN.get() == 0 || t instanceof Variable) {
            return null;
        }
        Scope s = CURRENT.get();
        if (s != null) {
            s.tensors.add(t);
        }
        return s;
    }

    private static void tapeOpened(Tape tape) {
        if (OPEN.get() == 0) {
            return;
        }
        Scope s = CURRENT.get();
        if (s != null) {
            s.tapes.add(tape);
        }
    }

    /** Removes {@code t} from every scope (internal: optimizer slots and other state made lazily). */
    static void detach(Tensor t) {
        t.scope = null;
    }

    /**
     * Lets {@code t} outlive this scope: it belongs to the enclosing scope, if any, from now on. Returns {@code t}.
     * A tensor this scope does not own (made before it, kept by an inner scope already, or a {@link Variable}) is
     * returned unchanged.
     *
     * @throws IllegalStateException after {@link #close()} or on another thread
     */
    public <T extends Tensor> T keep(T t) {
        if (t == null) {
            throw new NullPointerException("Scope.keep: argument t is null");
        }
        if (closed) {
            throw new IllegalStateException("Scope.keep: the scope was closed");
        }
        checkThread("keep");
        if (t.scope == this) {
            t.scope = parent;
            if (parent != null) {
                parent.tensors.add(t);
            }
        }
        return t;
    }

    /** True after {@link #close()}. */
    public boolean isClosed() {
        return closed;
    }

    /**
     * Closes every tensor created on this thread since the scope opened, except kept ones and Variables; storage a
     * live tape still needs stays alive until the tape releases it (see the class comment). Idempotent.
     *
     * @throws IllegalStateException on a thread other than the one that opened the scope
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        checkThread("close");
        // inner scopes left open (a missing close) end with this one
        Scope inner = CURRENT.get();
        while (inner != null && inner != this) {
            Scope next = inner.parent;
            inner.close();
            inner = next;
        }
        closed = true;
        CURRENT.set(parent);
        OPEN.decrementAndGet();
        List<Tape> live = new ArrayList<>();
        for (Tape tape : tapes) {
            if (!tape.isReleased()) {
                if (parent != null) {
                    parent.tapes.add(tape);
                }
                if (tape.hasNodes()) {
                    live.add(tape);
                }
            }
        }
        if (live.isEmpty()) {
            for (Tensor t : tensors) {
                if (t.scope == this) {
                    t.close();
                }
            }
        } else {
            closeAroundTapes(live);
        }
        tensors.clear();
        tapes.clear();
    }

    /** Closes what no live tape may need; the rest is closed when the last of those tapes releases its records. */
    private void closeAroundTapes(List<Tape> live) {
        long firstSerial = Long.MAX_VALUE;
        for (Tape tape : live) {
            firstSerial = Math.min(firstSerial, tape.startSerial());
        }
        Set<Tensor> saved = null;   // the tapes' recorded inputs and outputs, gathered only if needed
        List<Tensor> pinned = new ArrayList<>();
        for (Tensor t : tensors) {
            if (t.scope != this) {
                continue;
            }
            boolean needed = TensorAccess.serial(t) > firstSerial;
            if (!needed) {
                if (saved == null) {
                    saved = Collections.newSetFromMap(new IdentityHashMap<>());
                    for (Tape tape : live) {
                        tape.forEachSaved(saved::add);
                    }
                }
                needed = saved.contains(t);
            }
            if (needed) {
                pinned.add(t);
            } else {
                t.close();
            }
        }
        if (!pinned.isEmpty()) {
            Deferred d = new Deferred(pinned, live.size());
            for (Tape tape : live) {
                tape.onRelease(d::unpin);
            }
        }
    }

    private void checkThread(String op) {
        if (Thread.currentThread() != thread) {
            throw new IllegalStateException("Scope." + op + ": a scope belongs to the thread that opened it ("
                    + thread.getName() + "), not " + Thread.currentThread().getName());
        }
    }

    /** Tensors a scope left open for tapes; closed when the last of those tapes is released. */
    private static final class Deferred {
        private final List<Tensor> tensors;
        private int pins;

        Deferred(List<Tensor> tensors, int pins) {
            this.tensors = tensors;
            this.pins = pins;
        }

        synchronized void unpin() {
            if (--pins == 0) {
                for (Tensor t : tensors) {
                    t.close();
                }
                tensors.clear();
            }
        }
    }
}
