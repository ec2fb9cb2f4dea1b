package dev.nabla.data;

import dev.nabla.Tensor;

/**
 * Inputs and labels of a batch; closing it closes both. The caller owns the tensors: closing frees their buffers at
 * once, otherwise the garbage collector frees them later (which on a GPU can hold memory for a while):
 * <pre>{@code
 * for (Batch batch : loader) {
 *     try (batch) {
 *         // train on batch.inputs(), batch.labels()
 *     }
 * }
 * }</pre>
 *
 * @param inputs the inputs, batch first
 * @param labels the INT32 labels, one per input
 */
public record Batch(Tensor inputs, Tensor labels) implements AutoCloseable {
    /** Builds a batch; labels have rank 1 and as many entries as inputs along axis 0. */
    public Batch {
        if (inputs.rank() == 0 || labels.rank() != 1 || inputs.shape().dim(0) != labels.shape().dim(0)) {
            throw new IllegalArgumentException("Batch: inputs " + inputs.shape() + " and labels " + labels.shape()
                    + " must share their first dimension, labels of rank 1");
        }
    }

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
