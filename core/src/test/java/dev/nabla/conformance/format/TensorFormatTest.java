package dev.nabla.conformance.format;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.nabla.Device;
import dev.nabla.Tensor;
import dev.nabla.conformance.OnEachDevice;

/** Text forms, compared with what TensorFlow (NumPy's array printing) prints for the same values. */
class TensorFormatTest {
    @OnEachDevice
    void scalars(Device d) {
        assertEquals("Tensor(10.0, shape=(), dtype=float32)", Tensor.scalar(d, 10f).toString());
        assertEquals("Tensor(0.93360007, shape=(), dtype=float32)", Tensor.scalar(d, 0.93360007f).toString());
        assertEquals("Tensor(1e-05, shape=(), dtype=float32)", Tensor.scalar(d, 1e-5f).toString());
        assertEquals("Tensor(-2.5, shape=(), dtype=float64)", Tensor.scalar(d, -2.5).toString());
        assertEquals("Tensor(7, shape=(), dtype=int32)", Tensor.scalar(d, 7).toString());
        assertEquals("Tensor(True, shape=(), dtype=bool)", Tensor.scalar(d, 1f).gt(0).toString());
    }

    @OnEachDevice
    void floatRowsShareOneWidth(Device d) {
        assertEquals("Tensor([[10.      20.      30.46464]], shape=(1, 3), dtype=float32)",
                Tensor.of(d, new float[] {10, 20, 30.46464f}, 1, 3).toString());
        assertEquals("Tensor([1. 2.], shape=(2,), dtype=float32)", Tensor.of(d, new float[] {1, 2}).toString());
        assertEquals("Tensor([0.5  1.25], shape=(2,), dtype=float32)",
                Tensor.of(d, new float[] {0.5f, 1.25f}).toString());
        assertEquals("Tensor([-0.5  2. ], shape=(2,), dtype=float32)",
                Tensor.of(d, new float[] {-0.5f, 2f}).toString());
        assertEquals("Tensor([nan  1.], shape=(2,), dtype=float32)",
                Tensor.of(d, new float[] {Float.NaN, 1f}).toString());
    }

    @OnEachDevice
    void farApartMagnitudesUseScientificNotation(Device d) {
        assertEquals("Tensor([1.e-05 1.e+00], shape=(2,), dtype=float32)",
                Tensor.of(d, new float[] {1e-5f, 1f}).toString());
    }

    @OnEachDevice
    void matricesBreakLines(Device d) {
        assertEquals("Tensor(\n[[1. 2.]\n [3. 4.]], shape=(2, 2), dtype=float32)",
                Tensor.of(d, new float[] {1, 2, 3, 4}, 2, 2).toString());
        assertEquals("Tensor(\n[[[1 2]\n  [3 4]]\n\n [[5 6]\n  [7 8]]], shape=(2, 2, 2), dtype=int32)",
                Tensor.of(d, new int[] {1, 2, 3, 4, 5, 6, 7, 8}, 2, 2, 2).toString());
    }

    @OnEachDevice
    void integersAndBooleansAlignRight(Device d) {
        assertEquals("Tensor([  1  20 300], shape=(3,), dtype=int32)",
                Tensor.of(d, new int[] {1, 20, 300}).toString());
        assertEquals("Tensor([ True False], shape=(2,), dtype=bool)",
                Tensor.of(d, new boolean[] {true, false}).toString());
    }

    @OnEachDevice
    void largeTensorsAreSummarised(Device d) {
        assertEquals("Tensor([   0    1    2 ... 1997 1998 1999], shape=(2000,), dtype=int32)",
                Tensor.arange(d, 2000).toString());
        assertEquals("Tensor([0.000e+00 1.000e+00 2.000e+00 ... 1.997e+03 1.998e+03 1.999e+03], shape=(2000,),"
                + " dtype=float64)", Tensor.arange(d, 2000).to(dev.nabla.DType.FLOAT64).toString());
    }

    @OnEachDevice
    void emptyTensors(Device d) {
        assertEquals("Tensor([], shape=(0,), dtype=float32)", Tensor.zeros(d, 0).toString());
    }
}
