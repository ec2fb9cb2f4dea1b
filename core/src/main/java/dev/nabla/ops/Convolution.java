package dev.nabla.ops;

import dev.nabla.DType;
import dev.nabla.Shape;
import dev.nabla.Tensor;
import dev.nabla.backend.Backend;
import dev.nabla.backend.Buffer;
import dev.nabla.backend.IndexCheck;
import dev.nabla.backend.WindowGeometry;
import dev.nabla.internal.TensorAccess;

/**
 * The sliding-window primitives under convolution and pooling: im2col (an image's windows as the columns of a
 * matrix, {@link WindowGeometry} gives the layout) and its adjoint col2im. Each is the other's gradient, so
 * convolutions differentiate to any order.
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
        checkImage("im2col", x, g);
        return Dispatch.apply(new Im2Col(g, columnsShape(g), x.dtype()), x);
    }

    /** {@code x} is open, not BOOL, and the image {@code g}'s windows slide over. */
    private static void checkImage(String op, Tensor x, WindowGeometry g) {
        TensorAccess.storage(x, op);
        Checks.notBool(op, x);
        if (!x.shape().equals(inputShape(g))) {
            throw new IllegalArgumentException(op + ": input " + x.shape() + " does not match the windows' image "
                    + inputShape(g));
        }
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

    /**
     * For max pooling: INT32 {@code (g.columns())}, the flat index into {@code x} of each window's first maximum
     * (NaN counting as the maximum), in the order of the window's im2col column. {@code x.reshape(-1).gather(i, 0)}
     * is then the pooled values and has max pooling's gradient (each window's to its first maximum, as in TF and
     * PyTorch). The windows must not reach into padding.
     */
    public static Tensor maxPoolIndices(Tensor x, WindowGeometry g) {
        String op = "maxPoolIndices";
        checkImage(op, x, g);
        if (g.padTop() != 0 || g.padLeft() != 0 || (g.outH() - 1L) * g.stride() + g.kernelH() > g.height()
                || (g.outW() - 1L) * g.stride() + g.kernelW() > g.width()) {
            throw new IllegalArgumentException(op + ": windows with padding (" + g + ") are not supported");
        }
        return Dispatch.apply(new MaxPoolIndices(g, Shape.of(g.columns())), x);
    }

    /**
     * Max pooling's values: {@code x} (the image of {@code g}) at the flat {@code indices} (INT32,
     * {@code (g.columns())}, one per window, as {@link #maxPoolIndices} gives them), {@code (g.columns())}: what
     * gathering the flattened {@code x} gives, with {@link #maxPoolGradient} as the gradient, which walks the input
     * once, an image at a time, where a scatter-add into zeros filled the whole input and then added into it (W7's
     * first pooling's gradient: two passes over 3.2 MB).
     */
    public static Tensor maxPool(Tensor x, Tensor indices, WindowGeometry g) {
        String op = "maxPool";
        checkImage(op, x, g);
        checkWindowIndices(op, indices, x, g);
        return Dispatch.apply(new MaxPool(g, Shape.of(g.columns()), x.dtype()), x, indices);
    }

    /**
     * The gradient of {@link #maxPool}: zeros of {@code g}'s input shape with {@code grad[q]} added at
     * {@code indices[q]} for every window q, in window order (as {@code scatterAdd} of the flattened input, the same
     * bits).
     */
    public static Tensor maxPoolGradient(Tensor grad, Tensor indices, WindowGeometry g) {
        String op = "maxPoolGradient";
        TensorAccess.storage(grad, op);
        Checks.notBool(op, grad);
        if (!grad.shape().equals(Shape.of(g.columns()))) {
            throw new IllegalArgumentException(op + ": gradient " + grad.shape() + " does not match the windows "
                    + Shape.of(g.columns()));
        }
        checkWindowIndices(op, indices, grad, g);
        return Dispatch.apply(new MaxPoolGradient(g, inputShape(g), grad.dtype()), grad, indices);
    }

    /** One INT32 index per window, on {@code values}' device. */
    private static void checkWindowIndices(String op, Tensor indices, Tensor values, WindowGeometry g) {
        Checks.open(op, "indices", indices);
        Checks.dtype(op, "indices", indices, DType.INT32);
        Checks.sameDevice(op, values, indices);
        if (!indices.shape().equals(Shape.of(g.columns()))) {
            throw new IllegalArgumentException(op + ": indices " + indices.shape() + " do not match the windows "
                    + Shape.of(g.columns()));
        }
    }

    /** The max-pooling gather (inputs: image, indices); its gradient is {@link #maxPoolGradient}. */
    public record MaxPool(WindowGeometry geometry, Shape shape, DType dtype) implements Primitive {
        @Override public String name() { return "maxPool"; }
        @Override public Recording recording() { return Recording.LINEAR; }
        @Override public String attributes() { return attributesOf(geometry); }
        @Override public void compute(Backend b, Buffer[] in, Buffer out) {
            b.gather(in[0], 1, geometry.inputSize(), 1, in[1], out,
                    new IndexCheck("maxPool", "an image of " + geometry));
        }
        @Override public Tensor[] gradient(Tensor[] in, Tensor out, Tensor g, boolean[] needed) {
            return new Tensor[] {maxPoolGradient(g, in[1], geometry), null};
        }
    }

    /** Max pooling's gradient (inputs: gradient, indices); its own gradient is {@link #maxPool} of {@code g}. */
    public record MaxPoolGradient(WindowGeometry geometry, Shape shape, DType dtype) implements Primitive {
        @Override public String name() { return "maxPoolGradient"; }
        @Override public Recording recording() { return Recording.LINEAR; }
        @Override public String attributes() { return attributesOf(geometry); }
        @Override public void compute(Backend b, Buffer[] in, Buffer out) {
            b.maxPoolGradient(geometry, in[0], in[1], out);
        }
        @Override public Tensor[] gradient(Tensor[] in, Tensor out, Tensor g, boolean[] needed) {
            return new Tensor[] {maxPool(g, in[1], geometry), null};
        }
    }

    /**
     * {@link MaxPoolGradient} of {@code relu_gradient(pooled, g)} in one step (inputs: pooled values, gradient,
     * indices): made only by a traced plan's rewrite ({@code graph.PoolGradientMask}), never recorded.
     */
    public record MaskedMaxPoolGradient(WindowGeometry geometry, Shape shape, DType dtype) implements Primitive {
        @Override public String name() { return "maskedMaxPoolGradient"; }
        @Override public Recording recording() { return Recording.NONE; }
        @Override public String attributes() { return attributesOf(geometry); }
        @Override public void compute(Backend b, Buffer[] in, Buffer out) {
            b.maskedMaxPoolGradient(geometry, in[0], in[1], in[2], out);
        }
    }

    /** The max-pooling index primitive: integer output, no gradient. */
    public record MaxPoolIndices(WindowGeometry geometry, Shape shape) implements Primitive {
        @Override public String name() { return "maxPoolIndices"; }
        @Override public DType dtype() { return DType.INT32; }
        @Override public Recording recording() { return Recording.NONE; }
        @Override public String attributes() { return attributesOf(geometry); }
        @Override public void compute(Backend b, Buffer[] in, Buffer out) {
            b.maxPoolIndices(geometry, in[0], out);
        }
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

    private static String attributesOf(WindowGeometry g) {
        return "kernel=(" + g.kernelH() + ", " + g.kernelW() + ") stride=" + g.stride() + " pad=(" + g.padTop() + ", "
                + g.padLeft() + ") out=(" + g.outH() + ", " + g.outW() + ")";
    }
}
