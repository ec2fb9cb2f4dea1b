package dev.nabla.optim;

import dev.nabla.GradientTape;
import dev.nabla.Nabla;
import dev.nabla.Scope;
import dev.nabla.Tensor;
import dev.nabla.Variable;
import dev.nabla.ops.Checks;
import java.util.List;
import java.util.function.Supplier;

/**
 * Updates variables from gradients, as a Keras optimizer.
 *
 * <pre>{@code
 * Variable x = Variable.of(3.0f);
 * Optimizer opt = new SGD(0.1);
 * for (int epoch = 0; epoch < 30; epoch++) {
 *     Tensor loss = opt.minimize(() -> x.mul(x).add(x).sub(1), List.of(x));   // x^2 + x - 1
 * }
 * }</pre>
 */
public interface Optimizer {
    /** Applies one update; {@code null} gradients are skipped. */
    void applyGradients(List<Tensor> grads, List<Variable> vars);

    /**
     * Records {@code loss} on a new tape, applies its gradients to {@code vars}, and returns the loss. It all runs in
     * a memory {@link Scope} that keeps only the returned loss: every other tensor made on this thread during the
     * step (the loss function's intermediates, the gradients) is closed when it returns, so keep nothing else the
     * loss function made (compute metrics from the returned loss, or in a later forward pass).
     */
    default Tensor minimize(Supplier<Tensor> loss, List<Variable> vars) {
        Checks.notNull("minimize", "loss", loss);
        Checks.open("minimize", "vars", vars);
        try (Scope scope = Nabla.scope()) {
            Tensor value;
            GradientTape tape = new GradientTape();
            try {
                value = Checks.returned("minimize", "the loss function", loss.get());
            } finally {
                tape.close(); // stop recording: the gradient computation itself is not part of the step
            }
            applyGradients(tape.gradient(value, vars), vars);
            // computed now: a loss still deferred (ops.Deferral) would hold the step's buffers it reads past its end
            return scope.keep(value.evaluate());
        }
    }

    /** Number of updates applied so far. */
    long iterations();
}
