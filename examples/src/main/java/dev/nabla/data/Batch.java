package dev.nabla.data;

import dev.nabla.Tensor;

/**
 * Inputs and labels of a batch; closing it closes both.
 *
 * @param inputs the inputs, batch first
 * @param labels the INT32 labels, one per input
 */
public record Batch(Tensor inputs, Tensor labels) implements AutoCloseable {
    /** Number of examples. */
    public int size() {
        return (int) labels.shape().dim(0);
    }

    @Override
    public void close() {
        inputs.close();
        labels.close();
    }
}
