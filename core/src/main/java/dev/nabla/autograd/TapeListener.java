package dev.nabla.autograd;

import java.util.function.Consumer;

/**
 * Tells memory scopes ({@code dev.nabla.Scope}) about tapes created while one is open, so that a scope does not close
 * tensors a live tape still needs. Installed by {@code Scope}; until then a new tape costs one read.
 */
public final class TapeListener {
    private static volatile Consumer<Tape> listener;

    private TapeListener() {
    }

    /** Installs the listener (once, by {@code Scope}). */
    public static void install(Consumer<Tape> l) {
        listener = l;
    }

    static void opened(Tape tape) {
        Consumer<Tape> l = listener;
        if (l != null) {
            l.accept(tape);
        }
    }
}
