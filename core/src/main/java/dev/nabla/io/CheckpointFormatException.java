package dev.nabla.io;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A checkpoint file that is not a well-formed safetensors file, or holds something Nabla cannot load: the message
 * names the file and what is wrong with it.
 *
 * <p>It is an {@link IOException} because it describes bad input, not a bad call: a program that loads checkpoints
 * already handles {@code IOException} for missing or unreadable files, and a truncated download or a corrupt disk
 * belongs with those, not with the unchecked exceptions that signal programming errors.
 *
 * <pre>{@code
 * try {
 *     Map<String, Tensor> weights = Checkpoint.load(Path.of("model.safetensors"));
 * } catch (CheckpointFormatException e) {
 *     System.err.println(e.getMessage() + " in " + e.file());   // e.g. a truncated download
 * }
 * }</pre>
 */
public class CheckpointFormatException extends IOException {
    private static final long serialVersionUID = 1L;
    private final transient Path file;

    /** A format error in {@code file}; {@code problem} says what is wrong, e.g. "the header is not valid JSON". */
    public CheckpointFormatException(Path file, String problem) {
        super("checkpoint " + file + ": " + problem);
        this.file = file;
    }

    /** As {@link #CheckpointFormatException(Path, String)}, with the exception that revealed the problem. */
    public CheckpointFormatException(Path file, String problem, Throwable cause) {
        super("checkpoint " + file + ": " + problem, cause);
        this.file = file;
    }

    /** The file that could not be read. */
    public Path file() {
        return file;
    }
}
