package dev.nabla.bench.suite;

import dev.nabla.Device;
import dev.nabla.GradientTape;
import dev.nabla.Nabla;
import dev.nabla.Rng;
import dev.nabla.Scope;
import dev.nabla.Tensor;
import dev.nabla.Variable;
import dev.nabla.graph.TracedFunction;
import dev.nabla.nn.Conv2d;
import dev.nabla.nn.Dense;
import dev.nabla.nn.Flatten;
import dev.nabla.nn.Functional;
import dev.nabla.nn.Layer;
import dev.nabla.nn.MaxPool2d;
import dev.nabla.nn.Relu;
import dev.nabla.nn.Sequential;
import dev.nabla.optim.Adam;
import dev.nabla.optim.SGD;
import java.util.List;

/**
 * Nabla's side of W1-W7, written as a new user would write them (eager, no hand-written {@code close()}), plus the
 * values the peers' variants are checked against.
 */
public final class NablaWorkloads {
    private NablaWorkloads() {
    }

    /** W1: {@code steps} notebook steps from x = 3; returns x. */
    public static float notebook(Variable x, int steps) {
        x.assign(Tensor.scalar(Device.cpu(), 3f));
        for (int i = 0; i < steps; i++) {
            Tensor y;
            GradientTape tape = new GradientTape();
            try (tape) {
                y = x.mul(x).add(x).sub(1);
            }
            Tensor g = tape.gradient(y, x);
            x.assignSub(g.mul(0.1));
        }
        return x.item();
    }

    /**
     * W1 traced's step: tape, {@code x·x + x − 1}, gradient, SGD update through {@code applyGradients} (so that a
     * traced body holds the whole step); returns the loss.
     */
    public static Tensor notebookStep(Variable x, SGD sgd) {
        Tensor loss;
        GradientTape tape = new GradientTape();
        try (tape) {
            loss = x.mul(x).add(x).sub(1);
        }
        sgd.applyGradients(List.of(tape.gradient(loss, x)), List.of(x));
        return loss;
    }

    /** W5: the MLP and its data. */
    public static final class Mlp {
        public final Tensor x;
        public final Tensor labels;
        public final Variable w1;
        public final Variable b1;
        public final Variable w2;
        public final Variable b2;
        public final List<Variable> params;
        public final SGD sgd = new SGD(0.1);

        public Mlp() {
            this(Device.cpu());
        }

        /** The MLP with its data and weights on {@code d} (the GPU check's steps). */
        public Mlp(Device d) {
            x = Tensor.of(d, Data.uniform(53, Data.MLP_BATCH * Data.MLP_IN, 0, 1), Data.MLP_BATCH, Data.MLP_IN);
            labels = Tensor.of(d, Data.labels(54, Data.MLP_BATCH, Data.MLP_OUT), Data.MLP_BATCH);
            w1 = new Variable(Tensor.of(d, Data.glorot(51, Data.MLP_IN, Data.MLP_HIDDEN,
                    Data.MLP_IN * Data.MLP_HIDDEN), Data.MLP_IN, Data.MLP_HIDDEN), "w1", true);
            b1 = new Variable(Tensor.zeros(d, Data.MLP_HIDDEN), "b1", true);
            w2 = new Variable(Tensor.of(d, Data.glorot(52, Data.MLP_HIDDEN, Data.MLP_OUT,
                    Data.MLP_HIDDEN * Data.MLP_OUT), Data.MLP_HIDDEN, Data.MLP_OUT), "w2", true);
            b2 = new Variable(Tensor.zeros(d, Data.MLP_OUT), "b2", true);
            params = List.of(w1, b1, w2, b2);
        }

        /** The step as a {@code Nabla.function} of the batch: traced at its first call, then replayed as a plan. */
        private final TracedFunction traced = Nabla.function(this::body);

        /** One SGD step; returns the loss before the update. */
        public float step() {
            return itemAndClose(body(x, labels));
        }

