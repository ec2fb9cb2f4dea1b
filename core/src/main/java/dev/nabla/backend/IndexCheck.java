package dev.nabla.backend;

/**
 * What a backend needs to report an index outside {@code [0, axisSize)} of {@link Backend#gather} or
 * {@link Backend#scatterAdd} as the op the caller called: the op's name and where it indexes. A synchronous backend
 * (the CPU) throws {@link #error} from the call; an asynchronous one (CUDA) checks the indices on the device and
 * throws the same error at its next synchronization point (a {@code read*}, {@link Backend#synchronize},
 * {@link Backend#close}), so that no op waits for the device.
 *
 * <pre>{@code
 * IndexCheck check = new IndexCheck("gather", "axis 0 of (3, 2)");
 * check.error(7, 1, 3).getMessage();
 *     // "gather: index 7 at position 1 is out of range [0, 3) for axis 0 of (3, 2)"
 * }</pre>
 *
 * @param op    the op's name, e.g. {@code gather}
 * @param where the axis and the shape indexed, e.g. {@code axis 0 of (3, 2)}
 */
public record IndexCheck(String op, String where) {
    /** The error for {@code index}, found at {@code position} of the indices, outside {@code [0, axisSize)}. */
    public IllegalArgumentException error(long index, long position, long axisSize) {
        return new IllegalArgumentException(op + ": index " + index + " at position " + position
                + " is out of range [0, " + axisSize + ") for " + where);
    }
}
