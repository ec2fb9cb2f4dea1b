package dev.nabla.conformance;

import dev.nabla.Shape;
import java.util.Arrays;

/** The arguments besides tensors that some ops take, one record per kind; each prints readably in failures. */
final class OpArgs {
    private OpArgs() {
    }

    /** Reduction axes ({@code null}: all, through the no-argument overload) and keepDims. */
    record Axes(int[] axes, boolean keepDims) {
        @Override
        public String toString() {
            return "axes=" + (axes == null ? "all" : Arrays.toString(axes)) + (keepDims ? " keepDims" : "");
        }
    }

    /** A single axis (softmax, argmax, expandDims, concat...). */
    record Axis(int axis) {
        @Override
        public String toString() {
            return "axis=" + axis;
        }
    }

    /** A list of axes or dimensions (permute, squeeze, reshape, broadcastTo). */
    record Dims(long[] dims) {
        int[] ints() {
            return Arrays.stream(dims).mapToInt(d -> (int) d).toArray();
        }

        @Override
        public String toString() {
            return "dims=" + Arrays.toString(dims);
        }
    }

    /** slice's begin and size (-1: to the end). */
    record Slice(long[] begin, long[] size) {
        @Override
        public String toString() {
            return "begin=" + Arrays.toString(begin) + " size=" + Arrays.toString(size);
        }
    }

    /** gather's INT32 indices (values and shape) and axis. */
    record Gather(int[] indices, long[] indicesShape, int axis) {
        @Override
        public String toString() {
            return "indices=" + Arrays.toString(indices) + Shape.format(indicesShape) + " axis=" + axis;
        }
    }

    /** where's BOOL condition (values and shape). */
    record Condition(boolean[] values, long[] shape) {
        @Override
        public String toString() {
            return "cond=" + Arrays.toString(values) + Shape.format(shape);
        }
    }

    /** oneHot's depth. */
    record Depth(int depth) {
        @Override
        public String toString() {
            return "depth=" + depth;
        }
    }
}
