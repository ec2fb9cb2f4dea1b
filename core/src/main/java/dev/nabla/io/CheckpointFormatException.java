package dev.nabla.io;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A checkpoint file that is truncated, corrupt, or not a safetensors file Nabla can read. Checked, as the other
 * ways reading a file can fail ({@link IOException}), so callers handle a bad file where they handle a missing one.
 */
public class CheckpointFormatException extends IOException {
    /** A problem with {@code file}, described by {@code message}. */
    public CheckpointFormatException(Path file, String message) {
        super(file + ": " + message);
    }
}
