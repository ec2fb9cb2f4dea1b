package dev.nabla;

import dev.nabla.autograd.Recorder;
import dev.nabla.ops.Checks;
import dev.nabla.ops.Elementwise;
import dev.nabla.ops.Shapes;
import java.util.List;
import java.util.function.Function;

/**
 * Functions of several tensors.
 *
 * <pre>{@code
 * Tensor a = Tensor.of(new float[] {1, 2}), b = Tensor.of(new float[] {3, 4});
 * Tensor ab = Nabla.concat(List.of(a, b), 0);              // [1. 2. 3. 4.]
 * Tensor big = Nabla.where(ab.gt(2), ab, Tensor.scalar(0f)); // [0. 0. 3. 4.]
 * }</pre>
 */
public final class Nabla {
    private Nabla() {
    }

    /** Joins tensors along an existing axis. */
    public static Tensor concat(List<Tensor> ts, int axis) {
        return Shapes.concat(ts, axis);
    }

    /** Joins equal-shaped tensors along a new axis. */
    public static Tensor stack(List<Tensor> ts, int axis) {
        return Shapes.stack(ts, axis);
    }

    /** {@code cond ? a : b} element-wise with broadcasting; {@code cond} is BOOL. */
    public static Tensor where(Tensor cond, Tensor a, Tensor b) {
        return Elementwise.select(cond, a, b);
    }

    /**
     * TF's {@code tf.custom_gradient}: {@code forward} runs unrecorded; on backward, {@code gradient} receives the
     * inputs, the output and the output's gradient and returns one gradient per input ({@code null} for none).
     *
     * <pre>{@code
     * // log(1 + e^x) with the stable gradient sigmoid(x)
     * Tensor y = Nabla.customGradient(List.of(x),
     *     in -> in.get(0).exp().add(1).log(),
     *     (in, out, g) -> List.of(g.mul(in.get(0).sigmoid())));
     * }</pre>
     */
    public static Tensor customGradient(List<Tensor> inputs, Function<List<Tensor>, Tensor> forward,
            CustomGradient gradient) {
        String op = "customGradient";
        Checks.open(op, "inputs", inputs);
        Checks.notNull(op, "forward", forward);
        Checks.notNull(op, "gradient", gradient);
        Tensor raw = Checks.returned(op, "forward", Recorder.withoutRecording(() -> forward.apply(inputs)));
        // a fresh tensor object, so that a forward returning one of its inputs does not make a cycle on the tape
        Tensor out = Recorder.withoutRecording(raw::stopGradient);
        Tensor[] in = inputs.toArray(new Tensor[0]);
        Recorder.record("customGradient", in, out, (g, needed) -> {
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
            }
            return grads.toArray(new Tensor[0]);
        });
        return out;
    }

    /** The gradient function of {@link #customGradient}. */
    @FunctionalInterface
    public interface CustomGradient {
        /** One gradient per input, each of that input's shape, or {@code null} for none. */
        List<Tensor> apply(List<Tensor> inputs, Tensor output, Tensor outputGradient);
    }
}
