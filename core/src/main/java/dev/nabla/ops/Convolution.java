package dev.nabla.ops;

import dev.nabla.DType;
import dev.nabla.Shape;
import dev.nabla.Tensor;
import dev.nabla.backend.Backend;
import dev.nabla.backend.Buffer;
import dev.nabla.backend.WindowGeometry;
import dev.nabla.internal.TensorAccess;

/**
 * The sliding-window primitives under convolution and pooling: im2col (an image's windows as the columns of a
 * matrix, {@link WindowGeometry} gives the layout) and its adjoint col2im, each the other's gradient; and max-pool's
 * pair, the gather of the values at each window's maximum and its adjoint, the scatter to those positions. So
 * convolutions and pooling differentiate to any order.
 */
public final class Convolution {
    private Convolution() {
    }

    /** The NCHW input shape of {@code g}. */
    public static Shape inputShape(WindowGeometry g) {
        return Shape.of(g.images(), g.channels(), g.height(), g.width());
    }

    /** The column matrix's shape, {@code (C·KH·KW, N·OH·OW)}. */
    public static Shape columnsShape(WindowGeometry g) {
        return Shape.of(g.rows(), g.columns());
    }

    /** The windows of {@code x} (N, C, H, W) as columns {@code (C·KH·KW, N·OH·OW)}, zero in the padding. */
    public static Tensor im2col(Tensor x, WindowGeometry g) {
        String op = "im2col";
        TensorAccess.storage(x, op);
        Checks.notBool(op, x);
        if (!x.shape().equals(inputShape(g))) {
            throw new IllegalArgumentException(op + ": input " + x.shape() + " does not match the windows' image "
                    + inputShape(g));
        }
        return Dispatch.apply(new Im2Col(g, columnsShape(g), x.dtype()), x);
    }

    /** The adjoint of {@link #im2col}: each input element gets the sum of the column elements copied from it. */
    public static Tensor col2im(Tensor cols, WindowGeometry g) {
        String op = "col2im";
        TensorAccess.storage(cols, op);
        Checks.notBool(op, cols);
        if (!cols.shape().equals(columnsShape(g))) {
            throw new IllegalArgumentException(op + ": columns " + cols.shape() + " do not match the windows' "
                    + columnsShape(g));
        }
        return Dispatch.apply(new Col2Im(g, inputShape(g), cols.dtype()), cols);
    }

    /** The im2col primitive; its gradient is the col2im of {@code g}. */
    public record Im2Col(WindowGeometry geometry, Shape shape, DType dtype) implements Primitive {
        @Override public String name() { return "im2col"; }
        @Override public Recording recording() { return Recording.LINEAR; }
        @Override public String attributes() { return attributesOf(geometry); }
        @Override public void compute(Backend b, Buffer[] in, Buffer out) {
            b.im2col(geometry, in[0], out);
        }
        @Override public Tensor[] gradient(Tensor[] in, Tensor out, Tensor g, boolean[] needed) {
            return new Tensor[] {col2im(g, geometry)};
        }
    }

    /** The col2im primitive; its gradient is the im2col of {@code g}. */
    public record Col2Im(WindowGeometry geometry, Shape shape, DType dtype) implements Primitive {
        @Override public String name() { return "col2im"; }
        @Override public Recording recording() { return Recording.LINEAR; }
        @Override public String attributes() { return attributesOf(geometry); }
        @Override public void compute(Backend b, Buffer[] in, Buffer out) {
            b.col2im(geometry, in[0], out);
        }
        @Override public Tensor[] gradient(Tensor[] in, Tensor out, Tensor g, boolean[] needed) {
            return new Tensor[] {im2col(g, geometry)};
        }
    }

    /** The pooled shape of a plane geometry: {@code (planes, OH, OW)}. */
    public static Shape pooledShape(WindowGeometry g) {
        return Shape.of(g.images(), g.outH(), g.outW());
    }

    /**
     * The max-pool of the planes of {@code x} (N, 1, H, W), one channel per plane, no padding: (N, OH, OW). Its
     * gradient goes to each window's first maximum (TF's and PyTorch's rule), not split between ties.
     */
    public static Tensor maxPool(Tensor x, WindowGeometry g) {
        return maxPoolGather(x, x, g);
    }

