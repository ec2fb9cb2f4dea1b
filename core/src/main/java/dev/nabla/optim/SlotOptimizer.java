package dev.nabla.optim;

import dev.nabla.GradientTape;
import dev.nabla.Tensor;
import dev.nabla.Variable;
import dev.nabla.autograd.NumericsCheck;
import dev.nabla.backend.OptimizerStep;
import dev.nabla.internal.TensorAccess;
import dev.nabla.ops.Checks;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What every Keras-style optimizer shares: the learning-rate schedule, decoupled weight decay, gradient clipping,
 * per-variable slot tensors, the iteration count, and saving and restoring that state. A subclass only says which
 * fused {@link OptimizerStep} an update is and how its slots start.
 *
 * <pre>{@code
 * SlotOptimizer adam = Adam.builder().learningRate(1e-3).clipNorm(1.0).build();
 * adam.applyGradients(grads, vars);
 * Map<String, Tensor> state = adam.state();   // slots and iterations, to checkpoint beside the weights
 * }</pre>
 */
public abstract class SlotOptimizer implements Optimizer {
    private final Options options;
    private final Map<Variable, Tensor[]> slots = new IdentityHashMap<>();
    private final List<Variable> slotOrder = new ArrayList<>();
    private long iterations;

    /** An optimizer with the shared options. */
    protected SlotOptimizer(Options options) {
        this.options = options;
    }

    /** The fused update for one variable at this step, given the scheduled learning rate. */
    protected abstract OptimizerStep step(double learningRate, long iteration);

    /** Names of the slots, in the order {@link OptimizerStep#apply} reads them (e.g. {@code m}, {@code v}). */
    protected abstract List<String> slotNames();

    /** The value every element of slot {@code k} starts with (Adagrad's initial accumulator; else 0). */
    protected double initialSlotValue(int k) {
        return 0;
    }

    /** The shared options. */
    public Options options() {
        return options;
    }

    /** The learning rate the next update will use. */
    public double currentLearningRate() {
        return options.schedule().at(iterations);
    }

    @Override
    public long iterations() {
        return iterations;
    }

    @Override
    public void applyGradients(List<Tensor> grads, List<Variable> vars) {
        String op = "applyGradients";
        Checks.notNull(op, "grads", grads);
        Checks.open(op, "vars", vars);
        if (grads.size() != vars.size()) {
            throw new IllegalArgumentException("applyGradients: " + grads.size() + " gradients for " + vars.size()
                    + " variables");
        }
        for (int i = 0; i < vars.size(); i++) {
            Tensor g = grads.get(i);
            Variable v = vars.get(i);
            if (g != null) {
                TensorAccess.storage(g, op);
            }
            if (g != null && (!g.shape().equals(v.shape()) || g.dtype() != v.dtype() || !g.device().equals(v.device()))) {
                throw new IllegalArgumentException("applyGradients: gradient " + g.shape() + " " + g.dtype() + " on "
                        + g.device() + " does not match variable '" + v.name() + "' " + v.shape() + " " + v.dtype()
                        + " on " + v.device());
            }
        }
        // traced: one graph node that replays this whole update (clipping, schedule, slots, iterations) every call
        Tensor[] traced = grads.toArray(new Tensor[0]);
        dev.nabla.ops.Dispatch.effect(getClass().getSimpleName() + ".applyGradients", traced,
                in -> update(java.util.Arrays.asList(in), vars), () -> update(grads, vars));
    }

    private void update(List<Tensor> grads, List<Variable> vars) {
        GradientTape.withoutRecording(() -> {
            List<Tensor> clipped = GradientClipping.clip(grads, options);
            double lr = options.schedule().at(iterations);
            OptimizerStep step = step(lr, iterations);
            for (int i = 0; i < vars.size(); i++) {
                Tensor g = clipped.get(i);
                if (g != null) {
                    Variable v = vars.get(i);
                    Tensor[] s = slotsFor(v, step.slots());
                    dev.nabla.backend.Buffer[] buffers = new dev.nabla.backend.Buffer[s.length];
                    for (int k = 0; k < s.length; k++) {
                        buffers[k] = TensorAccess.buffer(s[k], "applyGradients");
                    }
                    TensorAccess.backend(v).optimizerStep(step, TensorAccess.buffer(v, "applyGradients"), TensorAccess.buffer(g, "applyGradients"), buffers);
                    TensorAccess.markModified(v);
                    // the fused update writes in place without an op's record call: check it here (its input is
                    // the gradient; the variable's old value is gone)
                    if (NumericsCheck.enabled()) {
                        NumericsCheck.check(getClass().getSimpleName() + " update of '" + v.name() + "'",
                                new Tensor[] {g}, v);
                    }
                }
                if (g != null && g != grads.get(i)) {
                    g.close();
                }
            }
            return null;
        });
        iterations++;
    }

