package dev.nabla.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import jdk.incubator.vector.VectorShape;
import org.junit.jupiter.api.Test;

/**
 * The build's forced-width and thread-count runs really run at the width and thread count they name (a run that
 * silently used the defaults would prove nothing), and the default is the host's preferred width.
 */
class VectorWidthTest {
    @Test
    void kernelsUseTheConfiguredWidth() {
        String bits = System.getProperty("nabla.cpu.species", "preferred");
        int expected = bits.equals("preferred") ? VectorShape.preferredShape().vectorBitSize() : Integer.parseInt(bits);
        assertEquals(expected, FloatLanes.SPECIES.vectorBitSize(), "float species");
        assertEquals(expected, DoubleLanes.SPECIES.vectorBitSize(), "double species");
        System.out.println("cpu kernels: " + VectorKernels.describeSpecies() + ", " + Parallel.THREADS + " threads, grain "
                + Parallel.ELEMENTWISE_GRAIN);
    }

    @Test
    void parallelLoopsUseTheConfiguredThreadCount() {
        String threads = System.getProperty("nabla.cpu.threads");
        int expected = threads == null ? Runtime.getRuntime().availableProcessors() : Integer.parseInt(threads);
        assertEquals(expected, Parallel.THREADS);
    }
}
