package dev.nabla.autograd;

import dev.nabla.Tensor;
import dev.nabla.Variable;
import dev.nabla.internal.TensorAccess;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** The engine behind {@code GradientTape}: the watched tensors, the recorded nodes, and the backward walk. */
public final class Tape {
    private final boolean persistent;
    private final boolean watchAccessedVariables;
    private final Set<Tensor> watched = Collections.newSetFromMap(new IdentityHashMap<>());
    private final List<Node> nodes = new ArrayList<>();
    private int paused;
    private boolean active;
    private boolean released;
    /** The serial of the last tensor made before this tape began: a rule may capture any tensor made after it. */
    private final long startSerial = TensorAccess.lastSerial();
    /** Run once at {@link #release()}: memory scopes close here the tensors this tape kept alive. */
    private List<Runnable> onRelease;

    /** A tape that starts recording on the calling thread at once. */
    public Tape(boolean persistent, boolean watchAccessedVariables) {
        this.persistent = persistent;
        this.watchAccessedVariables = watchAccessedVariables;
        this.active = true;
        Recorder.push(this);
        TapeListener.opened(this);
    }

    /** True once the nodes were dropped (after one gradient of a non-persistent tape, or {@link #release()}). */
    public boolean isReleased() {
        return released;
    }

    /** True while the tape holds recorded nodes. */
    public boolean hasNodes() {
        return !nodes.isEmpty();
    }

    /** The serial of the last tensor created before this tape: tensors after it may be saved by its rules. */
    public long startSerial() {
        return startSerial;
    }

    /** Passes every tensor a recorded node holds (inputs and outputs) to {@code sink}. */
    public void forEachSaved(java.util.function.Consumer<Tensor> sink) {
        for (Node n : nodes) {
            for (Tensor t : n.inputs) {
                sink.accept(t);
            }
            sink.accept(n.output);
        }
    }

    /** Runs {@code action} when the tape is released (at once if it already was). */
    public void onRelease(Runnable action) {
        if (released) {
            action.run();
            return;
        }
        if (onRelease == null) {
            onRelease = new ArrayList<>(2);
        }
        onRelease.add(action);
    }

    /** True for a tape that allows several gradient calls. */
    public boolean persistent() {
        return persistent;
    }

    boolean isRecording() {
        return active && paused == 0 && !released;
    }

    /** Ends recording on this thread; recorded nodes stay until released. */
    public void stop() {
        if (active) {
            active = false;
            Recorder.remove(this);
        }
    }

    /** Drops the recorded nodes, their saved tensors and the watched set. */
    public void release() {
        stop();
        released = true;
        nodes.clear();
        watched.clear();
        List<Runnable> actions = onRelease;
        onRelease = null;
        if (actions != null) {
            for (Runnable a : actions) {
                a.run();
            }
        }
    }

    void pause(int delta) {
        paused += delta;
    }

    /** Pauses recording while {@code body} runs. */
    public <T> T paused(java.util.function.Supplier<T> body) {
        paused++;
        try {
            return body.get();
        } finally {
            paused--;
        }
    }

    /** Watches a floating tensor; other dtypes carry no gradient and are ignored, as in TF. */
    public void watch(Tensor t) {
        if (t.dtype().isFloating()) {
            watched.add(t);
        }
    }

    /** True when an op reading {@code t} would be recorded: {@code t} is watched, or is a Variable it would watch. */
    boolean wouldWatch(Tensor t) {
        return watched.contains(t)
                || watchAccessedVariables && t instanceof Variable v && v.trainable() && v.dtype().isFloating();
    }

    boolean watchesAny(Tensor[] inputs) {
        boolean any = false;
        for (Tensor t : inputs) {
            if (watched.contains(t)) {
                any = true;
            } else if (watchAccessedVariables && t instanceof Variable v && v.trainable() && v.dtype().isFloating()) {
                watched.add(v);
                any = true;
            }
        }
        return any;
    }

