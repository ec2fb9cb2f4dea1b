package dev.nabla.ops;

import dev.nabla.DType;
import dev.nabla.Shape;
import dev.nabla.Tensor;
import dev.nabla.backend.Backend;
import dev.nabla.backend.BinaryOp;
import dev.nabla.backend.Buffer;
import dev.nabla.backend.DTypeRule;
import dev.nabla.backend.FusedProgram;
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

    /**
     * True when {@code p} can run as a step of a {@link dev.nabla.backend.FusedProgram}: a floating element-wise
     * op (a traced plan fuses these into chains, and so does {@link Deferral} in eager mode).
     */
    public static boolean fusible(Primitive p) {
        if (!p.dtype().isFloating()) {
            return false;
        }
        return switch (p) {
            case Unary u -> u.op() != UnaryOp.LOGICAL_NOT;
            case Binary b -> !b.op().isComparison();
            default -> false;
        };
    }

    /** {@code p} ({@link #fusible}) as a fused program's step on operands {@code a} and {@code b}. */
    public static FusedProgram.Step fusedStep(Primitive p, int a, int b) {
        return switch (p) {
            case Unary u -> new FusedProgram.Step(u.op(), null, a, 0);
            case Binary bin -> new FusedProgram.Step(null, bin.op(), a, b);
            default -> throw new IllegalArgumentException("not an element-wise step: " + p.name());
        };
    }

    /** {@code op(x)} element-wise. */
    public static Tensor unary(UnaryOp op, Tensor x) {
        String name = UNARY_NAMES[op.ordinal()];
        TensorAccess.storage(x, name);
        checkDtype(name, op.dtypes(), x);
        return Dispatch.apply(new Unary(op, x.shape(), x.dtype()), x);
    }

    /** The dtype check of a rule, in the words the rule's ops have always used. */
    private static void checkDtype(String name, DTypeRule rule, Tensor x) {
        switch (rule) {
            case NUMERIC -> Checks.notBool(name, x);
            case LOGICAL -> Checks.dtype(name, "input", x, DType.BOOL);
            case FLOATING -> Checks.floating(name, x);
            case COMPARISON -> { }
        }
    }

    /** The primitive {@code op(x)}: its forward is one backend call, its gradient {@link #unaryGradient}. */
    public record Unary(UnaryOp op, Shape shape, DType dtype) implements Primitive {
        @Override public String name() { return UNARY_NAMES[op.ordinal()]; }
        @Override public Recording recording() {
            return dtype.isFloating() ? Recording.SAVES_INPUTS : Recording.NONE;
        }
        @Override public void compute(Backend b, Buffer[] in, Buffer out) { b.unary(op, in[0], out); }
        @Override public Tensor[] gradient(Tensor[] in, Tensor out, Tensor g, boolean[] needed) {
            return new Tensor[] {unaryGradient(op, in[0], out, g)};
        }
        /** Every rule below is written with broadcasting ops, so {@code g} may be smaller than {@code x}. */
        @Override public boolean takesBroadcastGradient() { return true; }
    }

    private static Tensor unaryGradient(UnaryOp op, Tensor x, Tensor y, Tensor g) {
        return switch (op) {
            case NEG -> g.neg();
            // sign(x) off the tape: its derivative is zero, and recorded it would send a zero term back through the
            // ops that made x in a second derivative (0 · inf = NaN next to an infinite weight)
            case ABS -> g.mul(x.sign().stopGradient());
            case SIGN, LOGICAL_NOT -> Tensor.zerosLike(x);
            case EXP -> g.mul(y);                                   // d e^x = e^x
            case LOG -> g.div(x);                                   // d log x = 1/x
            case SQRT -> g.div(y.mul(2));                           // d sqrt x = 1 / (2 sqrt x)
            case RSQRT -> g.mul(y).div(x).mul(-0.5);                // d x^-1/2 = -1/2 x^-3/2 = -1/2 y / x
            // a g the tape left unbroadcast (smaller than x: W6's sum) is doubled first, which costs nothing next to
            // the pass over x; a full g multiplies 2x (TF's order), so that nothing overflows unless 2x or 2·g·x does:
            // 2g·x overflowed for a g over 1.7e38 and a tiny x (the fuzzer's program 503733 of seed 68895323522758),
            // and (g·x)·2 overflowed a second derivative (1/x · 2 for a subnormal x). A small g over 1.7e38 still
            // overflows, as it did.
            case SQUARE -> g.size() < x.size() ? g.mul(2).mul(x) : g.mul(x.mul(2));
            // d 1/x = -1/x^2 = -y·y, multiplied into g one y at a time (as TF's ReciprocalGrad): y² alone overflows
            // for |x| under 5e-20 (float32) even where the gradient is finite
            case RECIPROCAL -> g.mul(y).mul(y).neg();
            case SIN -> g.mul(x.cos());
            case COS -> g.mul(x.sin()).neg();
            case TANH -> g.mul(y.square().neg().add(1));            // 1 - tanh^2
            case SIGMOID -> g.mul(y.mul(y.neg().add(1)));           // s (1 - s)
            // NOTE: 0 at x == 0, as TF. y > 0 exactly where x > 0 (y is +0 or NaN elsewhere): reading y, not x, a
            // traced step need not keep relu's input, so the op before relu (a bias add) fuses into it
            case RELU -> binary(BinaryOp.RELU_GRADIENT, y, g);
        };
    }

    /** {@code op(a, b)} element-wise with NumPy broadcasting. */
    public static Tensor binary(BinaryOp op, Tensor a, Tensor b) {
        String name = BINARY_NAMES[op.ordinal()];
        Checks.sameDeviceAndDtype(name, a, b);
        checkDtype(name, op.dtypes(), a);
        Shape shape = Broadcasting.shape(name, a.shape(), b.shape());
        return Dispatch.apply(new Binary(op, a.shape(), b.shape(), shape, op.dtypes().result(a.dtype())), a, b);
    }

    /** The primitive {@code op(a, b)} over broadcast strides; its gradient is {@link #binaryGradient}. */
    public record Binary(BinaryOp op, Shape aShape, Shape bShape, Shape shape, DType dtype) implements Primitive {
        @Override public String name() { return BINARY_NAMES[op.ordinal()]; }
        @Override public Recording recording() {
            if (op.isComparison() || !dtype.isFloating()) {
                return Recording.NONE;
            }
            return op == BinaryOp.ADD || op == BinaryOp.SUB ? Recording.LINEAR : Recording.SAVES_INPUTS;
        }
        @Override public void compute(Backend b, Buffer[] in, Buffer out) {
            b.binary(op, in[0], Broadcasting.strides(aShape, shape), in[1], Broadcasting.strides(bShape, shape), out,
                    shape.dims());
        }
        @Override public Tensor[] gradient(Tensor[] in, Tensor out, Tensor g, boolean[] needed) {
            return binaryGradient(op, in[0], in[1], out, g, needed);
        }
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
            case RELU_GRADIENT -> {                                  // a > 0 ? b : 0: flat in a
                // no term for a rather than zeros: a zero term flows on through the ops that made a (a product
                // with a NaN or infinite weight turns it into NaN), where no term adds nothing
                ga = null;
                gb = needed[1] ? binary(BinaryOp.RELU_GRADIENT, a, g) : null;
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
        return Dispatch.apply(TensorAccess.backend(a), new Select(cond.shape(), a.shape(), b.shape(), shape, a.dtype()),
                cond, a, b);
    }

    /** The primitive {@code cond ? a : b}; its gradient is {@link #selectGradient}. */
    public record Select(Shape condShape, Shape aShape, Shape bShape, Shape shape, DType dtype) implements Primitive {
        @Override public String name() { return "where"; }
        @Override public Recording recording() {
            return dtype.isFloating() ? Recording.SAVES_INPUTS : Recording.NONE;
        }
        @Override public void compute(Backend b, Buffer[] in, Buffer out) {
            b.select(in[0], Broadcasting.strides(condShape, shape), in[1], Broadcasting.strides(aShape, shape), in[2],
                    Broadcasting.strides(bShape, shape), out, shape.dims());
        }
        @Override public Tensor[] gradient(Tensor[] in, Tensor out, Tensor g, boolean[] needed) {
            return selectGradient(in[0], in[1], in[2], g, needed);
        }
    }

    private static Tensor[] selectGradient(Tensor cond, Tensor a, Tensor b, Tensor g, boolean[] needed) {
        Tensor zero = Creation.scalarLike(g, 0);
        return new Tensor[] {
            null,
            needed[1] ? Broadcasting.sumToShape(select(cond, g, zero), a.shape()) : null,
            needed[2] ? Broadcasting.sumToShape(select(cond, zero, g), b.shape()) : null
        };
    }
}
