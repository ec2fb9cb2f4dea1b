package dev.nabla.graph;

import dev.nabla.Tensor;
import dev.nabla.backend.Backend;
import dev.nabla.ops.Primitive;
import java.util.List;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/** A step of a traced graph, in program order. */
sealed interface Node {
    /** The value ids this node reads ({@code -1} for an absent optional input). */
    int[] inputs();

    /** Every value this node reads, for buffer lifetimes (a custom node's body reads more than its inputs). */
    default int[] reads() {
        return inputs();
    }

    /** A primitive applied to values, giving value {@code output}. */
    record Apply(Primitive primitive, Backend backend, int[] inputs, int output) implements Node {
    }

    /** A side effect (an assign, an optimizer update) that replays {@code replay} with the inputs' values. */
    record Effect(String name, int[] inputs, Consumer<Tensor[]> replay) implements Node {
    }

    /**
     * A {@code customGradient}: {@code body} computes {@code output} from {@code inputs}; under a tape it runs
     * unrecorded and {@code record} puts the user's rule on the tape. {@code reads} adds the values the body takes
     * from outside its inputs. NOTE: the user's rule is a Java closure; when the body read values other than its
     * inputs, captures and Variables ({@code ruleReplayable} false), the closure may hold the trace's tensors rather
     * than this call's, so a replay under a tape records the body's own ops instead (the same gradient, by the
     * ordinary rules, rather than the fused one).
     */
    record Custom(int[] inputs, int[] reads, int output, List<Node> body, BiConsumer<Tensor[], Tensor> record,
            boolean ruleReplayable) implements Node {
    }
}
