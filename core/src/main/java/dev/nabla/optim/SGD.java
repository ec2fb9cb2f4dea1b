package dev.nabla.optim;

import dev.nabla.GradientTape;
import dev.nabla.Tensor;
import dev.nabla.Variable;
import java.util.List;

/**
 * Plain gradient descent, {@code v -= learningRate * g} (momentum, Nesterov and weight decay arrive with the training
 * work).
 *
 * <pre>{@code
 * Optimizer opt = new SGD(0.1);
 * opt.applyGradients(List.of(grad), List.of(variable));
 * }</pre>
 */
public final class SGD implements Optimizer {
    private final double learningRate;
    private long iterations;

    /** Gradient descent with a fixed learning rate. */
    public SGD(double learningRate) {
        if (!(learningRate >= 0)) {
            throw new IllegalArgumentException("SGD: learning rate must be >= 0, got " + learningRate);
        }
        this.learningRate = learningRate;
    }

    /** The learning rate. */
    public double learningRate() {
        return learningRate;
    }

    @Override
    public void applyGradients(List<Tensor> grads, List<Variable> vars) {
        if (grads.size() != vars.size()) {
            throw new IllegalArgumentException("applyGradients: " + grads.size() + " gradients for " + vars.size()
                    + " variables");
        }
        for (int i = 0; i < vars.size(); i++) {
            Tensor g = grads.get(i);
            Variable v = vars.get(i);
            if (g != null && !g.shape().equals(v.shape())) {
                throw new IllegalArgumentException("applyGradients: gradient " + g.shape() + " does not match"
                        + " variable '" + v.name() + "' " + v.shape());
            }
        }
        GradientTape.withoutRecording(() -> {
            for (int i = 0; i < vars.size(); i++) {
                Tensor g = grads.get(i);
                if (g != null) {
                    try (Tensor step = g.mul(learningRate)) {
                        vars.get(i).assignSub(step);
                    }
                }
            }
            return null;
        });
        iterations++;
    }

    @Override
    public long iterations() {
        return iterations;
    }
}
