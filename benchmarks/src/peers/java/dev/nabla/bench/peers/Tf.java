package dev.nabla.bench.peers;

import dev.nabla.bench.suite.Data;
import java.util.ArrayList;
import java.util.List;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Gradients;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TFloat32;

/**
 * TensorFlow Java in graph mode (its gradients exist only in graphs): each workload is one graph with placeholders
 * for its inputs, run by one session; training steps keep their parameters in graph variables updated by TF's own
 * fused ops ({@code ApplyGradientDescent}, {@code ApplyAdam}).
 */
final class Tf {
    private Tf() {
    }

    static TFloat32 tensor(float[] data, long... shape) {
        return TFloat32.tensorOf(Shape.of(shape), DataBuffers.of(data, true, false));
    }

    static Operand<TFloat32> constant(Ops tf, float[] data, long... shape) {
        return tf.constant(Shape.of(shape), DataBuffers.of(data, true, false));
    }

    static Placeholder<TFloat32> placeholder(Ops tf, long... shape) {
        return tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(shape)));
    }

    /** A variable of {@code shape} set to {@code init} now. */
    static Variable<TFloat32> variable(Ops tf, Session s, float[] init, long... shape) {
        Variable<TFloat32> v = tf.variable(Shape.of(shape), TFloat32.class);
        s.run(tf.assign(v, constant(tf, init, shape)));
        return v;
    }

    /** The gradients of {@code loss} for {@code params}, each behind an identity op (for control dependencies). */
    static List<Operand<TFloat32>> allGradients(Ops tf, Operand<TFloat32> loss, List<Variable<TFloat32>> params) {
        Gradients g = tf.gradients(loss, params);
        List<Operand<TFloat32>> out = new ArrayList<>();
        for (int i = 0; i < params.size(); i++) {
            out.add(tf.identity(g.<TFloat32>dy(i)));
        }
        return out;
    }

    static List<Op> opsOf(List<Operand<TFloat32>> operands) {
        List<Op> out = new ArrayList<>();
        for (Operand<TFloat32> o : operands) {
            out.add((Op) o);
        }
        return out;
    }

    /** Runs a training step: {@code runner} (fetching the loss first) with every update as a target; the loss. */
    static float runStep(Session.Runner runner, List<Op> updates) {
        for (Op u : updates) {
            runner.addTarget(u);
        }
        try (Result r = runner.run()) {
            return ((TFloat32) r.get(0)).getFloat();
        }
    }

    /** A graph, its session and its ops; closing it closes them. */
    static class Model implements AutoCloseable {
        final Graph graph = new Graph();
        final Session session = new Session(graph);
        final Ops tf = Ops.create(graph);

        @Override
        public void close() {
            session.close();
            graph.close();
        }
    }

    /** W1: x fed as a scalar; one run computes x - 0.1 dy/dx. */
    static final class Notebook extends Model {
        final Placeholder<TFloat32> x = placeholder(tf);
        final Operand<TFloat32> next;

        Notebook() {
            Operand<TFloat32> y = tf.math.sub(tf.math.add(tf.math.mul(x, x), x), tf.constant(1f));
            Gradients g = tf.gradients(y, List.of(x));
            next = tf.math.sub(x, tf.math.mul(tf.constant(0.1f), g.<TFloat32>dy(0)));
        }

        float run(int steps) {
            float value = 3f;
            for (int i = 0; i < steps; i++) {
                try (TFloat32 in = TFloat32.scalarOf(value);
                     Result r = session.runner().feed(x, in).fetch(next).run()) {
                    value = ((TFloat32) r.get(0)).getFloat();
                }
            }
            return value;
        }
    }

    /** W2, W3, W4: one op graph over two fed operands (b unused by W3). */
    static final class Binary extends Model {
        final Placeholder<TFloat32> a;
        final Placeholder<TFloat32> b;
        final Operand<TFloat32> out;

        Binary(String which, long... shape) {
            a = placeholder(tf, shape);
            b = placeholder(tf, shape);
            out = switch (which) {
                case "muladd" -> tf.math.add(tf.math.mul(a, b), a);
                case "sum" -> tf.reduceSum(a, tf.constant(new int[] {0}));
                case "matmul" -> tf.linalg.matMul(a, b);
                default -> throw new IllegalArgumentException(which);
            };
        }

        /** Runs once; {@code probe} reads what the check needs before the result is closed. */
        float run(TFloat32 x, TFloat32 y, long... probe) {
            Session.Runner runner = session.runner().feed(a, x);
            if (y != null) {
                runner.feed(b, y);
            }
            try (Result r = runner.fetch(out).run()) {
                return ((TFloat32) r.get(0)).getFloat(probe);
            }
        }
    }

    /** W5: the MLP with variables and ApplyGradientDescent. */
    static final class Mlp extends Model {
        final Placeholder<TFloat32> x = placeholder(tf, Data.MLP_BATCH, Data.MLP_IN);
        final Placeholder<TFloat32> oneHot = placeholder(tf, Data.MLP_BATCH, Data.MLP_OUT);
        final Operand<TFloat32> loss;
        final List<Op> updates = new ArrayList<>();
        final TFloat32 xs = tensor(Data.uniform(53, Data.MLP_BATCH * Data.MLP_IN, 0, 1), Data.MLP_BATCH, Data.MLP_IN);
        final TFloat32 ys = tensor(Data.oneHot(Data.labels(54, Data.MLP_BATCH, Data.MLP_OUT), Data.MLP_OUT),
                Data.MLP_BATCH, Data.MLP_OUT);

        Mlp() {
            Variable<TFloat32> w1 = variable(tf, session, Data.glorot(51, Data.MLP_IN, Data.MLP_HIDDEN,
                    Data.MLP_IN * Data.MLP_HIDDEN), Data.MLP_IN, Data.MLP_HIDDEN);
            Variable<TFloat32> b1 = variable(tf, session, new float[Data.MLP_HIDDEN], Data.MLP_HIDDEN);
            Variable<TFloat32> w2 = variable(tf, session, Data.glorot(52, Data.MLP_HIDDEN, Data.MLP_OUT,
                    Data.MLP_HIDDEN * Data.MLP_OUT), Data.MLP_HIDDEN, Data.MLP_OUT);
            Variable<TFloat32> b2 = variable(tf, session, new float[Data.MLP_OUT], Data.MLP_OUT);
            Operand<TFloat32> h = tf.nn.relu(tf.math.add(tf.linalg.matMul(x, w1), b1));
            Operand<TFloat32> logits = tf.math.add(tf.linalg.matMul(h, w2), b2);
            loss = tf.math.mean(tf.nn.softmaxCrossEntropyWithLogits(logits, oneHot).loss(), tf.constant(0));
            List<Variable<TFloat32>> params = List.of(w1, b1, w2, b2);
            List<Operand<TFloat32>> g = allGradients(tf, loss, params);
            // every gradient before any update: the forward and backward read the variables by reference
            Ops after = tf.withControlDependencies(opsOf(g));
            for (int i = 0; i < params.size(); i++) {
                updates.add(after.train.applyGradientDescent(params.get(i), after.constant(0.1f), g.get(i)));
            }
        }

        float step() {
            return runStep(session.runner().feed(x, xs).feed(oneHot, ys).fetch(loss), updates);
        }

        @Override
        public void close() {
            xs.close();
            ys.close();
            super.close();
        }
    }

    /** W6: y = sum((A + b)^2) and its gradients for the fed A and b. */
    static final class SquaredSum extends Model {
        final Placeholder<TFloat32> a = placeholder(tf, Data.SIDE, Data.SIDE);
        final Placeholder<TFloat32> b = placeholder(tf, Data.SIDE);
        final Operand<TFloat32> y;
        final Gradients g;

        SquaredSum() {
            y = tf.reduceSum(tf.math.square(tf.math.add(a, b)), tf.constant(new int[] {0, 1}));
            g = tf.gradients(y, List.of(a, b));
        }

        float[] run(TFloat32 x, TFloat32 v) {
            try (Result r = session.runner().feed(a, x).feed(b, v).fetch(y).fetch(g.dy(0)).fetch(g.dy(1)).run()) {
                return new float[] {((TFloat32) r.get(0)).getFloat(), ((TFloat32) r.get(1)).getFloat(0, 0),
                    ((TFloat32) r.get(2)).getFloat(0)};
            }
        }
    }

    /** W7: the MNIST CNN in NHWC with HWIO kernels (Nabla's weights converted), Adam by ApplyAdam. */
    static final class Cnn extends Model {
        final Placeholder<TFloat32> images = placeholder(tf, Data.CNN_BATCH, 28, 28, 1);
        final Placeholder<TFloat32> oneHot = placeholder(tf, Data.CNN_BATCH, 10);
        final Placeholder<TFloat32> beta1Power = placeholder(tf);
        final Placeholder<TFloat32> beta2Power = placeholder(tf);
        final Operand<TFloat32> loss;
        final List<Op> updates = new ArrayList<>();
        // with one channel, NCHW and NHWC images have the same memory layout
        final TFloat32 xs = tensor(Data.uniform(71, Data.CNN_BATCH * 28 * 28, 0, 1), Data.CNN_BATCH, 28, 28, 1);
        final TFloat32 ys = tensor(Data.oneHot(Data.labels(72, Data.CNN_BATCH, 10), 10), Data.CNN_BATCH, 10);
        int t;

        /** {@code weights}: conv1 kernel (OIHW), bias, conv2 kernel, bias, dense kernel (in, out), bias. */
        Cnn(List<float[]> weights, List<long[]> shapes) {
            List<Variable<TFloat32>> params = new ArrayList<>();
            for (int i = 0; i < weights.size(); i++) {
                long[] s = shapes.get(i);
                if (s.length == 4) {
                    params.add(variable(tf, session, oihwToHwio(weights.get(i), s), s[2], s[3], s[1], s[0]));
                } else {
                    params.add(variable(tf, session, weights.get(i), s));
                }
            }
            List<Long> ones = List.of(1L, 1L, 1L, 1L);
            Operand<TFloat32> h = tf.nn.conv2d(images, params.get(0), ones, "SAME");
            h = tf.nn.relu(tf.nn.biasAdd(h, params.get(1)));
            h = tf.nn.maxPool(h, tf.constant(new int[] {1, 2, 2, 1}), tf.constant(new int[] {1, 2, 2, 1}), "VALID");
            h = tf.nn.conv2d(h, params.get(2), ones, "SAME");
            h = tf.nn.relu(tf.nn.biasAdd(h, params.get(3)));
            h = tf.nn.maxPool(h, tf.constant(new int[] {1, 2, 2, 1}), tf.constant(new int[] {1, 2, 2, 1}), "VALID");
            // flatten in Nabla's (channel, row, column) order
            h = tf.reshape(tf.linalg.transpose(h, tf.constant(new int[] {0, 3, 1, 2})),
                    tf.constant(new int[] {Data.CNN_BATCH, 32 * 7 * 7}));
            Operand<TFloat32> logits = tf.math.add(tf.linalg.matMul(h, params.get(4)), params.get(5));
            loss = tf.math.mean(tf.nn.softmaxCrossEntropyWithLogits(logits, oneHot).loss(), tf.constant(0));
            List<Operand<TFloat32>> g = allGradients(tf, loss, params);
            Ops after = tf.withControlDependencies(opsOf(g));
            for (int i = 0; i < params.size(); i++) {
                Variable<TFloat32> p = params.get(i);
                long[] s = shapes.get(i);
                long[] vs = s.length == 4 ? new long[] {s[2], s[3], s[1], s[0]} : s;
                int n = weights.get(i).length;
                Variable<TFloat32> m = variable(tf, session, new float[n], vs);
                Variable<TFloat32> v = variable(tf, session, new float[n], vs);
                updates.add(after.train.applyAdam(p, m, v, beta1Power, beta2Power, after.constant(1e-3f),
                        after.constant(0.9f), after.constant(0.999f), after.constant(1e-7f), g.get(i)));
            }
        }

        static float[] oihwToHwio(float[] w, long[] s) {
            int o = (int) s[0], in = (int) s[1], kh = (int) s[2], kw = (int) s[3];
            float[] out = new float[w.length];
            for (int a = 0; a < o; a++) {
                for (int b = 0; b < in; b++) {
                    for (int y = 0; y < kh; y++) {
                        for (int x = 0; x < kw; x++) {
                            out[((y * kw + x) * in + b) * o + a] = w[((a * in + b) * kh + y) * kw + x];
                        }
                    }
                }
            }
            return out;
        }

        float step() {
            t++;
            try (TFloat32 b1 = TFloat32.scalarOf((float) Math.pow(0.9, t));
                 TFloat32 b2 = TFloat32.scalarOf((float) Math.pow(0.999, t))) {
                return runStep(session.runner().feed(images, xs).feed(oneHot, ys).feed(beta1Power, b1)
                        .feed(beta2Power, b2).fetch(loss), updates);
            }
        }

        @Override
        public void close() {
            xs.close();
            ys.close();
            super.close();
        }
    }
}
