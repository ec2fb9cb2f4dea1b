package dev.nabla.conformance.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.nabla.Device;
import dev.nabla.Rng;
import dev.nabla.Tensor;
import dev.nabla.conformance.OnEachDevice;
import dev.nabla.nn.*;

/**
 * {@code import dev.nabla.nn.*;} then {@code Layer model} compiles: the base class used to be {@code Module}, which
 * clashed with {@code java.lang.Module} ("reference to Module is ambiguous"). This file is the test; it compiles or the
 * build fails.
 */
class WildcardImportTest {
    @OnEachDevice
    void aModelDeclaredThroughTheWildcardImportRuns(Device d) {
        Rng rng = Rng.seeded(1);
        Layer model = new Sequential(new Dense(4, 3, rng, d), new Relu(), new Dense(3, 2, rng, d));
        Tensor out = model.forward(Tensor.zeros(d, 5, 4).add(1));
        assertEquals(Tensor.zeros(d, 5, 2).shape(), out.shape());
        // Dense(4, 3) + Dense(3, 2): 4*3 + 3 + 3*2 + 2 parameters
        assertEquals(23, model.parameters().stream().mapToLong(Tensor::size).sum());
    }
}
