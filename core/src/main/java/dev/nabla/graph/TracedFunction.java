package dev.nabla.graph;

import dev.nabla.Tensor;
import java.util.function.Supplier;

/**
 * A function traced into a graph, TensorFlow's {@code tf.function}; made by {@code Nabla.function}. The first call
 * for an input signature (shapes, dtypes, device) runs the Java body once, recording each op into a graph; later
 * calls with that signature replay the graph without running the body.
 *
 * <ul>
 *   <li>Java side effects in the body happen once per signature (when it is traced).</li>
 *   <li>Variables read inside are captured by reference: each call reads their current values. Other tensors from
 *       outside are captured by value, as constants.</li>
 *   <li>{@code assign*} and optimizer updates inside run on every call, in program order; optimizer slots and
 *       iteration counts advance on every call, and random draws take new numbers.</li>
 *   <li>A {@code GradientTape} around a call records it, so gradients are the eager body's.</li>
 *   <li>Reading values to Java inside the body ({@code item()}, {@code toFloatArray()}...) throws
 *       {@link IllegalStateException} naming the call.</li>
 *   <li>Results are the eager body's, bit for bit: the graph runs the same primitives.</li>
 * </ul>
 *
 * <pre>{@code
 * Variable v = Variable.of(3.0f);
 * Optimizer sgd = new SGD(0.1);
 * TracedFunction step = Nabla.function(() -> sgd.minimize(() -> v.square().add(v).sub(1), List.of(v)));
 * for (int epoch = 0; epoch < 30; epoch++) {
 *     Tensor loss = step.call();        // traced once, then replayed
 * }
 * System.out.println(step.listing());
 * }</pre>
 */
public interface TracedFunction extends Supplier<Tensor> {
    /**
     * Runs the function on {@code inputs}: traces the body if their signature is new, else replays its graph.
     *
     * @throws IllegalArgumentException when the number of inputs differs from the body's
     */
    Tensor call(Tensor... inputs);

    /** {@link #call} without inputs, for a body that takes none. */
    @Override
    default Tensor get() {
        return call();
    }

    /** How many times the Java body has run: once per new input signature. */
    int traceCount();

    /**
     * The most recent trace, one op a line with its shape and dtype as tuples, e.g.
     * {@code %3 = mul(%1, %2) : (2, 3) float32}.
     *
     * @throws IllegalStateException before the first call
     */
    String listing();

    /** The most recent trace as a Graphviz graph ({@code digraph ...}). @throws IllegalStateException before the first call */
    String toDot();
}
