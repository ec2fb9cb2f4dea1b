package dev.nabla.conformance;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.nabla.Device;
import dev.nabla.Tensor;

class SmokeTest {
    @OnEachDevice
    void addsOnDevice(Device d) {
        Tensor a = Tensor.of(d, new float[] {1, 2, 3});
        assertArrayEquals(new float[] {2, 4, 6}, a.add(a).toFloatArray());
    }
}
