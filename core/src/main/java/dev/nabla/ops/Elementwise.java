package dev.nabla.ops;

import dev.nabla.DType;
import dev.nabla.Shape;
import dev.nabla.Tensor;
import dev.nabla.autograd.Recorder;
import dev.nabla.backend.Backend;
import dev.nabla.backend.BinaryOp;
import dev.nabla.backend.UnaryOp;
import dev.nabla.internal.TensorAccess;

/** Element-wise unary, binary and select ops: checks, forward, and gradient rules. */
public final class Elementwise {
    private Elementwise() {
    }

    private static final String[] UNARY_NAMES = names(UnaryOp.values());
    private static final String[] BINARY_NAMES = names(BinaryOp.values());

    private static String[] names(Enum<?>[] ops) {
        String[] n = new String[ops.length];
        for (Enum<?> op : ops) {
            n[op.ordinal()] = op.name().toLowerCase(java.util.Locale.ROOT);
        }
        return n;
    }

    /** {@code op(x)} element-wise. */
    public static Tensor unary(UnaryOp op, Tensor x) {
        String name = UNARY_NAMES[op.ordinal()];
        Backend b = TensorAccess.storage(x, name).backend();
        switch (op) {
            case NEG, ABS, SIGN, SQUARE, RELU, STEP -> Checks.notBool(name, x);
            case LOGICAL_NOT -> Checks.dtype(name, "input", x, DType.BOOL);
            default -> Checks.floating(name, x);
        }
        Tensor out = Creation.empty(name, b, x.dtype(), x.shape());
        b.unary(op, TensorAccess.buffer(x, name), TensorAccess.buffer(out, name));
        if (x.dtype().isFloating()) {
            Recorder.record(name, new Tensor[] {x}, out, (g, needed) -> new Tensor[] {unaryGradient(op, x, out, g)});
        }
        return out;
    }

    private static Tensor unaryGradient(UnaryOp op, Tensor x, Tensor y, Tensor g) {
        return switch (op) {
            case NEG -> g.neg();
            case ABS -> g.mul(x.sign());
            case SIGN, STEP, LOGICAL_NOT -> Tensor.zerosLike(x);
            case EXP -> g.mul(y);                                   // d e^x = e^x
            case LOG -> g.div(x);                                   // d log x = 1/x
            case SQRT -> g.div(y.mul(2));                           // d sqrt x = 1 / (2 sqrt x)
            case RSQRT -> g.mul(y).div(x).mul(-0.5);                // d x^-1/2 = -1/2 x^-3/2 = -1/2 y / x
            case SQUARE -> g.mul(x.mul(2));
            case RECIPROCAL -> g.mul(y.square()).neg();             // d 1/x = -1/x^2
            case SIN -> g.mul(x.cos());
            case COS -> g.mul(x.sin()).neg();
            case TANH -> g.mul(y.square().neg().add(1));            // 1 - tanh^2
            case SIGMOID -> g.mul(y.mul(y.neg().add(1)));           // s (1 - s)
            case RELU -> g.mul(unary(UnaryOp.STEP, x));             // NOTE: 0 at x == 0, as TF
        };
    }

    /** {@code op(a, b)} element-wise with NumPy broadcasting. */
    public static Tensor binary(BinaryOp op, Tensor a, Tensor b) {
        String name = BINARY_NAMES[op.ordinal()];
        Checks.sameDeviceAndDtype(name, a, b);
        if (!op.isComparison()) {
            Checks.notBool(name, a);
        }
        Shape shape = Broadcasting.shape(name, a.shape(), b.shape());
        Backend backend = TensorAccess.backend(a);
        Tensor out = Creation.empty(name, backend, op.isComparison() ? DType.BOOL : a.dtype(), shape);
        backend.binary(op, TensorAccess.buffer(a, name), Broadcasting.strides(a.shape(), shape), TensorAccess.buffer(b, name),
                Broadcasting.strides(b.shape(), shape), TensorAccess.buffer(out, name), shape.dims());
        if (!op.isComparison() && a.dtype().isFloating()) {
            Tensor[] inputs = {a, b};
            if (op == BinaryOp.ADD || op == BinaryOp.SUB) {
                Recorder.recordLinear(name, inputs, out, (g, needed) -> binaryGradient(op, a, b, out, g, needed));
            } else {
                Recorder.record(name, inputs, out, (g, needed) -> binaryGradient(op, a, b, out, g, needed));
            }
        }
        return out;
    }

