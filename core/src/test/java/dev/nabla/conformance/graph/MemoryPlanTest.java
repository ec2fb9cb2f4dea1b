package dev.nabla.conformance.graph;

import static dev.nabla.conformance.graph.FusionTest.random;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nabla.DType;
import dev.nabla.Device;
import dev.nabla.Tensor;
import dev.nabla.conformance.OnEachDevice;
import dev.nabla.graph.GraphFunction;
import dev.nabla.graph.TracedFunction;
import java.util.Random;
import java.util.function.Function;

/**
 * A replayed plan keeps its intermediates in buffers planned from their lifetimes, and values of different sizes
 * share a buffer once the earlier one is dead: a later, smaller value takes the smallest free buffer that holds it,
 * a later, larger one the largest free buffer, grown. Products are used because no pass fuses them away. The plans
 * give eager's bits.
 */
class MemoryPlanTest {

    /**
     * {@code x · w1 · w2 · w3 · w4} with x (8, 64) and each w narrowing or widening the rows; h1, h2 and h3 are the
     * intermediates (the last product is the result, which the call allocates fresh).
     */
    private static TracedFunction chain(Device d, int... widths) {
        Random r = new Random(41);
        Tensor[] w = new Tensor[4];
        int in = 64;
        for (int i = 0; i < 4; i++) {
            w[i] = random(d, DType.FLOAT32, r, in, widths[i]);
            in = widths[i];
        }
        Function<Tensor[], Tensor> body = a -> a[0].matmul(w[0]).matmul(w[1]).matmul(w[2]).matmul(w[3]);
        TracedFunction f = GraphFunction.of("chain", 1, body);
        Tensor x = random(d, DType.FLOAT32, r, 8, 64);
        for (int call = 0; call < 3; call++) {
            assertArrayEquals(body.apply(new Tensor[] {x}).toFloatArray(), f.call(x).toFloatArray(), "call " + call);
        }
        return f;
    }

    private static void assertPlanned(TracedFunction f, int buffers, long floats) {
        String expected = "(" + buffers + " planned buffers, " + floats * Float.BYTES + " bytes)";
        assertTrue(f.listing().contains(expected), expected + " in\n" + f.listing());
    }

    /**
     * h1 (8 × 48), h2 (8 × 32), h3 (8 × 16): h1 dies when h2 is made, and h3 takes h1's buffer: two buffers of 384
     * and 256 floats, where one per size would be three (768 floats).
     */
    @OnEachDevice
    void aSmallerValueTakesTheSmallestFreeBufferThatHoldsIt(Device d) {
        assertPlanned(chain(d, 48, 32, 16, 4), 2, 384 + 256);
    }

    /** h1 (8 × 16), h2 (8 × 32), h3 (8 × 48): h3 takes h1's dead buffer, grown to 384 floats; 256 + 384 in all. */
    @OnEachDevice
    void aLargerValueGrowsTheLargestFreeBuffer(Device d) {
        assertPlanned(chain(d, 16, 32, 48, 4), 2, 256 + 384);
    }

    /** h2 (8 × 8) is made while h1 (8 × 48) is still alive: they cannot share, and h3 (8 × 32) takes h1's buffer. */
    @OnEachDevice
    void liveValuesNeverShare(Device d) {
        Random r = new Random(42);
        Tensor w1 = random(d, DType.FLOAT32, r, 64, 48);
        Tensor w2 = random(d, DType.FLOAT32, r, 48, 8);
        Tensor w3 = random(d, DType.FLOAT32, r, 8, 32);
        Tensor w4 = random(d, DType.FLOAT32, r, 48, 32);
        // h1 is read again after h2 and h3 are made: h1 and h2, then h1 and h3, are alive at once
        Function<Tensor[], Tensor> body = a -> {
            Tensor h1 = a[0].matmul(w1);
            Tensor h3 = h1.matmul(w2).matmul(w3);
            return h3.add(h1.matmul(w4));
        };
        TracedFunction f = GraphFunction.of("overlapping", 1, body);
        Tensor x = random(d, DType.FLOAT32, r, 8, 64);
        for (int call = 0; call < 3; call++) {
            assertArrayEquals(body.apply(new Tensor[] {x}).toFloatArray(), f.call(x).toFloatArray(), "call " + call);
        }
        // h1 (384), h2 (64) and h3 (256) overlap; h1·w4 (256) comes when h2 is dead, and takes its buffer, grown
        // (the smallest free buffer that holds 256 floats: none; the largest free one: h2's)
        assertPlanned(f, 3, 384 + 256 + 256);
    }
}
