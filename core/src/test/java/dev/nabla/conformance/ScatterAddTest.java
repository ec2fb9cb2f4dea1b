package dev.nabla.conformance;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nabla.DType;
import dev.nabla.Device;
import dev.nabla.GradientTape;
import dev.nabla.Shape;
import dev.nabla.Tensor;
import dev.nabla.check.GradientChecker;
import dev.nabla.ops.Indexing;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * The public {@link Indexing#scatterAdd}, called directly (elsewhere it only runs as gather's gradient):
 * out = zeros(shape); out[o, idx[m], i] += updates[o, m, i] for every outer index o (the axes before
 * {@code axis}), index position m (over the indices' shape) and inner index i (the axes after it), so repeated
 * indices add up.
 */
class ScatterAddTest {
    /** A random case: the target shape, the axis, the indices (shape and values) and the updates' shape. */
    private record Case(long[] shape, int axis, long[] indexShape, int[] indices) {
        long outer() {
            return Arrays.stream(shape, 0, axis).reduce(1, (a, b) -> a * b);
        }

        long inner() {
            return Arrays.stream(shape, axis + 1, shape.length).reduce(1, (a, b) -> a * b);
        }

        long[] updatesShape() {
            long[] u = new long[shape.length - 1 + indexShape.length];
            System.arraycopy(shape, 0, u, 0, axis);
            System.arraycopy(indexShape, 0, u, axis, indexShape.length);
            System.arraycopy(shape, axis + 1, u, axis + indexShape.length, shape.length - axis - 1);
            return u;
        }

        @Override
        public String toString() {
            return "shape " + Arrays.toString(shape) + " axis " + axis + " indices " + Arrays.toString(indexShape)
                    + " " + Arrays.toString(indices);
        }
    }

    private static List<Case> cases() {
        Random r = new Random(99);
        List<Case> list = new java.util.ArrayList<>();
        for (int k = 0; k < 14; k++) {
            int rank = 1 + r.nextInt(3);
            long[] shape = new long[rank];
            for (int i = 0; i < rank; i++) {
                shape[i] = 1 + r.nextInt(4);
            }
            int axis = r.nextInt(rank);
            int indexRank = r.nextInt(3);               // 0: a scalar index
            long[] indexShape = new long[indexRank];
            int count = 1;
            for (int i = 0; i < indexRank; i++) {
                indexShape[i] = 1 + r.nextInt(5);
                count *= (int) indexShape[i];
            }
            int[] idx = new int[count];
            for (int i = 0; i < count; i++) {
                idx[i] = r.nextInt((int) shape[axis]);  // few distinct values: repeats are the rule
            }
            list.add(new Case(shape, axis, indexShape, idx));
        }
        // a case that certainly repeats: 6 indices into an axis of 2
        list.add(new Case(new long[] {3, 2, 2}, 1, new long[] {2, 3}, new int[] {1, 1, 0, 1, 0, 1}));
        return list;
    }

    private static Tensor indices(Device d, Case c) {
        Tensor flat = Tensor.of(d, c.indices);
        return flat.reshape(c.indexShape);
    }

    private static double[] reference(Case c, double[] updates) {
        long outer = c.outer();
        long inner = c.inner();
        int m = c.indices.length;
        long axisSize = c.shape[c.axis];
        double[] out = new double[(int) (outer * axisSize * inner)];
        for (int o = 0; o < outer; o++) {
            for (int j = 0; j < m; j++) {
                for (int i = 0; i < inner; i++) {
                    out[(int) ((o * axisSize + c.indices[j]) * inner + i)] += updates[(int) ((o * m + j) * inner + i)];
                }
            }
        }
        return out;
    }

    @OnEachDevice
    void handWorkedExamples(Device d) {
        // positions 1, 3, 1, 1 receive 1, 2, 3, 4: position 1 gets 1 + 3 + 4 = 8, position 3 gets 2
        Tensor a = Indexing.scatterAdd(Shape.of(5), 0, Tensor.of(d, new int[] {1, 3, 1, 1}),
                Tensor.of(d, new float[] {1, 2, 3, 4}));
        assertEquals(DType.FLOAT32, a.dtype());
        assertArrayEquals(new float[] {0, 8, 0, 2, 0}, a.toFloatArray());
        // along axis 1 of (2, 3) with indices (2, 2, 0): row r gets u[r][0] + u[r][1] in column 2, u[r][2] in 0
        Tensor b = Indexing.scatterAdd(Shape.of(2, 3), 1, Tensor.of(d, new int[] {2, 2, 0}),
                Tensor.of(d, new double[] {1, 2, 3, 4, 5, 6}, 2, 3));
        assertArrayEquals(new double[] {3, 0, 3, 6, 0, 9}, b.toDoubleArray());
        // INT32 updates add as integers
        Tensor c = Indexing.scatterAdd(Shape.of(3), 0, Tensor.of(d, new int[] {0, 0, 2}), Tensor.of(d,
                new int[] {5, -7, 11}));
        assertEquals(DType.INT32, c.dtype());
        assertArrayEquals(new int[] {-2, 0, 11}, c.toIntArray());
    }

    @OnEachDevice
    void randomShapesAxesAndRepeatedIndicesMatchTheLoop(Device d) {
        long seed = 5;
        for (Case c : cases()) {
            for (DType t : new DType[] {DType.FLOAT32, DType.FLOAT64, DType.INT32}) {
                Random r = new Random(seed++);
                long[] us = c.updatesShape();
                int size = (int) Arrays.stream(us).reduce(1, (a, b) -> a * b);
                double[] u = new double[size];
                for (int i = 0; i < size; i++) {
                    u[i] = t == DType.INT32 ? r.nextInt(21) - 10 : r.nextGaussian();
                }
                u = DeviceTensors.representable(t, u);
                Tensor updates = DeviceTensors.of(d, t, us, u);
                Tensor out = Indexing.scatterAdd(Shape.of(c.shape), c.axis, indices(d, c), updates);
                assertEquals(Shape.of(c.shape), out.shape(), c.toString());
                assertEquals(t, out.dtype(), c.toString());
                assertArrayEquals(reference(c, u), out.toDoubleArray(), t == DType.FLOAT32 ? 1e-5 : 1e-12,
                        c + " " + t);
            }
        }
    }

    /**
     * A list of single elements longer than the CPU's parallel grain (max pooling's gradient is one), repeats
     * included: each element gets its terms in list order, so float32 matches the ordered sum exactly on every device.
     */
    @OnEachDevice
    void aLongListAddsEachElementsTermsInListOrder(Device d) {
        int size = 50_000;
        int count = 300_000;
        Random r = new Random(7);
        int[] idx = new int[count];
        float[] u = new float[count];
        float[] expected = new float[size];
        for (int j = 0; j < count; j++) {
            idx[j] = r.nextInt(size);
            u[j] = (float) r.nextGaussian();
            expected[idx[j]] += u[j];
        }
        float[] got = Indexing.scatterAdd(Shape.of(size), 0, Tensor.of(d, idx), Tensor.of(d, u)).toFloatArray();
        // the same bits on every device: a GPU's atomic adds (any order) passed only within 1e-4 here
        assertArrayEquals(expected, got);
    }

    @OnEachDevice
    void theGradientGathersTheOutputGradientAtTheIndices(Device d) {
        long seed = 50;
        for (Case c : cases()) {
            Tensor updates = DeviceTensors.of(d, DType.FLOAT64, c.updatesShape(), new Random(seed++)
                    .doubles(Arrays.stream(c.updatesShape()).reduce(1, (a, b) -> a * b)).toArray());
            double[] up = new Random(seed++).doubles(Arrays.stream(c.shape).reduce(1, (a, b) -> a * b)).toArray();
            try (GradientTape tape = new GradientTape()) {
                tape.watch(updates);
                Tensor out = Indexing.scatterAdd(Shape.of(c.shape), c.axis, indices(d, c), updates);
                double[] g = tape.gradient(out, updates, Tensor.of(d, up).reshape(c.shape)).toDoubleArray();
                // d sum(up · out) / d updates[o, m, i] = up[o, idx[m], i]
                long inner = c.inner();
                int m = c.indices.length;
                long axisSize = c.shape[c.axis];
                double[] expected = new double[g.length];
                for (int o = 0; o < c.outer(); o++) {
                    for (int j = 0; j < m; j++) {
                        for (int i = 0; i < inner; i++) {
                            expected[(int) ((o * m + j) * inner + i)] = up[(int) ((o * axisSize + c.indices[j]) * inner
                                    + i)];
                        }
                    }
                }
                assertArrayEquals(expected, g, 0, c.toString());
            }
        }
    }

    @OnEachDevice
    void gradientPassesTheChecker(Device d) {
        for (Case c : cases().subList(0, 6)) {
            for (DType t : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
                Tensor updates = DeviceTensors.of(d, t, c.updatesShape(), new Random(3)
                        .doubles(Arrays.stream(c.updatesShape()).reduce(1, (a, b) -> a * b)).toArray());
                // squared, so the checker sees a non-constant Jacobian; the INT32 indices pass through undifferentiated
                GradientChecker.check(in -> Indexing.scatterAdd(Shape.of(c.shape), c.axis, in.get(1), in.get(0))
                        .square(), List.of(updates, indices(d, c))).assertWithin(1e-6);
            }
        }
    }

    @OnEachDevice
    void aNegativeAxisCountsFromTheEnd(Device d) {
        // as gather: axis -1 of (2, 3) is axis 1
        Tensor idx = Tensor.of(d, new int[] {2, 2, 0});
        Tensor u = Tensor.of(d, new double[] {1, 2, 3, 4, 5, 6}, 2, 3);
        assertArrayEquals(Indexing.scatterAdd(Shape.of(2, 3), 1, idx, u).toDoubleArray(),
                Indexing.scatterAdd(Shape.of(2, 3), -1, idx, u).toDoubleArray());
        try (GradientTape tape = new GradientTape()) {
            tape.watch(u);
            Tensor out = Indexing.scatterAdd(Shape.of(2, 3), -1, idx, u);
            // d sum(out · [[1, 2, 3], [4, 5, 6]]) / d u[r][m] = up[r][idx[m]]
            assertArrayEquals(new double[] {3, 3, 1, 6, 6, 4}, tape.gradient(out, u, Tensor.of(d,
                    new double[] {1, 2, 3, 4, 5, 6}, 2, 3)).toDoubleArray());
        }
    }

    /**
     * An index out of range raises at the op on the CPU, and at the latest at the next read of a result on an
     * asynchronous device, so those rows read the result inside the assertion.
     */
    @OnEachDevice
    void badArgumentsAreIllegalArgumentsNamingTheOp(Device d) {
        Tensor u = Tensor.of(d, new float[] {1, 2, 3});
        List<Runnable> bad = List.of(
                () -> Indexing.scatterAdd(Shape.of(4), 0, Tensor.of(d, new int[] {0, 4, 1}), u)     // index 4 of 4
                        .toFloatArray(),
                () -> Indexing.scatterAdd(Shape.of(4), 0, Tensor.of(d, new int[] {0, -1, 1}), u)    // negative index
                        .toFloatArray(),
                () -> Indexing.scatterAdd(Shape.of(4), 0, Tensor.of(d, new int[] {0, 1}), u),       // 2 indices, 3 updates
                () -> Indexing.scatterAdd(Shape.of(4), 0, Tensor.of(d, new float[] {0, 1, 2}), u),  // float indices
                () -> Indexing.scatterAdd(Shape.of(4), 1, Tensor.of(d, new int[] {0, 1, 2}), u),    // axis 1 of rank 1
                () -> Indexing.scatterAdd(Shape.of(4), -2, Tensor.of(d, new int[] {0, 1, 2}), u));  // axis -2
        for (Runnable r : bad) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::run);
            assertTrue(e.getMessage().startsWith("scatterAdd: "), e.getMessage());
        }
    }
}
