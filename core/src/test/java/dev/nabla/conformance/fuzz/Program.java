package dev.nabla.conformance.fuzz;

import dev.nabla.DType;
import java.util.List;
import java.util.Locale;

/**
 * A random program: a list of steps in SSA form, each naming earlier steps as operands ({@code %3 = add %1 %2}).
 * Inputs are steps too. It prints readably, values included, with the seed and index that regenerate it.
 *
 * @param seed       the run's seed
 * @param index      the program's number in the run; {@code -Dnabla.fuzz.seed=SEED -Dnabla.fuzz.only=INDEX}
 *                   replays it alone
 * @param steps      the steps in order; a step may use only earlier ones
 * @param invalidAt  the step the reference rejects (the program ends there), or -1
 * @param invalidWhy the reference's reason, or null
 * @param deliberate true when the generator made the last step invalid on purpose
 */
record Program(long seed, int index, List<Step> steps, int invalidAt, String invalidWhy, boolean deliberate) {

    /** What a step does; {@link #api} is the name the library's messages use for it. */
    enum Kind {
        INPUT("input"),
        NEG("neg"), ABS("abs"), SIGN("sign"), EXP("exp"), LOG("log"), SQRT("sqrt"), RSQRT("rsqrt"),
        SQUARE("square"), RECIPROCAL("reciprocal"), SIN("sin"), COS("cos"), TANH("tanh"), SIGMOID("sigmoid"),
        RELU("relu"),
        ADD("add"), SUB("sub"), MUL("mul"), DIV("div"), POW("pow"), MAXIMUM("maximum"), MINIMUM("minimum"),
        EQ("eq"), NE("ne"), LT("lt"), LE("le"), GT("gt"), GE("ge"),
        WHERE("where"),
        SUM("sum"), MEAN("mean"), MAX("max"), MIN("min"), ARGMAX("argmax"),
        LOG_SUM_EXP("logSumExp"), SOFTMAX("softmax"), LOG_SOFTMAX("logSoftmax"),
        MATMUL("matmul"), CONV2D("conv2d"), MAX_POOL2D("maxPool2d"), AVG_POOL2D("avgPool2d"),
        RESHAPE("reshape"), FLATTEN("flatten"), TRANSPOSE("transpose"), PERMUTE("permute"),
        EXPAND_DIMS("expandDims"), SQUEEZE("squeeze"), BROADCAST_TO("broadcastTo"), SLICE("slice"),
        CONCAT("concat"), STACK("stack"), CAST("to"),
        GATHER("gather"), PAD("pad"), ONE_HOT("oneHot"), STOP_GRADIENT("stopGradient"),
        GELU("gelu"), MEAN_SQUARED_ERROR("meanSquaredError"), SOFTMAX_CROSS_ENTROPY("softmaxCrossEntropy"),
        DROPOUT("dropout"), CUSTOM_GRADIENT("customGradient");

        final String api;

        Kind(String api) {
            this.api = api;
        }

        boolean isUnary() {
            return ordinal() >= NEG.ordinal() && ordinal() <= RELU.ordinal();
        }

        boolean isBinary() {
            return ordinal() >= ADD.ordinal() && ordinal() <= MINIMUM.ordinal();
        }

        boolean isComparison() {
            return ordinal() >= EQ.ordinal() && ordinal() <= GE.ordinal();
        }

        boolean isReduction() {
            return this == SUM || this == MEAN || this == MAX || this == MIN;
        }

        boolean isAxisComposite() {
            return this == LOG_SUM_EXP || this == SOFTMAX || this == LOG_SOFTMAX;
        }
    }

