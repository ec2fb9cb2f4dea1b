package dev.nabla.nn;

import dev.nabla.Tensor;
import dev.nabla.Variable;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A layer or model: named variables (trainable parameters and non-trainable state such as running statistics),
 * child layers, a {@link #forward} function, and a training/evaluation mode.
 *
 * <pre>{@code
 * Layer model = new Sequential(new Dense(784, 128, rng), new Relu(), new Dense(128, 10, rng));
 * Tensor logits = model.forward(images);
 * List<Variable> params = model.parameters();
 * Map<String, Tensor> weights = model.stateDict();   // "0.kernel", "0.bias", "2.kernel", ...
 * }</pre>
 */
public abstract class Layer {
    private final Map<String, Variable> variables = new LinkedHashMap<>();
    private final Map<String, Layer> children = new LinkedHashMap<>();
    private boolean training = true;

    /** A layer with no variables and no children yet, in training mode. */
    protected Layer() {
    }

    /** The layer's output for {@code x}. */
    public abstract Tensor forward(Tensor x);

    /** Registers a variable under {@code name} (unique within this layer) and returns it. */
    protected Variable register(String name, Variable v) {
        if (variables.containsKey(name) || children.containsKey(name)) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": name '" + name + "' is taken");
        }
        variables.put(name, v);
        return v;
    }

    /** Registers a child layer under {@code name} and returns it. */
    protected <M extends Layer> M register(String name, M child) {
        if (variables.containsKey(name) || children.containsKey(name)) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": name '" + name + "' is taken");
        }
        children.put(name, child);
        return child;
    }

    /** Trainable variables of this layer and its children, in registration order. */
    public List<Variable> parameters() {
        List<Variable> out = new ArrayList<>();
        namedVariables().values().stream().filter(Variable::trainable).forEach(out::add);
        return out;
    }

    /** Every variable (trainable or not) by dotted path, e.g. {@code "0.kernel"}. */
    public Map<String, Variable> namedVariables() {
        Map<String, Variable> out = new LinkedHashMap<>();
        collect("", out);
        return out;
    }

    private void collect(String prefix, Map<String, Variable> out) {
        variables.forEach((name, v) -> out.put(prefix + name, v));
        children.forEach((name, child) -> child.collect(prefix + name + ".", out));
    }

    /** The current values of every variable by dotted path (copies, safe to keep or save). */
    public Map<String, Tensor> stateDict() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        namedVariables().forEach((name, v) -> out.put(name, v.value()));
        return out;
    }

    /**
     * Assigns saved values to the variables of the same paths; every name, shape and dtype is checked before any
     * variable changes.
     */
    public void loadStateDict(Map<String, Tensor> state) {
        dev.nabla.ops.Checks.notNull("loadStateDict", "state", state);
        Map<String, Variable> mine = namedVariables();
        for (Map.Entry<String, Variable> e : mine.entrySet()) {
            Tensor t = state.get(e.getKey());
            Variable v = e.getValue();
            if (t == null || !t.shape().equals(v.shape()) || t.dtype() != v.dtype()) {
                throw new IllegalArgumentException("loadStateDict: '" + e.getKey() + "' is "
                        + (t == null ? "missing" : t.shape() + " " + t.dtype()) + ", expected " + v.shape() + " "
                        + v.dtype());
            }
        }
        for (String name : state.keySet()) {
            if (!mine.containsKey(name)) {
                throw new IllegalArgumentException("loadStateDict: unexpected entry '" + name + "'");
            }
        }
        mine.forEach((name, v) -> v.assign(state.get(name).to(v.device())));
    }

    /** Training mode (dropout active, batch statistics used and tracked) for this layer and its children. */
    public void train() {
        setTraining(true);
    }

    /** Evaluation mode (dropout off, running statistics used). */
    public void eval() {
        setTraining(false);
    }

    private void setTraining(boolean t) {
        training = t;
        children.values().forEach(c -> c.setTraining(t));
    }

    /** True in training mode. */
    public boolean isTraining() {
        return training;
    }
}