    /**
     * For each window of {@code g}, the element of {@code values} at the position of the window's first maximum in
     * {@code x}: the max-pool when {@code values} is {@code x}, and the gradient of {@link #maxPoolScatter}.
     */
    public static Tensor maxPoolGather(Tensor x, Tensor values, WindowGeometry g) {
        String op = "maxPoolGather";
        checkPoolInputs(op, x, values, inputShape(g), g);
        return Dispatch.apply(new MaxPoolGather(g, pooledShape(g), values.dtype()), x, values);
    }

    /**
     * The adjoint of {@link #maxPoolGather} in its values: zeros of {@code x}'s shape with each of {@code grads}
     * (N, OH, OW) added at its window's first maximum in {@code x}; max-pool's gradient.
     */
    public static Tensor maxPoolScatter(Tensor x, Tensor grads, WindowGeometry g) {
        String op = "maxPoolScatter";
        checkPoolInputs(op, x, grads, pooledShape(g), g);
        return Dispatch.apply(new MaxPoolScatter(g, inputShape(g), grads.dtype()), x, grads);
    }

    private static void checkPoolInputs(String op, Tensor x, Tensor other, Shape otherShape, WindowGeometry g) {
        TensorAccess.storage(x, op);
        TensorAccess.storage(other, op);
        Checks.notBool(op, x);
        Checks.sameDeviceAndDtype(op, x, other);
        if (g.channels() != 1 || g.padTop() != 0 || g.padLeft() != 0
                || (long) (g.outH() - 1) * g.stride() + g.kernelH() > g.height()
                || (long) (g.outW() - 1) * g.stride() + g.kernelW() > g.width()) {
            throw new IllegalArgumentException(op + ": pools one channel per plane with windows inside the image, got "
                    + g);
        }
        if (!x.shape().equals(inputShape(g)) || !other.shape().equals(otherShape)) {
            throw new IllegalArgumentException(op + ": inputs " + x.shape() + " and " + other.shape()
                    + " do not match the windows' " + inputShape(g) + " and " + otherShape);
        }
    }

    /** The max-pool selection (inputs: x, values); the gradient of values is the scatter of {@code g}. */
    public record MaxPoolGather(WindowGeometry geometry, Shape shape, DType dtype) implements Primitive {
        @Override public String name() { return "maxPoolGather"; }
        @Override public Recording recording() { return Recording.SAVES_INPUTS; }
        @Override public String attributes() { return attributesOf(geometry); }
        @Override public void compute(Backend b, Buffer[] in, Buffer out) {
            b.maxPoolGather(geometry, in[0], in[1], out);
        }
        @Override public Tensor[] gradient(Tensor[] in, Tensor out, Tensor g, boolean[] needed) {
            // NOTE: the positions of the maxima are piecewise constant in x: no gradient flows to it
            return new Tensor[] {null, needed[1] ? maxPoolScatter(in[0], g, geometry) : null};
        }
    }

    /** max-pool's gradient (inputs: x, grads); the gradient of grads is the gather of {@code g}. */
    public record MaxPoolScatter(WindowGeometry geometry, Shape shape, DType dtype) implements Primitive {
        @Override public String name() { return "maxPoolScatter"; }
        @Override public Recording recording() { return Recording.SAVES_INPUTS; }
        @Override public String attributes() { return attributesOf(geometry); }
        @Override public void compute(Backend b, Buffer[] in, Buffer out) {
            b.maxPoolScatter(geometry, in[0], in[1], out);
        }
        @Override public Tensor[] gradient(Tensor[] in, Tensor out, Tensor g, boolean[] needed) {
            return new Tensor[] {null, needed[1] ? maxPoolGather(in[0], g, geometry) : null};
        }
    }

    private static String attributesOf(WindowGeometry g) {
        return "kernel=(" + g.kernelH() + ", " + g.kernelW() + ") stride=" + g.stride() + " pad=(" + g.padTop() + ", "
                + g.padLeft() + ") out=(" + g.outH() + ", " + g.outW() + ")";
    }
}