    /**
     * One step. Unused fields are null (or false/0).
     *
     * @param args     operand step numbers
     * @param axes     reduction axes (null: all), a permutation, squeeze axes, or one axis in {@code axes[0]}
     * @param dims     reshape/broadcastTo target, slice begin, pad before, oneHot's {depth}, conv2d's {stride}, a
     *                 pooling's {size, stride}, dropout's {seed of its Rng, training (1) or not (0)},
     *                 customGradient's {rule} (see {@code Reference.customGradient})
     * @param dims2    slice size, pad after
     * @param keepDims for reductions; conv2d's padding (true: "same")
     * @param constant the Java number operand of {@code add(double)} and friends (null for a tensor operand), or
     *                 dropout's rate
     * @param dtype    the input's dtype, or the cast target
     * @param shape    the input's shape
     * @param values   the input's values (in the input's dtype)
     */
    record Step(Kind kind, int[] args, int[] axes, long[] dims, long[] dims2, boolean keepDims, Double constant,
            DType dtype, long[] shape, double[] values) {

        static Step input(DType dtype, long[] shape, double[] values) {
            return new Step(Kind.INPUT, new int[0], null, null, null, false, null, dtype, shape, values);
        }

        static Step of(Kind kind, int... args) {
            return new Step(kind, args, null, null, null, false, null, null, null, null);
        }

        Step withAxes(int[] a) {
            return new Step(kind, args, a, dims, dims2, keepDims, constant, dtype, shape, values);
        }

        Step withKeep(boolean k) {
            return new Step(kind, args, axes, dims, dims2, k, constant, dtype, shape, values);
        }

        Step withDims(long[] d) {
            return new Step(kind, args, axes, d, dims2, keepDims, constant, dtype, shape, values);
        }

        Step withDims2(long[] d) {
            return new Step(kind, args, axes, dims, d, keepDims, constant, dtype, shape, values);
        }

        Step withConstant(double c) {
            return new Step(kind, args, axes, dims, dims2, keepDims, c, dtype, shape, values);
        }

        Step withDtype(DType t) {
            return new Step(kind, args, axes, dims, dims2, keepDims, constant, t, shape, values);
        }

        /** A convolution's padding, kept in {@link #keepDims}: "same" when true. */
        String padding() {
            return keepDims ? "same" : "valid";
        }

        /** The step as a line of text, without its own number. */
        String describe() {
            StringBuilder sb = new StringBuilder(kind.api);
            if (kind == Kind.INPUT) {
                sb.append(' ').append(dtypeName(dtype)).append(' ').append(fmt(shape)).append(' ');
                sb.append(Program.values(dtype, values, 64));
                return sb.toString();
            }
            for (int a : args) {
                sb.append(" %").append(a);
            }
            if (constant != null) {
                sb.append(' ').append(number(constant));
            }
            switch (kind) {
                case SUM, MEAN, MAX, MIN -> sb.append(" axes=").append(axes == null ? "all" : fmt(axes))
                        .append(" keepDims=").append(keepDims);
                case ARGMAX, LOG_SUM_EXP, SOFTMAX, LOG_SOFTMAX, EXPAND_DIMS, CONCAT, STACK, GATHER ->
                        sb.append(" axis=").append(axes[0]);
                case PERMUTE, SQUEEZE -> sb.append(" axes=").append(fmt(axes));
                case RESHAPE, BROADCAST_TO -> sb.append(" shape=").append(fmt(dims));
                case SLICE -> sb.append(" begin=").append(fmt(dims)).append(" size=").append(fmt(dims2));
                case CAST -> sb.append(' ').append(dtypeName(dtype));
                case PAD -> sb.append(" before=").append(fmt(dims)).append(" after=").append(fmt(dims2));
                case ONE_HOT -> sb.append(" depth=").append(dims[0]);
                case CONV2D -> sb.append(" stride=").append(dims[0]).append(" padding=").append(padding());
                case MAX_POOL2D, AVG_POOL2D -> sb.append(" size=").append(dims[0]).append(" stride=").append(dims[1]);
                case DROPOUT -> sb.append(" seed=").append(dims[0]).append(" training=").append(dims[1] != 0);
                case CUSTOM_GRADIENT -> sb.append(" rule=").append(dims[0]);
                default -> { }
            }
            return sb.toString();
        }
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        sb.append("program ").append(index).append(" of seed ").append(seed).append(" (replay alone: -Dnabla.fuzz.seed=")
                .append(seed).append(" -Dnabla.fuzz.only=").append(index).append(")\n");
        for (int i = 0; i < steps.size(); i++) {
            sb.append("  %").append(i).append(" = ").append(steps.get(i).describe());
            if (i == invalidAt) {
                sb.append("    <- invalid").append(deliberate ? " (on purpose)" : "").append(": ").append(invalidWhy);
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    static String dtypeName(DType t) {
        return t.name().toLowerCase(Locale.ROOT);
    }

    static String fmt(long[] dims) {
        if (dims == null) {
            return "null";
        }
        StringBuilder sb = new StringBuilder("(");
        for (int i = 0; i < dims.length; i++) {
            sb.append(i > 0 ? ", " : "").append(dims[i]);
        }
        return sb.append(dims.length == 1 ? ",)" : ")").toString();
    }

    static String fmt(int[] dims) {
        long[] l = new long[dims.length];
        for (int i = 0; i < dims.length; i++) {
            l[i] = dims[i];
        }
        return fmt(l);
    }

    /** A number as Java would write it back exactly (float values printed as floats). */
    static String number(double v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            return v == 0 && 1 / v < 0 ? "-0.0" : Long.toString((long) v) + ".0";
        }
        return Double.toString(v);
    }

    static String values(DType t, double[] v, int limit) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < v.length && i < limit; i++) {
            sb.append(i > 0 ? ", " : "");
            if (t == DType.FLOAT32) {
                sb.append(Float.toString((float) v[i]));
            } else if (t == DType.INT32 || t == DType.BOOL) {
                sb.append((long) v[i]);
            } else {
                sb.append(Double.toString(v[i]));
            }
        }
        if (v.length > limit) {
            sb.append(", ... ").append(v.length - limit).append(" more");
        }
        return sb.append(']').toString();
    }
}
