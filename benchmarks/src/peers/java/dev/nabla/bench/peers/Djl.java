package dev.nabla.bench.peers;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.pooling.Pool;
import ai.djl.training.GradientCollector;
import ai.djl.training.optimizer.Adam;
import ai.djl.training.tracker.Tracker;
import dev.nabla.bench.suite.Data;
import java.util.List;

/**
 * DJL with the PyTorch engine (eager): W1-W7 as a DJL user writes them, each step's temporaries in a sub-manager
 * closed at the end of the step (DJL's memory idiom), parameters attached to it for the step with
 * {@code tempAttach}.
 */
final class Djl {
    static final String ENGINE = "PyTorch";

    private Djl() {
    }

    static NDManager manager() {
        return Engine.getEngine(ENGINE).newBaseManager();
    }

    static GradientCollector collector() {
        return Engine.getEngine(ENGINE).newGradientCollector();
    }

    /** W1: 30 notebook steps from 3; returns x. */
    static float notebook(NDManager base, NDArray x, int steps) {
        try (NDManager init = base.newSubManager()) {
            x.subi(x).addi(3f);
        }
        for (int i = 0; i < steps; i++) {
            try (NDManager step = base.newSubManager()) {
                x.tempAttach(step);
                try (GradientCollector gc = collector()) {
                    NDArray y = x.mul(x).add(x).sub(1);
                    gc.backward(y);
                }
                NDArray g = x.getGradient();
                x.subi(g.mul(0.1f));
                g.subi(g);   // PyTorch accumulates gradients: zero it for the next step
            }
        }
        return x.getFloat();
    }

    /** W5's model. */
    static final class Mlp {
        final NDManager base = manager();
        final NDArray x;
        final NDArray oneHot;
        final NDArray w1;
        final NDArray b1;
        final NDArray w2;
        final NDArray b2;
        final List<NDArray> params;

        Mlp() {
            x = base.create(Data.uniform(53, Data.MLP_BATCH * Data.MLP_IN, 0, 1), new Shape(Data.MLP_BATCH, Data.MLP_IN));
            oneHot = base.create(Data.oneHot(Data.labels(54, Data.MLP_BATCH, Data.MLP_OUT), Data.MLP_OUT),
                    new Shape(Data.MLP_BATCH, Data.MLP_OUT));
            w1 = base.create(Data.glorot(51, Data.MLP_IN, Data.MLP_HIDDEN, Data.MLP_IN * Data.MLP_HIDDEN),
                    new Shape(Data.MLP_IN, Data.MLP_HIDDEN));
            b1 = base.zeros(new Shape(Data.MLP_HIDDEN));
            w2 = base.create(Data.glorot(52, Data.MLP_HIDDEN, Data.MLP_OUT, Data.MLP_HIDDEN * Data.MLP_OUT),
                    new Shape(Data.MLP_HIDDEN, Data.MLP_OUT));
            b2 = base.zeros(new Shape(Data.MLP_OUT));
            params = List.of(w1, b1, w2, b2);
            for (NDArray p : params) {
                p.setRequiresGradient(true);
            }
        }

        float step() {
            try (NDManager step = base.newSubManager()) {
                for (NDArray p : params) {
                    p.tempAttach(step);
                }
                x.tempAttach(step);
                oneHot.tempAttach(step);
                NDArray loss;
                try (GradientCollector gc = collector()) {
                    NDArray logits = Activation.relu(x.matMul(w1).add(b1)).matMul(w2).add(b2);
                    loss = logits.logSoftmax(1).mul(oneHot).sum(new int[] {1}).mean().neg();
                    gc.backward(loss);
                }
                for (NDArray p : params) {
                    NDArray g = p.getGradient();
                    p.subi(g.mul(0.1f));
                    g.subi(g);
                }
                return loss.getFloat();
            }
        }
    }

    /** W6: returns {y, dA[0], db[0]}. */
    static float[] w6(NDManager base, NDArray a, NDArray b, boolean read) {
        try (NDManager step = base.newSubManager()) {
            a.tempAttach(step);
            b.tempAttach(step);
            NDArray y;
            try (GradientCollector gc = collector()) {
                y = a.add(b).square().sum();
                gc.backward(y);
            }
            NDArray ga = a.getGradient();
            NDArray gb = b.getGradient();
            float[] out = read ? new float[] {y.getFloat(), ga.getFloat(0, 0), gb.getFloat(0)} : new float[] {y.getFloat()};
            ga.subi(ga);
            gb.subi(gb);
            return out;
        }
    }

    /** W7's CNN, weights copied from Nabla's model (same layouts: OIHW kernels, (in, out) dense kernel). */
    static final class Cnn {
        final NDManager base = manager();
        final NDArray images;
        final NDArray oneHot;
        final NDArray[] params;
        final Adam adam = Adam.builder().optLearningRateTracker(Tracker.fixed(1e-3f)).optEpsilon(1e-7f).build();

        Cnn(List<float[]> weights, List<long[]> shapes) {
            images = base.create(Data.uniform(71, Data.CNN_BATCH * 28 * 28, 0, 1), new Shape(Data.CNN_BATCH, 1, 28, 28));
            oneHot = base.create(Data.oneHot(Data.labels(72, Data.CNN_BATCH, 10), 10), new Shape(Data.CNN_BATCH, 10));
            params = new NDArray[weights.size()];
            for (int i = 0; i < params.length; i++) {
                params[i] = base.create(weights.get(i), new Shape(shapes.get(i)));
                params[i].setRequiresGradient(true);
            }
        }

        float step() {
            try (NDManager step = base.newSubManager()) {
                for (NDArray p : params) {
                    p.tempAttach(step);
                }
                images.tempAttach(step);
                oneHot.tempAttach(step);
                NDArray loss;
                try (GradientCollector gc = collector()) {
                    NDArray h = Conv2d.conv2d(images, params[0], params[1], new Shape(1, 1), new Shape(1, 1)).head();
                    h = Pool.maxPool2d(Activation.relu(h), new Shape(2, 2), new Shape(2, 2),
                            new Shape(0, 0), false);
                    h = Conv2d.conv2d(h, params[2], params[3], new Shape(1, 1), new Shape(1, 1)).head();
                    h = Pool.maxPool2d(Activation.relu(h), new Shape(2, 2), new Shape(2, 2),
                            new Shape(0, 0), false);
                    NDArray logits = h.reshape(Data.CNN_BATCH, 32 * 7 * 7).matMul(params[4]).add(params[5]);
                    loss = logits.logSoftmax(1).mul(oneHot).sum(new int[] {1}).mean().neg();
                    gc.backward(loss);
                }
                for (int i = 0; i < params.length; i++) {
                    NDArray g = params[i].getGradient();
                    adam.update("p" + i, params[i], g);
                    g.subi(g);
                }
                return loss.getFloat();
            }
        }
    }
}