        /** {@link #step()} as a traced function (the same bits). */
        public float tracedStep() {
            return itemAndClose(traced.call(x, labels));
        }

        private Tensor body(Tensor in, Tensor y) {
            return sgd.minimize(() -> Functional.softmaxCrossEntropy(
                    in.matmul(w1).add(b1).relu().matmul(w2).add(b2), y), params);
        }
    }

    private static float itemAndClose(Tensor t) {
        float v = t.item();
        t.close();
        return v;
    }

    /** W5's losses over the first {@code steps} steps from the initial weights (the peers must match them). */
    public static float[] mlpLosses(int steps) {
        Mlp m = new Mlp();
        float[] out = new float[steps];
        for (int i = 0; i < steps; i++) {
            out[i] = m.step();
        }
        return out;
    }

    /** W6: y = sum((A + b)^2) and its gradients for A and b, as written (nothing closed) or in a scope. */
    public static float w6(Tensor a, Tensor b, boolean scoped) {
        if (scoped) {
            try (Scope s = Nabla.scope()) {
                return w6Step(a, b);
            }
        }
        return w6Step(a, b);
    }

    /** y, with both gradients computed (as TF fetches them; a deferred one would otherwise be timed as nothing). */
    private static float w6Step(Tensor a, Tensor b) {
        List<Tensor> r = w6Body(a, b);
        r.get(1).evaluate();
        r.get(2).evaluate();
        return r.get(0).item();
    }

    /** W6's values {y, dA, db}. */
    public static List<Tensor> w6Body(Tensor a, Tensor b) {
        Tensor y;
        GradientTape tape = new GradientTape();
        try (tape) {
            tape.watch(a, b);
            y = a.add(b).square().sum();
        }
        List<Tensor> g = tape.gradient(y, List.of(a, b));
        return List.of(y, g.get(0), g.get(1));
    }

    /** W6's inputs. */
    public static Tensor[] w6Inputs() {
        Device d = Device.cpu();
        return new Tensor[] {
            Tensor.of(d, Data.uniform(61, Data.SIDE * Data.SIDE, -1, 1), Data.SIDE, Data.SIDE),
            Tensor.of(d, Data.uniform(62, Data.SIDE, -1, 1), Data.SIDE)};
    }

    /** W7: the CNN of {@code ./nabla mnist} and a batch of 64 synthetic digits. */
    public static final class Cnn {
        public final Layer model;
        public final Tensor images;
        public final Tensor labels;
        public final Adam adam = new Adam(1e-3);

        public Cnn() {
            this(Device.cpu());
        }

        /** The CNN with its data and weights on {@code d} (the GPU check's steps). */
        public Cnn(Device d) {
            Rng rng = Rng.seeded(7);
            model = new Sequential(new Conv2d(1, 16, 3, 1, "same", rng, d), new Relu(), new MaxPool2d(2),
                    new Conv2d(16, 32, 3, 1, "same", rng, d), new Relu(), new MaxPool2d(2), new Flatten(),
                    new Dense(32 * 7 * 7, 10, rng, d));
            images = Tensor.of(d, Data.uniform(71, Data.CNN_BATCH * 28 * 28, 0, 1), Data.CNN_BATCH, 1, 28, 28);
            labels = Tensor.of(d, Data.labels(72, Data.CNN_BATCH, 10), Data.CNN_BATCH);
        }

        /** The step as a {@code Nabla.function} of the batch: traced at its first call, then replayed as a plan. */
        private final TracedFunction traced = Nabla.function(this::body);

        /** One Adam step; returns the loss. */
        public float step() {
            return itemAndClose(body(images, labels));
        }

        /** {@link #step()} as a traced function (the same bits). */
        public float tracedStep() {
            return itemAndClose(traced.call(images, labels));
        }

        private Tensor body(Tensor in, Tensor y) {
            return adam.minimize(() -> Functional.softmaxCrossEntropy(model.forward(in), y), model.parameters());
        }
    }
}
