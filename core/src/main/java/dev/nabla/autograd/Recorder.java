package dev.nabla.autograd;

import dev.nabla.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * The per-thread stack of recording tapes. Ops call {@link #record} after computing their output; the op is added
 * to every active tape that watches one of its inputs, and, with {@code Nabla.checkNumerics} on, the output is checked
 * for NaN and infinities.
 */
public final class Recorder {
    private static final ThreadLocal<List<Tape>> ACTIVE = ThreadLocal.withInitial(ArrayList::new);

    private Recorder() {
    }

    static void push(Tape tape) {
        ACTIVE.get().add(tape);
    }

    static void remove(Tape tape) {
        ACTIVE.get().remove(tape);
    }

    /** The tapes active on this thread now (recording or paused), oldest first. */
    public static List<Tape> activeTapes() {
        List<Tape> tapes = ACTIVE.get();
        return tapes.isEmpty() ? List.of() : List.copyOf(tapes);
    }

    /** True when some tape on this thread is recording (not paused). */
    public static boolean isRecording() {
        for (Tape t : ACTIVE.get()) {
            if (t.isRecording()) {
                return true;
            }
        }
        return false;
    }

    /** Runs {@code body} with every tape on this thread paused. */
    public static <T> T withoutRecording(java.util.function.Supplier<T> body) {
        List<Tape> tapes = List.copyOf(ACTIVE.get());
        for (Tape t : tapes) {
            t.pause(+1);
        }
        try {
            return body.get();
        } finally {
            for (Tape t : tapes) {
                t.pause(-1);
            }
        }
    }

    /**
     * Records an op whose gradient rule reads its inputs' values (their versions are checked at backward time).
     */
    public static void record(String op, Tensor[] inputs, Tensor output, Vjp vjp) {
        record(op, inputs, output, vjp, true, null);
    }

    /**
     * Like {@link #record}, and gives the tapes that recorded the op (none when no recording tape watches an input):
     * a traced call's node that holds saved intermediates frees them when the last of these tapes is released.
     */
    public static List<Tape> recordOn(String op, Tensor[] inputs, Tensor output, Vjp vjp) {
        List<Tape> recordedBy = new ArrayList<>(1);
        record(op, inputs, output, vjp, true, recordedBy);
        return recordedBy;
    }

    /**
     * How many tapes on this thread record now and watch (or, watching accessed Variables, would watch) one of
     * {@code inputs}; {@code watched[j]} is set when one of them watches {@code inputs[j]}. Changes no tape.
     */
    public static int watchers(Tensor[] inputs, boolean[] watched) {
        int n = 0;
        for (Tape tape : ACTIVE.get()) {
            if (!tape.isRecording()) {
                continue;
            }
            boolean any = false;
            for (int j = 0; j < inputs.length; j++) {
                if (tape.wouldWatch(inputs[j])) {
                    watched[j] = true;
                    any = true;
                }
            }
            n += any ? 1 : 0;
        }
        return n;
    }

    /** Records an op whose gradient rule does not read its inputs' values (sum, add, reshape...). */
    public static void recordLinear(String op, Tensor[] inputs, Tensor output, Vjp vjp) {
        record(op, inputs, output, vjp, false, null);
    }

    /**
     * NOTE: every op that computes a floating output calls this (through {@link #record} or {@link #recordLinear}),
     * recorded or not, so it is where {@code Nabla.checkNumerics} looks at outputs: when checking is off this costs
     * one read of a volatile boolean (see {@link NumericsCheck}). Ops must therefore call it for floating outputs even
     * when no gradient flows (a forward inside {@code customGradient}, a paused tape).
     */
    private static void record(String op, Tensor[] inputs, Tensor output, Vjp vjp, boolean savesInputs,
            List<Tape> recordedBy) {
        boolean checking = NumericsCheck.enabled();
        if (checking) {
            NumericsCheck.check(op, inputs, output);
        }
        List<Tape> tapes = ACTIVE.get();
        if (tapes.isEmpty() || !output.dtype().isFloating()) {
            return;
        }
        Node node = null;
        for (int i = 0, n = tapes.size(); i < n; i++) {
            Tape tape = tapes.get(i);
            if (tape.isRecording() && tape.watchesAny(inputs)) {
                if (node == null) {
                    node = new Node(op, inputs, output, vjp, savesInputs,
                            checking ? NumericsCheck.userFrame() : null);
                }
                tape.add(node);
                if (recordedBy != null) {
                    recordedBy.add(tape);
                }
            }
        }
    }
}