    private static Tensor[] binaryGradient(BinaryOp op, Tensor a, Tensor b, Tensor y, Tensor g, boolean[] needed) {
        Tensor ga = null;
        Tensor gb = null;
        switch (op) {
            case ADD -> {
                ga = g;
                gb = g;
            }
            case SUB -> {
                ga = g;
                gb = needed[1] ? g.neg() : null;
            }
            case MUL -> {
                ga = needed[0] ? g.mul(b) : null;
                gb = needed[1] ? g.mul(a) : null;
            }
            case DIV -> {                                            // d(a/b)/db = -a/b^2 = -y/b
                ga = needed[0] ? g.div(b) : null;
                gb = needed[1] ? g.mul(y).div(b).neg() : null;
            }
            case POW -> {                                            // d a^b/da = b a^(b-1); d/db = a^b log a
                ga = needed[0] ? g.mul(b).mul(a.pow(b.sub(1))) : null;
                if (needed[1]) {
                    // NOTE: log a is undefined for a <= 0; TF takes 0 there, and so do we
                    Tensor positive = a.gt(0);
                    Tensor safeLog = select(positive, a, Tensor.onesLike(a)).log();
                    gb = g.mul(y).mul(select(positive, safeLog, Tensor.zerosLike(safeLog)));
                }
            }
            case MAXIMUM, MINIMUM -> {                               // ties send the gradient to a, as TF
                Tensor toA = op == BinaryOp.MAXIMUM ? a.ge(b) : a.le(b);
                Tensor zero = Creation.scalarLike(g, 0);
                ga = needed[0] ? select(toA, g, zero) : null;
                gb = needed[1] ? select(toA, zero, g) : null;
            }
            default -> throw new IllegalStateException("no gradient for comparison " + op);
        }
        return new Tensor[] {
            ga == null ? null : Broadcasting.sumToShape(ga, a.shape()),
            gb == null ? null : Broadcasting.sumToShape(gb, b.shape())
        };
    }

    /** {@code cond ? a : b} element-wise, all three broadcast together; {@code cond} is BOOL. */
    public static Tensor select(Tensor cond, Tensor a, Tensor b) {
        String name = "where";
        TensorAccess.storage(Checks.notNull(name, "condition", cond), name);
        Checks.dtype(name, "condition", cond, DType.BOOL);
        Checks.sameDeviceAndDtype(name, a, b);
        Checks.sameDevice(name, cond, a);
        Shape shape = Broadcasting.shape(name, Broadcasting.shape(name, cond.shape(), a.shape()), b.shape());
        Backend backend = TensorAccess.backend(a);
        Tensor out = Creation.empty(name, backend, a.dtype(), shape);
        backend.select(TensorAccess.buffer(cond, name), Broadcasting.strides(cond.shape(), shape), TensorAccess.buffer(a, name),
                Broadcasting.strides(a.shape(), shape), TensorAccess.buffer(b, name), Broadcasting.strides(b.shape(), shape),
                TensorAccess.buffer(out, name), shape.dims());
        if (a.dtype().isFloating()) {
            Recorder.record(name, new Tensor[] {cond, a, b}, out, (g, needed) -> {
                Tensor zero = Creation.scalarLike(g, 0);
                return new Tensor[] {
                    null,
                    needed[1] ? Broadcasting.sumToShape(select(cond, g, zero), a.shape()) : null,
                    needed[2] ? Broadcasting.sumToShape(select(cond, zero, g), b.shape()) : null
                };
            });
        }
        return out;
    }
}
