package dev.nabla.ops;

import dev.nabla.Tensor;
import dev.nabla.autograd.NumericsCheck;
import dev.nabla.autograd.Recorder;
import java.util.List;
import java.util.function.Function;

/** {@code Nabla.customGradient}: the forward unrecorded, the user's rule recorded in its place. Not API. */
public final class CustomGradients {
    private CustomGradients() {
    }

    /** The user's gradient function (the shape of {@code Nabla.CustomGradient}). */
    @FunctionalInterface
    public interface Rule {
        /** One gradient per input, or null for none. */
        List<Tensor> apply(List<Tensor> inputs, Tensor output, Tensor outputGradient);
    }

    /** Runs {@code forward} unrecorded and records {@code gradient} as the output's rule. */
    public static Tensor apply(List<Tensor> inputs, Function<List<Tensor>, Tensor> forward, Rule gradient) {
        String op = "customGradient";
        Checks.open(op, "inputs", inputs);
        Checks.notNull(op, "forward", forward);
        Checks.notNull(op, "gradient", gradient);
        Dispatch.Listener tracer = Dispatch.listener();
        int mark = tracer == null ? 0 : tracer.mark();
        Tensor raw = Checks.returned(op, "forward", Recorder.withoutRecording(() -> forward.apply(inputs)));
        // a fresh tensor object, so that a forward returning one of its inputs does not make a cycle on the tape
        // (not stopGradient, whose numerics check would name itself instead of customGradient)
        Tensor out = Shapes.alias(raw, op);
        Tensor[] in = inputs.toArray(new Tensor[0]);
        record(in, out, gradient);
        if (tracer != null) {
            tracer.customGradient(mark, in, out, (replayIn, replayOut) -> record(replayIn, replayOut, gradient));
        }
        return out;
    }

    /** Records {@code out = custom(in)} with the user's rule on the active tapes. */
    public static void record(Tensor[] in, Tensor out, Rule gradient) {
        String op = "customGradient";
        List<Tensor> inputs = List.of(in);
        Recorder.record(op, in, out, (g, needed) -> {
            List<Tensor> grads = Checks.returned(op, "gradient", gradient.apply(inputs, out, g));
            if (grads.size() != in.length) {
                throw new IllegalArgumentException(op + ": the gradient function returned " + grads.size()
                        + " gradients for " + in.length + " inputs");
            }
            for (int i = 0; i < in.length; i++) {
                Tensor gi = grads.get(i);
                // a gradient has the shape and dtype of its input; anything else would flow on as a wrong answer
                if (gi != null && (!gi.shape().equals(in[i].shape()) || gi.dtype() != in[i].dtype())) {
                    throw new IllegalArgumentException(op + ": gradient " + i + " is " + gi.shape() + " "
                            + gi.dtype() + ", but input " + i + " is " + in[i].shape() + " " + in[i].dtype());
                }
                // the ops inside the user's function are checked as they run; this catches a NaN it made otherwise
                // (Tensor.full(NaN, ...), host data)
                if (gi != null && NumericsCheck.enabled()) {
                    NumericsCheck.check("customGradient's gradient function (gradient " + i + ")",
                            new Tensor[] {in[i], out, g}, gi);
                }
            }
            return grads.toArray(new Tensor[0]);
        });
    }
}