    /**
     * A slot: optimizer state, which no memory scope the first update runs in may close, and which every update
     * writes in place.
     */
    private static Tensor writtenInPlace(Tensor slot) {
        TensorAccess.storage(slot, "applyGradients").markWrittenInPlace();
        return TensorAccess.detach(slot);
    }

    private Tensor[] slotsFor(Variable v, int count) {
        Tensor[] s = slots.get(v);
        if (s == null) {
            s = new Tensor[count];
            for (int k = 0; k < count; k++) {
                s[k] = writtenInPlace(Tensor.full(v.device(), initialSlotValue(k), v.dtype(), v.shape().dims()));
            }
            slots.put(v, s);
            slotOrder.add(v);
        }
        return s;
    }

    /**
     * The optimizer's state: {@code iterations} and, for each variable in the order it was first updated,
     * {@code <index>/<variable name>/<slot name>}. Pass it to {@link #loadState} of an optimizer built the same way,
     * after a first {@link #build} of its slots for the same variables.
     */
    public Map<String, Tensor> state() {
        Map<String, Tensor> state = new LinkedHashMap<>();
        state.put("iterations", Tensor.scalar(dev.nabla.Device.cpu(), (double) iterations));
        List<String> names = slotNames();
        for (int i = 0; i < slotOrder.size(); i++) {
            Variable v = slotOrder.get(i);
            Tensor[] s = slots.get(v);
            for (int k = 0; k < s.length; k++) {
                state.put(i + "/" + v.name() + "/" + names.get(k), s[k]);
            }
        }
        return state;
    }

    /** Creates the slots of {@code vars} now (in this order), so that state can be loaded before the first update. */
    public void build(List<Variable> vars) {
        int count = step(options.schedule().at(iterations), iterations).slots();
        for (Variable v : vars) {
            slotsFor(v, count);
        }
    }

    /**
     * Restores state saved by {@link #state()} into slots created by {@link #build} for the same variables in the
     * same order; checks every name and shape before changing anything.
     */
    public void loadState(Map<String, Tensor> state) {
        Tensor it = state.get("iterations");
        if (it == null) {
            throw new IllegalArgumentException("loadState: no 'iterations' entry");
        }
        Map<String, Tensor> current = state();
        for (Map.Entry<String, Tensor> e : current.entrySet()) {
            Tensor saved = state.get(e.getKey());
            if (saved == null || !saved.shape().equals(e.getValue().shape())) {
                throw new IllegalArgumentException("loadState: entry '" + e.getKey() + "' is "
                        + (saved == null ? "missing" : "of shape " + saved.shape()) + ", expected "
                        + e.getValue().shape());
            }
        }
        if (state.size() != current.size()) {
            throw new IllegalArgumentException("loadState: " + state.size() + " entries for " + current.size()
                    + " in this optimizer");
        }
        for (int i = 0; i < slotOrder.size(); i++) {
            Variable v = slotOrder.get(i);
            Tensor[] s = slots.get(v);
            for (int k = 0; k < s.length; k++) {
                Tensor saved = state.get(i + "/" + v.name() + "/" + slotNames().get(k));
                Tensor value = saved.to(v.device()).to(v.dtype());
                s[k].close();
                s[k] = writtenInPlace(Tensor.zerosLike(value).add(value));
            }
        }
        iterations = (long) it.doubleItem();
    }

