package dev.nabla.conformance;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.nabla.DType;
import dev.nabla.Device;
import dev.nabla.Shape;
import dev.nabla.Tensor;
import java.util.List;

/**
 * The creation functions of Tensor (no tensor input to draw, so they are exemptions of the op table, see
 * {@link OpCoverageTest}): dtype, shape, device and values of each overload, empty and scalar shapes included, and
 * the copy between devices.
 */
class CreationTest {
    private static void assertTensor(Tensor t, Device d, DType dtype, Shape shape, double[] values) {
        assertEquals(d, t.device(), "device");
        assertEquals(dtype, t.dtype(), "dtype");
        assertEquals(shape, t.shape(), "shape");
        assertArrayEquals(values, t.toDoubleArray(), 0, "values");
    }

    @OnEachDevice
    void scalars(Device d) {
        assertTensor(Tensor.scalar(d, 1.5f), d, DType.FLOAT32, Shape.scalar(), new double[] {1.5});
        assertTensor(Tensor.scalar(d, 0.1), d, DType.FLOAT64, Shape.scalar(), new double[] {0.1});
        assertTensor(Tensor.scalar(d, Integer.MIN_VALUE), d, DType.INT32, Shape.scalar(),
                new double[] {Integer.MIN_VALUE});
        Device def = Device.defaultDevice();
        assertTensor(Tensor.scalar(-2f), def, DType.FLOAT32, Shape.scalar(), new double[] {-2});
        assertTensor(Tensor.scalar(-2.0), def, DType.FLOAT64, Shape.scalar(), new double[] {-2});
        assertTensor(Tensor.scalar(-2), def, DType.INT32, Shape.scalar(), new double[] {-2});
    }

    @OnEachDevice
    void fromArrays(Device d) {
        // no shape (an empty varargs too): 1-D; a shape: row-major; (0, 3) for none
        assertTensor(Tensor.of(d, new float[] {1, 2, 3}), d, DType.FLOAT32, Shape.of(3), new double[] {1, 2, 3});
        assertTensor(Tensor.of(d, new double[] {1, 2, 3, 4, 5, 6}, 2, 3), d, DType.FLOAT64, Shape.of(2, 3),
                new double[] {1, 2, 3, 4, 5, 6});
        assertTensor(Tensor.of(d, new int[] {7}), d, DType.INT32, Shape.of(1), new double[] {7});
        assertTensor(Tensor.of(d, new boolean[] {true, false}), d, DType.BOOL, Shape.of(2), new double[] {1, 0});
        assertTensor(Tensor.of(d, new float[0], 0, 3), d, DType.FLOAT32, Shape.of(0, 3), new double[0]);
        assertTensor(Tensor.of(d, new float[][] {{1, 2}, {3, 4}, {5, 6}}), d, DType.FLOAT32, Shape.of(3, 2),
                new double[] {1, 2, 3, 4, 5, 6});
        Device def = Device.defaultDevice();
        assertTensor(Tensor.of(new float[] {1, 2}, 2, 1), def, DType.FLOAT32, Shape.of(2, 1), new double[] {1, 2});
        assertTensor(Tensor.of(new double[] {1, 2}), def, DType.FLOAT64, Shape.of(2), new double[] {1, 2});
        assertTensor(Tensor.of(new int[] {1, 2}), def, DType.INT32, Shape.of(2), new double[] {1, 2});
        assertTensor(Tensor.of(new boolean[] {true}), def, DType.BOOL, Shape.of(1), new double[] {1});
        assertTensor(Tensor.of(new float[][] {{1}}), def, DType.FLOAT32, Shape.of(1, 1), new double[] {1});
    }