    void add(Node node) {
        nodes.add(node);
        watched.add(node.output);
    }

    /** The watched tensors, in no particular order (TF's {@code watched_variables} for Variables). */
    public List<Tensor> watchedTensors() {
        return List.copyOf(watched);
    }

    /**
     * Gradients of {@code sum(target · outputGradient)} with respect to each source; {@code null} for a source not
     * connected to the target. A non-persistent tape is released afterwards.
     */
    public Tensor[] gradient(Tensor target, Tensor[] sources, Tensor outputGradient) {
        checkUsable("gradient");
        try {
            return backward(target, sources, outputGradient);
        } finally {
            if (!persistent) {
                release();
            }
        }
    }

    /**
     * Throws when the tape was released; a released non-persistent tape says that it allows one gradient call.
     */
    public void checkUsable(String op) {
        if (released) {
            throw new IllegalStateException(persistent
                    ? "GradientTape." + op + ": the persistent tape was released"
                    : "GradientTape." + op + ": a non-persistent GradientTape can only be used to compute one set"
                            + " of gradients (or jacobians); use GradientTape.persistent() for several");
        }
    }

    /** One backward pass without releasing (jacobian runs several). */
    public Tensor[] backward(Tensor target, Tensor[] sources, Tensor outputGradient) {
        checkOutputGradient(target, outputGradient);
        for (Node n : nodes) {
            n.checkVersions();
        }
        return paused(() -> walk(target, sources, outputGradient, null));
    }

    /**
     * Like {@link #gradient}, but each source's gradient comes back as its separate terms, in the order the walk
     * met them (one per use of the source by a recorded op), not added up: a traced function's backward hands these
     * to the outer tape ({@link SplitVjp}), which adds them in the eager order. An unconnected source gets an empty
     * array. A non-persistent tape is released afterwards.
     */
    public Tensor[][] contributions(Tensor target, Tensor[] sources, Tensor outputGradient) {
        checkUsable("gradient");
        try {
            checkOutputGradient(target, outputGradient);
            for (Node n : nodes) {
                n.checkVersions();
            }
            List<List<Tensor>> split = new ArrayList<>();
            for (int i = 0; i < sources.length; i++) {
                split.add(new ArrayList<>());
            }
            paused(() -> walk(target, sources, outputGradient, split));
            Tensor[][] r = new Tensor[sources.length][];
            for (int i = 0; i < r.length; i++) {
                r[i] = split.get(i).toArray(new Tensor[0]);
            }
            return r;
        } finally {
            if (!persistent) {
                release();
            }
        }
    }

    private static void checkOutputGradient(Tensor target, Tensor outputGradient) {
        if (outputGradient != null && (!outputGradient.shape().equals(target.shape())
                || outputGradient.dtype() != target.dtype() || !outputGradient.device().equals(target.device()))) {
            throw new IllegalArgumentException("gradient: output gradient " + outputGradient.shape() + " "
                    + outputGradient.dtype() + " on " + outputGradient.device() + " does not match target "
                    + target.shape() + " " + target.dtype() + " on " + target.device());
        }
    }