    /**
     * Options shared by every algorithm, with Keras' names and meanings.
     *
     * <pre>{@code
     * // built by every algorithm's builder; a subclass reads them through its constructor
     * SGD sgd = SGD.builder().learningRate(0.1).weightDecay(1e-4).globalClipNorm(5).build();
     * }</pre>
     */
    public record Options(LearningRateSchedule schedule, double weightDecay, double clipNorm, double clipValue,
            double globalClipNorm) {
        /** Checks the values; at most one clipping mode may be set, as in Keras. */
        public Options {
            Checks.notNull("optimizer", "schedule", schedule);
            int modes = (clipNorm > 0 ? 1 : 0) + (clipValue > 0 ? 1 : 0) + (globalClipNorm > 0 ? 1 : 0);
            if (modes > 1) {
                throw new IllegalArgumentException("optimizer: set only one of clipNorm, clipValue and "
                        + "globalClipNorm, got " + clipNorm + ", " + clipValue + ", " + globalClipNorm);
            }
            if (weightDecay < 0) {
                throw new IllegalArgumentException("optimizer: weightDecay must be >= 0, got " + weightDecay);
            }
        }
    }

    /**
     * The builder methods every algorithm shares.
     *
     * <pre>{@code
     * Optimizer rms = RMSprop.builder().learningRate(1e-3).clipValue(0.5).build();
     * }</pre>
     */
    @SuppressWarnings("unchecked")
    public abstract static class Builder<B extends Builder<B>> {
        private LearningRateSchedule schedule;
        private double weightDecay;
        private double clipNorm;
        private double clipValue;
        private double globalClipNorm;

        /** A builder whose learning rate defaults to {@code defaultRate} (Keras' default for the algorithm). */
        protected Builder(double defaultRate, double defaultWeightDecay) {
            this.schedule = LearningRateSchedule.constant(defaultRate);
            this.weightDecay = defaultWeightDecay;
        }

        /**
         * The algorithm's name for messages ({@code SGD}, {@code Adam}, {@code AdamW}...): the simple name of the
         * class this builder is nested in.
         */
        protected String algorithm() {
            Class<?> outer = getClass().getEnclosingClass();
            return outer != null ? outer.getSimpleName() : getClass().getSimpleName();
        }

        /** {@code value}, or an IllegalArgumentException naming the algorithm unless it is a finite value >= 0. */
        protected double nonNegative(String name, double value) {
            if (!(value >= 0 && value < Double.POSITIVE_INFINITY)) {
                throw new IllegalArgumentException(algorithm() + ": " + name + " must be a finite value >= 0, got "
                        + value);
            }
            return value;
        }

        /** {@code value}, or an IllegalArgumentException naming the algorithm unless it lies in [0, 1). */
        protected double unitInterval(String name, double value) {
            if (!(value >= 0 && value < 1)) {
                throw new IllegalArgumentException(algorithm() + ": " + name + " must be in [0, 1), got " + value);
            }
            return value;
        }

        /** A constant learning rate (finite, >= 0). */
        public B learningRate(double rate) {
            this.schedule = LearningRateSchedule.constant(nonNegative("learning rate", rate));
            return (B) this;
        }

        /** A scheduled learning rate. */
        public B learningRate(LearningRateSchedule schedule) {
            this.schedule = Checks.notNull(algorithm(), "schedule", schedule);
            return (B) this;
        }

        /** Decoupled weight decay: {@code v -= v · weightDecay · learningRate} before each update (>= 0). */
        public B weightDecay(double weightDecay) {
            this.weightDecay = nonNegative("weightDecay", weightDecay);
            return (B) this;
        }

        /** Rescales each gradient whose L2 norm exceeds {@code norm} to that norm (0: off). */
        public B clipNorm(double norm) {
            this.clipNorm = nonNegative("clipNorm", norm);
            return (B) this;
        }

        /** Clips each gradient element to {@code [-value, value]} (0: off). */
        public B clipValue(double value) {
            this.clipValue = nonNegative("clipValue", value);
            return (B) this;
        }

        /** Rescales all gradients together when their joint L2 norm exceeds {@code norm} (0: off). */
        public B globalClipNorm(double norm) {
            this.globalClipNorm = nonNegative("globalClipNorm", norm);
            return (B) this;
        }

        /** The shared options as set. */
        protected Options options() {
            int modes = (clipNorm > 0 ? 1 : 0) + (clipValue > 0 ? 1 : 0) + (globalClipNorm > 0 ? 1 : 0);
            if (modes > 1) {
                throw new IllegalArgumentException(algorithm() + ": set only one of clipNorm, clipValue and "
                        + "globalClipNorm, got " + clipNorm + ", " + clipValue + ", " + globalClipNorm);
            }
            return new Options(schedule, weightDecay, clipNorm, clipValue, globalClipNorm);
        }
    }
}
