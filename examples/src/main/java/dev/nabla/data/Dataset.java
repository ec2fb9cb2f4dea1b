package dev.nabla.data;

import dev.nabla.Device;

/**
 * Examples addressable by index, materialised in batches.
 *
 * <pre>{@code
 * Dataset train = Mnist.load().train();
 * Batch first = train.batch(new int[] {0, 1, 2}, Device.cpu());
 * }</pre>
 */
public interface Dataset {
    /** Number of examples. */
    int size();

    /** The examples at {@code indices}, in that order, as tensors on {@code device}. */
    Batch batch(int[] indices, Device device);

    /** {@link #batch(int[], Device)} on {@link Device#defaultDevice()}. */
    default Batch batch(int[] indices) {
        return batch(indices, Device.defaultDevice());
    }
}
