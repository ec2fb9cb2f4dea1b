package dev.nabla.conformance;

import dev.nabla.Shape;
import java.util.List;
import java.util.stream.Collectors;

/**
 * One way to call an op: the shapes of its tensor inputs and its other arguments ({@code null} when it has none).
 *
 * @param <A> the type of the other arguments
 */
record OpCase<A>(List<long[]> shapes, A args) {
    static <A> OpCase<A> of(A args, long[]... shapes) {
        return new OpCase<>(List.of(shapes), args);
    }

    @Override
    public String toString() {
        String s = shapes.stream().map(Shape::format).collect(Collectors.joining(", "));
        return s + (args == null ? "" : " " + args);
    }
}
