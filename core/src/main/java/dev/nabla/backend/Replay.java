package dev.nabla.backend;

/**
 * Work a backend recorded once ({@link Backend#capture}) and runs again with one call, such as a CUDA graph: each
 * {@link #launch} queues the recorded work on the same buffers, reading whatever they hold by then. A replayed plan
 * of a traced function uses one for its steps between side effects.
 *
 * <pre>{@code
 * Replay r = backend.capture(() -> backend.unary(UnaryOp.EXP, in, out));
 * if (r == null) {
 *     backend.unary(UnaryOp.EXP, in, out);   // this backend does not record: run the work itself
 * } else {
 *     r.launch();                            // recording ran nothing: launch it (again at every call)
 * }
 * }</pre>
 */
public interface Replay extends AutoCloseable {
    /** Queues the recorded work once more, as one call. */
    void launch();

    /** Frees the recording and the scratch memory it kept; it must not be launched afterwards. Idempotent. */
    @Override
    void close();
}
