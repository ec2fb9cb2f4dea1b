package dev.nabla.internal;

import dev.nabla.Shape;
import dev.nabla.Tensor;
import dev.nabla.Variable;
import dev.nabla.backend.Backend;
import dev.nabla.backend.Buffer;
import dev.nabla.backend.Storage;

/**
 * What ops, the tape and the optimizers need of a tensor that users must not rely on: its storage, its backend,
 * its creation serial, and wrapping storage in a new tensor. The package is not exported by the {@code dev.nabla}
 * module, so these stay out of the public API while code in other packages of core can still reach them.
 *
 * <p>{@link Tensor} installs the implementation from its static initializer (the JDK's "shared secrets" pattern),
 * which is why {@link #access()} first makes sure that class is initialized.
 */
public final class TensorAccess {
    /** The operations {@link Tensor} grants, implemented there with its private fields. */
    public interface Operations {
        /** A new tensor viewing {@code storage} with {@code shape}. */
        Tensor wrap(Storage storage, Shape shape);

        /** The storage, after checking the tensor is open; {@code op} names the caller in the error. */
        Storage storage(Tensor t, String op);

        /** The backend of the tensor's device, closed or not. */
        Backend backend(Tensor t);

        /** The creation serial: increases with each tensor made in this JVM. */
        long serial(Tensor t);

        /** The serial of the most recently created tensor. */
        long lastSerial();

        /** Records that {@code v}'s buffer was written in place by other means than {@code assign*}. */
        void markModified(Variable v);
    }

    private static volatile Operations operations;

    private TensorAccess() {
    }

    /** Called once, by {@link Tensor}'s static initializer. */
    public static void install(Operations ops) {
        if (operations != null) {
            throw new IllegalStateException("TensorAccess is already installed");
        }
        operations = ops;
    }

    private static Operations access() {
        Operations ops = operations;
        if (ops == null) {
            try {
                Class.forName(Tensor.class.getName(), true, Tensor.class.getClassLoader());
            } catch (ClassNotFoundException e) {
                throw new AssertionError(e);
            }
            ops = operations;
        }
        return ops;
    }

    /** A new tensor viewing {@code storage} with {@code shape}. */
    public static Tensor wrap(Storage storage, Shape shape) {
        return access().wrap(storage, shape);
    }

    /** The storage of {@code t}, checked open. @throws IllegalStateException naming {@code op} after close() */
    public static Storage storage(Tensor t, String op) {
        return access().storage(t, op);
    }

    /** The buffer of {@code t}, checked open. */
    public static Buffer buffer(Tensor t, String op) {
        return access().storage(t, op).buffer();
    }

    /** The backend of {@code t}'s device. */
    public static Backend backend(Tensor t) {
        return access().backend(t);
    }

    /** The creation serial of {@code t}. */
    public static long serial(Tensor t) {
        return access().serial(t);
    }

    /**
     * Records that {@code v}'s buffer was written in place by other means than {@code assign*} (a fused optimizer
     * update), so that tapes which saved the old value refuse to use it.
     */
    public static void markModified(Variable v) {
        access().markModified(v);
    }

    /** The serial of the most recently created tensor in this JVM. */
    public static long lastSerial() {
        return access().lastSerial();
    }
}
