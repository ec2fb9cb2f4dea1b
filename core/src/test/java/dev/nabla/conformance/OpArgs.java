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

    /** pad's result shape and where the input goes. */
    record Pad(long[] shape, long[] begin) {
        /** The zeros behind each axis of an input of {@code in}. */
        long[] after(Shape in) {
            long[] after = new long[shape.length];
            for (int i = 0; i < after.length; i++) {
                after[i] = shape[i] - begin[i] - in.dim(i);
            }
            return after;
        }

        @Override
        public String toString() {
            return "shape=" + Shape.format(shape) + " begin=" + Arrays.toString(begin);
        }
    }

    /** scatterAdd's result shape, axis and INT32 indices (values and shape). */
    record Scatter(long[] shape, int axis, int[] indices, long[] indicesShape) {
        @Override
        public String toString() {
            return "shape=" + Shape.format(shape) + " axis=" + axis + " indices=" + Arrays.toString(indices)
                    + Shape.format(indicesShape);
        }
    }

    /** conv2d's stride and padding ("valid" or "same"); the bias is there when the case has a third input. */
    record Conv(int stride, String padding) {
        @Override
        public String toString() {
            return "stride=" + stride + " " + padding;
        }
    }

    /** The geometry of im2col and col2im. */
    record Windows(dev.nabla.backend.WindowGeometry geometry) {
        @Override
        public String toString() {
            dev.nabla.backend.WindowGeometry g = geometry;
            return "kernel=(" + g.kernelH() + ", " + g.kernelW() + ") stride=" + g.stride() + " pad=(" + g.padTop()
                    + ", " + g.padLeft() + ") out=(" + g.outH() + ", " + g.outW() + ")";
        }
    }

    /** A pooling window and stride; {@code defaultStride}: the layer is built with its one-argument constructor. */
    record Pool(int size, int stride, boolean defaultStride) {
        @Override
        public String toString() {
            return "size=" + size + " stride=" + stride + (defaultStride ? " (default)" : "");
        }
    }

    /** softmaxCrossEntropy's INT32 class labels, one per row. */
    record Labels(int[] labels) {
        @Override
        public String toString() {
            return "labels=" + Arrays.toString(labels);
        }
    }

    /**
     * Target probability rows of the logits' shape (row-major); {@code dispatch}: passed to softmaxCrossEntropy,
     * which hands float targets on to softmaxCrossEntropyWithProbabilities.
     */
    record Targets(double[] values, boolean dispatch) {
        @Override
        public String toString() {
            return "targets=" + Arrays.toString(values) + (dispatch ? " via softmaxCrossEntropy" : "");
        }
    }

    /** BatchNorm's mode and epsilon. */
    record Norm(boolean training, double epsilon) {
        @Override
        public String toString() {
            return (training ? "training" : "evaluation") + " epsilon=" + epsilon;
        }
    }

    /** dropout's rate, mode and the seed of its Rng. */
    record Drop(double rate, boolean training, long seed) {
        @Override
        public String toString() {
            return "rate=" + rate + (training ? " training" : " evaluation") + " seed=" + seed;
        }
    }
}
