package dev.nabla.conformance;

import dev.nabla.Shape;
import dev.nabla.Tensor;
import java.util.Arrays;
import java.util.function.DoubleBinaryOperator;
import java.util.function.DoubleUnaryOperator;
import java.util.function.ToDoubleFunction;

/**
 * A row-major array of doubles with a shape, held on the host: what the scalar references in {@link OpTable}
 * compute on. Written from scratch here (index arithmetic and plain loops), independent of core's kernels.
 */
record HostTensor(long[] shape, double[] data) {
    HostTensor {
        if (sizeOf(shape) != data.length) {
            throw new IllegalArgumentException(data.length + " values for shape " + Shape.format(shape));
        }
    }

    /** A host copy of a device tensor's values (for comparisons, never as a reference). */
    static HostTensor of(Tensor t) {
        return new HostTensor(t.shape().dims(), t.toDoubleArray());
    }

    static long sizeOf(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    int rank() {
        return shape.length;
    }

    /** The flat row-major position of a multi-index. */
    static int flatIndex(long[] index, long[] shape) {
        long flat = 0;
        for (int i = 0; i < shape.length; i++) {
            flat = flat * shape[i] + index[i];
        }
        return (int) flat;
    }

    /** The multi-index of a flat row-major position. */
    static long[] multiIndex(long flat, long[] shape) {
        long[] index = new long[shape.length];
        for (int i = shape.length - 1; i >= 0; i--) {
            index[i] = flat % shape[i];
            flat /= shape[i];
        }
        return index;
    }

    double at(long... index) {
        return data[flatIndex(index, shape)];
    }

    /** The array of {@code shape} whose element at each multi-index is {@code valueAt(index)}. */
    static HostTensor generate(long[] shape, ToDoubleFunction<long[]> valueAt) {
        double[] out = new double[(int) sizeOf(shape)];
        for (int i = 0; i < out.length; i++) {
            out[i] = valueAt.applyAsDouble(multiIndex(i, shape));
        }
        return new HostTensor(shape.clone(), out);
    }

    HostTensor map(DoubleUnaryOperator f) {
        return new HostTensor(shape.clone(), Arrays.stream(data).map(f).toArray());
    }

    HostTensor withShape(long... newShape) {
        return new HostTensor(newShape.clone(), data.clone());
    }

    /** NumPy's broadcast shape, or null when the shapes do not broadcast. */
    static long[] broadcastShape(long[]... shapes) {
        int rank = 0;
        for (long[] s : shapes) {
            rank = Math.max(rank, s.length);
        }
        long[] out = new long[rank];
        Arrays.fill(out, 1);
        for (long[] s : shapes) {
            for (int i = 0; i < s.length; i++) {
                int o = rank - s.length + i;
                if (s[i] != 1) {
                    if (out[o] != 1 && out[o] != s[i]) {
                        return null;
                    }
                    out[o] = s[i];
                }
            }
        }
        return out;
    }

    /** This array read at an index of a (possibly higher-rank) shape it broadcasts to. */
    double atBroadcast(long[] outIndex) {
        long[] own = new long[shape.length];
        int lead = outIndex.length - shape.length;
        for (int i = 0; i < shape.length; i++) {
            own[i] = shape[i] == 1 ? 0 : outIndex[lead + i];
        }
        return at(own);
    }

    /** {@code f(a, b)} element-wise with NumPy broadcasting. */
    static HostTensor broadcast(HostTensor a, HostTensor b, DoubleBinaryOperator f) {
        long[] out = broadcastShape(a.shape, b.shape);
        return generate(out, i -> f.applyAsDouble(a.atBroadcast(i), b.atBroadcast(i)));
    }

    /**
     * Reduces over {@code axes} (non-negative, distinct): {@code f} receives the values of each reduced group in
     * row-major order. The result keeps the reduced axes as size 1 when {@code keepDims}, else drops them.
     */
    HostTensor reduce(int[] axes, boolean keepDims, ToDoubleFunction<double[]> f) {
        boolean[] reduced = new boolean[rank()];
        for (int a : axes) {
            reduced[a] = true;
        }
        long[] kept = shape.clone();
        long[] groupShape = new long[axes.length];
        int g = 0;
        for (int i = 0; i < rank(); i++) {
            if (reduced[i]) {
                kept[i] = 1;
                groupShape[g++] = shape[i];
            }
        }
        int groupSize = (int) sizeOf(groupShape);
        HostTensor result = generate(kept, outIndex -> {
            double[] group = new double[groupSize];
            for (int k = 0; k < groupSize; k++) {
                long[] inner = multiIndex(k, groupShape);
                long[] index = outIndex.clone();
                int j = 0;
                for (int i = 0; i < rank(); i++) {
                    if (reduced[i]) {
                        index[i] = inner[j++];
                    }
                }
                group[k] = at(index);
            }
            return f.applyAsDouble(group);
        });
        if (keepDims) {
            return result;
        }
        return result.withShape(Arrays.stream(range(rank())).filter(i -> !reduced[i]).mapToLong(i -> shape[i])
                .toArray());
    }

    static int[] range(int n) {
        int[] r = new int[n];
        Arrays.setAll(r, i -> i);
        return r;
    }

    @Override
    public String toString() {
        return "HostTensor" + Shape.format(shape) + Arrays.toString(data);
    }
}