    /**
     * The backward walk. With {@code split} non-null, the terms of each source's gradient are appended to its list
     * instead of being added up (sources are then never outputs of recorded nodes: a traced backward's inputs).
     */
    private Tensor[] walk(Tensor target, Tensor[] sources, Tensor outputGradient, List<List<Tensor>> split) {
        // only watched sources seed the walk: an unwatched one is unconnected even if a recorded op read it, as TF
        Set<Tensor> reachable = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Tensor s : sources) {
            if (watched.contains(s)) {
                reachable.add(s);
            }
        }
        boolean[] useful = new boolean[nodes.size()];
        for (int i = 0; i < nodes.size(); i++) {
            Node node = nodes.get(i);
            for (Tensor in : node.inputs) {
                if (reachable.contains(in)) {
                    useful[i] = true;
                    reachable.add(node.output);
                    break;
                }
            }
        }
        Tensor[] result = new Tensor[sources.length];
        if (!reachable.contains(target) || !target.dtype().isFloating()) {
            return result;
        }
        long firstOwnSerial = TensorAccess.lastSerial() + 1;
        Map<Tensor, Tensor> grads = new IdentityHashMap<>();
        Tensor seed = outputGradient != null ? outputGradient : Tensor.onesLike(target);
        grads.put(target, seed);
        // with no outer tape recording, gradients this walk made and no longer needs go back to the pool at once
        HeldGradients held = new HeldGradients(!Recorder.isRecording(), firstOwnSerial);
        held.hold(seed);
        Set<Tensor> sourceSet = Collections.newSetFromMap(new IdentityHashMap<>());
        Collections.addAll(sourceSet, sources);
        Map<Tensor, List<Tensor>> terms = new IdentityHashMap<>();
        if (split != null) {
            for (int i = sources.length - 1; i >= 0; i--) {
                terms.put(sources[i], split.get(i));
            }
        }
        for (int i = nodes.size() - 1; i >= 0; i--) {
            if (!useful[i]) {
                continue;
            }
            Node node = nodes.get(i);
            boolean isSource = sourceSet.contains(node.output);
            Tensor g = isSource ? grads.get(node.output) : grads.remove(node.output);
            if (g == null) {
                continue;
            }
            boolean[] needed = new boolean[node.inputs.length];
            for (int j = 0; j < needed.length; j++) {
                needed[j] = reachable.contains(node.inputs[j]) && node.inputs[j].dtype().isFloating();
            }
            // a gradient that only broadcasts to the output (a sum's) goes as it is to a rule that takes it so,
            // broadcast to the output's shape for the others
            Tensor ruleGrad = g.shape().equals(node.output.shape()) || node.vjp instanceof BroadcastingVjp ? g
                    : g.broadcastTo(node.output.shape().dims());
            // with checkNumerics on, a NaN made by the rule (or by summing its results) names the forward op
            Tensor[][] inputGrads = NumericsCheck.enabled()
                    ? NumericsCheck.during("in the gradient of", node.op, node.inputs, node.userFrame,
                            () -> terms(node, ruleGrad, needed))
                    : terms(node, ruleGrad, needed);
            // a rule may hand one tensor out as several terms (a split rule whose plan merged equal terms; add's
            // rule giving the gradient it broadcast to both inputs): pinned until the node is done, so that adding
            // one term into an earlier gradient never closes a later one (g itself stays held until then anyway)
            boolean pin = node.vjp instanceof SplitVjp || repeats(inputGrads, g);
            for (int j = 0; pin && j < needed.length; j++) {
                for (int k = 0; needed[j] && inputGrads[j] != null && k < inputGrads[j].length; k++) {
                    if (inputGrads[j][k] != null) {
                        held.hold(inputGrads[j][k]);
                    }
                }
            }
            for (int j = 0; j < needed.length; j++) {
                if (!needed[j] || inputGrads[j] == null) {
                    continue;
                }
                for (Tensor ig : inputGrads[j]) {
                    if (ig != null) {
                        accumulate(node, node.inputs[j], ig, grads, held, terms);
                    }
                }
            }
            for (int j = 0; pin && j < needed.length; j++) {
                for (int k = 0; needed[j] && inputGrads[j] != null && k < inputGrads[j].length; k++) {
                    if (inputGrads[j][k] != null) {
                        held.drop(inputGrads[j][k]);
                    }
                }
            }
            if (ruleGrad != g) {
                held.dropIfUnheld(ruleGrad);
            }
            if (!isSource) {
                held.drop(g);
            }
        }
        for (int i = 0; i < sources.length; i++) {
            Tensor g = grads.get(sources[i]);
            if (g != null && !g.shape().equals(sources[i].shape())) {
                // the entry then holds the full gradient, so a source listed twice is broadcast once
                Tensor full = g.broadcastTo(sources[i].shape().dims());
                grads.put(sources[i], full);
                held.drop(g);
                g = full;
            }
            result[i] = g;
        }
        return result;
    }

    /** Whether one tensor other than {@code g} stands in more than one place among a node's gradient terms. */
    private static boolean repeats(Tensor[][] terms, Tensor g) {
        for (int j = 0; j < terms.length; j++) {
            for (int k = 0; terms[j] != null && k < terms[j].length; k++) {
                Tensor t = terms[j][k];
                for (int j2 = j; t != null && t != g && j2 < terms.length; j2++) {
                    for (int k2 = j2 == j ? k + 1 : 0; terms[j2] != null && k2 < terms[j2].length; k2++) {
                        if (terms[j2][k2] == t) {
                            return true;
                        }
                    }
                }
            }
        }
        return false;
    }

    /** The gradient terms of each input of {@code node}: one per input, or a {@link SplitVjp}'s several. */
    private static Tensor[][] terms(Node node, Tensor g, boolean[] needed) {
        if (node.vjp instanceof SplitVjp split) {
            return split.contributions(g, needed);
        }
        Tensor[] grads = node.vjp.apply(g, needed);
        Tensor[][] r = new Tensor[grads.length][];
        for (int j = 0; j < r.length; j++) {
            r[j] = grads[j] == null ? null : new Tensor[] {grads[j]};
        }
        return r;
    }

    /** Adds one gradient term into {@code input}'s gradient (or, for a split source, to its list of terms). */
    private static void accumulate(Node node, Tensor input, Tensor ig, Map<Tensor, Tensor> grads, HeldGradients held,
            Map<Tensor, List<Tensor>> terms) {
        List<Tensor> list = terms.get(input);
        if (list != null) {
            Tensor term = ig.shape().equals(input.shape()) ? ig : ig.broadcastTo(input.shape().dims());
            list.add(term);
            held.hold(term);                     // handed out: never closed by this walk
            if (term != ig) {
                held.dropIfUnheld(ig);
            }
            return;
        }
        Tensor prev = grads.get(input);
        if (prev == null) {
            grads.put(input, ig);
            held.hold(ig);
        } else {
            Tensor sum = NumericsCheck.enabled()
                    ? NumericsCheck.during("while adding up the gradients of an input of", node.op, node.inputs,
                            node.userFrame, () -> prev.add(ig))
                    : prev.add(ig);
            grads.put(input, sum);
            held.hold(sum);
            held.drop(prev);
            held.dropIfUnheld(ig);
        }
    }

    /**
     * Counts how many entries of the walk's gradient map refer to each gradient tensor, and closes one the walk made
     * itself (serial at or after {@code firstOwnSerial}) when nothing refers to it any more. Tensors made before the
     * walk (the caller's output gradient, values a custom gradient captured) are never closed.
     */
    private static final class HeldGradients {
        private final boolean enabled;
        private final long firstOwnSerial;
        private final Map<Tensor, Integer> counts = new IdentityHashMap<>();

        HeldGradients(boolean enabled, long firstOwnSerial) {
            this.enabled = enabled;
            this.firstOwnSerial = firstOwnSerial;
        }

        void hold(Tensor t) {
            counts.merge(t, 1, Integer::sum);
        }

        void drop(Tensor t) {
            Integer c = counts.get(t);
            if (c != null && c > 1) {
                counts.put(t, c - 1);
                return;
            }
            counts.remove(t);
            closeIfOwn(t);
        }

        void dropIfUnheld(Tensor t) {
            if (!counts.containsKey(t)) {
                closeIfOwn(t);
            }
        }

        private void closeIfOwn(Tensor t) {
            if (enabled && TensorAccess.serial(t) >= firstOwnSerial) {
                t.close();
            }
        }
    }
}