    @OnEachDevice
    void filled(Device d) {
        assertTensor(Tensor.zeros(d, 2, 2), d, DType.FLOAT32, Shape.of(2, 2), new double[4]);
        assertTensor(Tensor.ones(d, 3), d, DType.FLOAT32, Shape.of(3), new double[] {1, 1, 1});
        assertTensor(Tensor.ones(d), d, DType.FLOAT32, Shape.scalar(), new double[] {1});
        assertTensor(Tensor.zeros(d, 0, 4), d, DType.FLOAT32, Shape.of(0, 4), new double[0]);
        for (DType t : List.of(DType.FLOAT32, DType.FLOAT64, DType.INT32, DType.BOOL)) {
            double v = t == DType.BOOL ? 1 : -3;
            assertTensor(Tensor.full(d, v, t, 1, 2), d, t, Shape.of(1, 2), new double[] {v, v});
        }
        assertTensor(Tensor.full(d, 0.1, DType.FLOAT32, 1), d, DType.FLOAT32, Shape.of(1), new double[] {0.1f});
        Device def = Device.defaultDevice();
        assertTensor(Tensor.zeros(2), def, DType.FLOAT32, Shape.of(2), new double[2]);
        assertTensor(Tensor.ones(1, 1), def, DType.FLOAT32, Shape.of(1, 1), new double[] {1});
        assertTensor(Tensor.zeros(DType.INT32, 2), def, DType.INT32, Shape.of(2), new double[2]);
        assertTensor(Tensor.ones(DType.FLOAT64, 2), def, DType.FLOAT64, Shape.of(2), new double[] {1, 1});
        assertTensor(Tensor.full(2.5, DType.FLOAT64, 1), def, DType.FLOAT64, Shape.of(1), new double[] {2.5});
    }

    @OnEachDevice
    void arangeIsInt32ZeroToNMinusOne(Device d) {
        assertTensor(Tensor.arange(d, 4), d, DType.INT32, Shape.of(4), new double[] {0, 1, 2, 3});
        assertTensor(Tensor.arange(d, 0), d, DType.INT32, Shape.of(0), new double[0]);
        assertTensor(Tensor.arange(2), Device.defaultDevice(), DType.INT32, Shape.of(2), new double[] {0, 1});
    }

    @OnEachDevice
    void likeKeepsShapeDtypeAndDevice(Device d) {
        for (DType t : List.of(DType.FLOAT32, DType.FLOAT64, DType.INT32, DType.BOOL)) {
            Tensor x = Tensor.full(d, 1, t, 2, 0, 3);
            assertTensor(Tensor.zerosLike(x), d, t, Shape.of(2, 0, 3), new double[0]);
            Tensor y = Tensor.full(d, 0, t, 3, 1);
            assertTensor(Tensor.onesLike(y), d, t, Shape.of(3, 1), new double[] {1, 1, 1});
            assertTensor(Tensor.zerosLike(Tensor.onesLike(y)), d, t, Shape.of(3, 1), new double[3]);
        }
    }

    @OnEachDevice
    void toDeviceCopiesValuesExactly(Device d) {
        double[] v = {0.1, -0.0, Double.MIN_VALUE, Double.MAX_VALUE, Double.NaN, Double.NEGATIVE_INFINITY};
        Tensor x = Tensor.of(Device.cpu(), v, 2, 3);
        Tensor there = x.to(d);
        assertTensor(there, d, DType.FLOAT64, Shape.of(2, 3), v);
        assertTensor(there.to(Device.cpu()), Device.cpu(), DType.FLOAT64, Shape.of(2, 3), v);
        Tensor ints = Tensor.of(d, new int[] {Integer.MAX_VALUE, -1, 0}, 3, 1);
        assertTensor(ints.to(Device.cpu()), Device.cpu(), DType.INT32, Shape.of(3, 1),
                new double[] {Integer.MAX_VALUE, -1, 0});
        assertTensor(Tensor.of(d, new boolean[] {true, false}).to(Device.cpu()), Device.cpu(), DType.BOOL,
                Shape.of(2), new double[] {1, 0});
    }
}
