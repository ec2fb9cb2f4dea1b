package dev.nabla.conformance.memory;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nabla.DType;
import dev.nabla.Device;
import dev.nabla.backend.Backend;
import dev.nabla.backend.Backends;
import dev.nabla.backend.Buffer;
import dev.nabla.backend.UnaryOp;
import dev.nabla.conformance.OnEachDevice;
import org.junit.jupiter.api.Assumptions;

/**
 * {@code Backend.prefix}, the views a traced plan keeps its smaller values in: the first elements of a buffer,
 * written and read through either; releasing the view leaves the buffer alone, and the view is refused once the
 * buffer is released.
 */
class BufferPrefixTest {

    @OnEachDevice
    void aPrefixSharesTheFirstElementsOfItsBuffer(Device d) {
        Backend backend = Backends.get(d);
        Assumptions.assumeTrue(backend.hasPrefixViews(), d + " has no prefix views");
        Buffer whole = backend.upload(new float[] {1, 2, 3, 4, 5, 6, 7, 8}, DType.FLOAT32);
        Buffer head = backend.prefix(whole, 3);
        assertEquals(3, head.size());
        assertEquals(DType.FLOAT32, head.dtype());
        assertFalse(head.requiresRelease(), "the buffer's owner releases it");
        assertArrayEquals(new float[] {1, 2, 3}, backend.readFloats(head));

        backend.unary(UnaryOp.NEG, head, head);
        assertArrayEquals(new float[] {-1, -2, -3, 4, 5, 6, 7, 8}, backend.readFloats(whole));
        Buffer all = backend.prefix(whole, 7);
        assertArrayEquals(new float[] {-1, -2, -3, 4, 5, 6, 7}, backend.readFloats(all));
        assertArrayEquals(new float[] {-1, -2}, backend.readFloats(backend.prefix(head, 2)));
        assertThrows(IllegalArgumentException.class, () -> backend.prefix(head, 4), "no longer than the buffer");

        head.release();
        assertArrayEquals(new float[] {-1, -2, -3, 4, 5, 6, 7, 8}, backend.readFloats(whole), "still the owner's");
        assertThrows(IllegalArgumentException.class, () -> backend.prefix(whole, 9));
        assertThrows(IllegalArgumentException.class, () -> backend.prefix(whole, -1));

        whole.release();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> backend.readFloats(all));
        assertTrue(e.getMessage().contains("after release"), e.getMessage());
    }
}
