package dev.nabla;

import java.util.List;

/**
 * Thrown, while {@link Nabla#checkNumerics(boolean) checkNumerics} is on, by the first op whose floating output holds
 * a NaN or an infinity: it names the op, its input shapes and the line of the caller's code that ran it (the first
 * stack frame outside Nabla), and, when the op ran inside a gradient, the forward op whose gradient it was computing.
 *
 * <pre>{@code
 * Nabla.checkNumerics(true);
 * try {
 *     Tensor y = Tensor.of(new float[] {1, -1}).log();
 * } catch (NumericsException e) {
 *     // checkNumerics: log produced NaN (inputs (2,)) at com.example.Train.step(Train.java:42); ...
 *     System.err.println(e.getMessage());
 *     StackTraceElement where = e.userFrame();     // Train.java:42
 * }
 * }</pre>
 *
 * <p>An {@link ArithmeticException} (so a {@code RuntimeException}): like integer division by zero, it reports an
 * exceptional arithmetic result, not a bad argument ({@code IllegalArgumentException}) or a bad state
 * ({@code IllegalStateException}), and code that already catches arithmetic failures catches it too.
 */
public class NumericsException extends ArithmeticException {
    private final String op;
    private final List<Shape> inputShapes;
    private final StackTraceElement userFrame;
    private final String gradientOf;
    private final StackTraceElement forwardFrame;
    private final long index;
    private final double value;

    /**
     * An exception for op {@code op} (internal: thrown by Nabla's numerics check, which composes the message).
     *
     * @param gradientOf the forward op whose gradient was being computed, or {@code null} outside backward
     * @param forwardFrame where the user called that forward op, or {@code null} when unknown
     */
    public NumericsException(String message, String op, List<Shape> inputShapes, StackTraceElement userFrame,
            String gradientOf, StackTraceElement forwardFrame, long index, double value) {
        super(message);
        this.op = op;
        this.inputShapes = List.copyOf(inputShapes);
        this.userFrame = userFrame;
        this.gradientOf = gradientOf;
        this.forwardFrame = forwardFrame;
        this.index = index;
        this.value = value;
    }

    /**
     * The op whose output held the non-finite value ({@code "log"}, {@code "matmul"}, {@code "SGD update of 'w'"}...).
     */
    public String op() {
        return op;
    }

    /** The shapes of the op's inputs, in order. */
    public List<Shape> inputShapes() {
        return inputShapes;
    }

    /**
     * The first stack frame outside Nabla's library packages when the op ran: the caller's line that ran the op (in
     * backward, the line that asked for the gradient); {@code null} if every frame was Nabla's or the JDK's.
     */
    public StackTraceElement userFrame() {
        return userFrame;
    }

    /** The forward op whose gradient rule ran the failing op, or {@code null} for an op outside backward. */
    public String gradientOf() {
        return gradientOf;
    }

    /**
     * The caller's line that ran the forward op of {@link #gradientOf()}, when checking was on during the forward
     * pass; else {@code null}.
     */
    public StackTraceElement forwardFrame() {
        return forwardFrame;
    }

    /** The row-major index of the first non-finite element of the output. */
    public long index() {
        return index;
    }

    /** That element: NaN, or an infinity. */
    public double value() {
        return value;
    }
}
