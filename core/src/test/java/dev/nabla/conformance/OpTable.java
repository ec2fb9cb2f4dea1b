package dev.nabla.conformance;

import static dev.nabla.conformance.OpInfo.Family.BINARY;
import static dev.nabla.conformance.OpInfo.Family.CAST;
import static dev.nabla.conformance.OpInfo.Family.COMPARISON;
import static dev.nabla.conformance.OpInfo.Family.INDEXING;
import static dev.nabla.conformance.OpInfo.Family.LINEAR_ALGEBRA;
import static dev.nabla.conformance.OpInfo.Family.REDUCTION;
import static dev.nabla.conformance.OpInfo.Family.SHAPE;
import static dev.nabla.conformance.OpInfo.Family.UNARY;
import static dev.nabla.conformance.OpInfo.op;

import dev.nabla.DType;
import dev.nabla.Nabla;
import dev.nabla.Shape;
import dev.nabla.Tensor;
import dev.nabla.backend.BinaryOp;
import dev.nabla.backend.UnaryOp;
import dev.nabla.conformance.OpArgs.Axes;
import dev.nabla.conformance.OpInfo.Family;
import dev.nabla.nn.Functional;
import dev.nabla.ops.Elementwise;
import dev.nabla.ops.Indexing;
import java.util.List;
import java.util.Set;
import java.util.function.BiFunction;
import java.util.function.BinaryOperator;
import java.util.function.DoubleBinaryOperator;
import java.util.function.DoubleUnaryOperator;
import java.util.function.ToDoubleFunction;
import java.util.function.UnaryOperator;

/**
 * The op table: one row per op (PyTorch's OpInfo, JAX's grad_test_spec). Each row says how to call the op, its
 * plain scalar reference (Math.* on doubles, written here, never core's UnaryOp/BinaryOp definitions), the input
 * domain, the dtypes and the tolerances. The family test classes run the rows' forward and gradient checks;
 * adding an op adds a row.
 */
final class OpTable {
    private OpTable() {
    }

    static final List<OpInfo<?>> ROWS = java.util.stream.Stream.<OpInfo<?>>concat(java.util.stream.Stream.of(
            // ---- element-wise unary ---------------------------------------------------------------------
            unary("neg", Tensor::neg, x -> -x),
            unary("abs", Tensor::abs, Math::abs).withDomain(Domain.NONZERO),
            unary("exp", Tensor::exp, Math::exp),
            unary("log", Tensor::log, Math::log).withDomain(Domain.POSITIVE),
            unary("sqrt", Tensor::sqrt, Math::sqrt).withDomain(Domain.POSITIVE),
            unary("rsqrt", Tensor::rsqrt, x -> 1 / Math.sqrt(x)).withDomain(Domain.POSITIVE),
            unary("square", Tensor::square, x -> x * x),
            unary("reciprocal", Tensor::reciprocal, x -> 1 / x).withDomain(Domain.NONZERO),
            unary("sin", Tensor::sin, Math::sin),
            unary("cos", Tensor::cos, Math::cos),
            unary("tanh", Tensor::tanh, Math::tanh),
            unary("sigmoid", Tensor::sigmoid, x -> 1 / (1 + Math.exp(-x))),
            unary("relu", Tensor::relu, x -> x > 0 ? x : 0).withDomain(Domain.NONZERO),
            // -1, 0 or 1; INT32 inputs round to integers, so zeros occur. The gradient is 0 (away from x = 0)
            unary("sign", Tensor::sign, x -> x > 0 ? 1 : x < 0 ? -1 : 0),
            unary("Functional.relu", Functional::relu, x -> x > 0 ? x : 0).withDomain(Domain.NONZERO)
                    .withDtypes(OpInfo.NUMERIC).covering("Functional.relu"),
            // GELU, tanh form: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
            unary("gelu", Functional::gelu,
                    x -> 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x))))
                    .withTolerances(5e-5, 1e-12).covering("Functional.gelu"),
            // a custom rule that is right: softplus log(1 + e^x) with the gradient g sigmoid(x); the check proves
            // the rule (not a recording of the forward) is what the tape runs, on every device
            unary("customGradient", x -> Nabla.customGradient(List.of(x), in -> in.get(0).exp().add(1).log(),
                    (in, out, g) -> List.of(g.mul(in.get(0).sigmoid()))), x -> Math.log1p(Math.exp(x)))
                    .withTolerances(5e-5, 1e-12).covering("Nabla.customGradient"),

            // ---- element-wise binary, broadcasting; and the Java-number overloads ----------------------------
            binary("add", Tensor::add, (a, b) -> a + b),
            binary("sub", Tensor::sub, (a, b) -> a - b),
            binary("mul", Tensor::mul, (a, b) -> a * b),
            // INT32 division truncates toward zero: the comparison casts the double quotient with (int)
            binary("div", Tensor::div, (a, b) -> a / b).withDomain(Domain.perInput(Domain.REAL, Domain.NONZERO)),
            // narrower than the rule: INT32 powers (wrapping, truncated negative exponents) are IntegerArithmeticTest's
            binary("pow", Tensor::pow, Math::pow).withDomain(Domain.perInput(Domain.POSITIVE, Domain.REAL))
                    .withDtypes(OpInfo.FLOATS),
            binary("maximum", Tensor::maximum, Math::max).withDomain(Domain.DISTINCT),
            binary("minimum", Tensor::minimum, Math::min).withDomain(Domain.DISTINCT),
            // internal (relu's gradient): b where a > 0, else 0; a kept off 0, where it has no derivative
            binary("relu_gradient", (a, b) -> Elementwise.binary(BinaryOp.RELU_GRADIENT, a, b),
                    (a, b) -> a > 0 ? b : 0).withDomain(Domain.perInput(Domain.NONZERO, Domain.REAL))
                    .covering("Elementwise.binary"),
            numberOperand("add(double)", x -> x.add(2), x -> x + 2).withDtypes(OpInfo.NUMERIC),
            numberOperand("sub(double)", x -> x.sub(3), x -> x - 3).withDtypes(OpInfo.NUMERIC),
            numberOperand("mul(double)", x -> x.mul(-2), x -> x * -2).withDtypes(OpInfo.NUMERIC),
            numberOperand("div(double)", x -> x.div(4), x -> x / 4).withDtypes(OpInfo.NUMERIC),
            numberOperand("pow(double)", x -> x.pow(3), x -> x * x * x),
            numberOperand("pow(0.5)", x -> x.pow(0.5), Math::sqrt).withDomain(Domain.POSITIVE),
            numberOperand("maximum(double)", x -> x.maximum(1), x -> Math.max(x, 1)).withDomain(Domain.DISTINCT)
                    .withDtypes(OpInfo.NUMERIC),
            numberOperand("minimum(double)", x -> x.minimum(-1), x -> Math.min(x, -1)).withDomain(Domain.DISTINCT)
                    .withDtypes(OpInfo.NUMERIC),

            // ---- comparisons: BOOL results, no gradient; small integers so that ties occur ------------------
            comparison("eq", Tensor::eq, (a, b) -> a == b),
            comparison("ne", Tensor::ne, (a, b) -> a != b),
            comparison("lt", Tensor::lt, (a, b) -> a < b),
            comparison("le", Tensor::le, (a, b) -> a <= b),
            comparison("gt", Tensor::gt, (a, b) -> a > b),
            comparison("ge", Tensor::ge, (a, b) -> a >= b),
            comparisonWithNumber("eq(double)", x -> x.eq(1), x -> x == 1),
            comparisonWithNumber("ne(double)", x -> x.ne(1), x -> x != 1),
            comparisonWithNumber("lt(double)", x -> x.lt(0), x -> x < 0),
            comparisonWithNumber("le(double)", x -> x.le(0), x -> x <= 0),
            comparisonWithNumber("gt(double)", x -> x.gt(-1), x -> x > -1),
            comparisonWithNumber("ge(double)", x -> x.ge(-1), x -> x >= -1),

            // ---- reductions --------------------------------------------------------------------------------
            reduction("sum", Tensor::sum, Tensor::sum, Tensor::sum, OpTable::sumOf, true)
                    .withDtypes(OpInfo.NUMERIC),
            // mean over an empty axis is NaN (0/0), as NumPy; INT32 means truncate like INT32 division
            reduction("mean", Tensor::mean, Tensor::mean, Tensor::mean, v -> sumOf(v) / v.length, true)
                    .withDtypes(OpInfo.NUMERIC),
            reduction("max", Tensor::max, Tensor::max, Tensor::max, v -> extremum(v, Math::max), false)
                    .withDomain(Domain.DISTINCT).withDtypes(OpInfo.NUMERIC),
            reduction("min", Tensor::min, Tensor::min, Tensor::min, v -> extremum(v, Math::min), false)
                    .withDomain(Domain.DISTINCT).withDtypes(OpInfo.NUMERIC),
            axisOp("argmax", Tensor::argmax, OpTable::firstArgmax, false).withDomain(Domain.SMALL_INTEGERS)
                    .withDtypes(OpInfo.NUMERIC).withResultType(t -> DType.INT32).withoutGradient(),
            axisOp("logSumExp", Tensor::logSumExp, v -> Math.log(sumOf(exp(v))), false),
            axisOp("softmax", Tensor::softmax, v -> 0, true).withReference((in, a) -> softmax(in.get(0), a.axis())),
            axisOp("logSoftmax", Tensor::logSoftmax, v -> 0, true)
                    .withReference((in, a) -> softmax(in.get(0), a.axis()).map(Math::log)),

            // ---- linear algebra ----------------------------------------------------------------------------
            op("matmul", LINEAR_ALGEBRA, 2, ShapeCases.matmul(), (in, a) -> in.get(0).matmul(in.get(1)),
                    (in, a) -> Reference.matmul(in.get(0), in.get(1))).withDtypes(OpInfo.NUMERIC)
                    .withTolerances(5e-5, 1e-12).withLargeCases(ShapeCases.largeMatmul()),
            op("transpose", LINEAR_ALGEBRA, 1, ShapeCases.ranked(2), (in, a) -> in.get(0).transpose(),
                    (in, a) -> Reference.permute(in.get(0), Reference.swapLastTwo(in.get(0).rank())))
                    .withDtypes(OpInfo.NUMERIC),

            // ---- shape ops ---------------------------------------------------------------------------------
            op("permute", SHAPE, 1, ShapeCases.permutations(), (in, a) -> in.get(0).permute(a.ints()),
                    (in, a) -> Reference.permute(in.get(0), a.ints())).withDtypes(OpInfo.NUMERIC),
            op("reshape", SHAPE, 1, ShapeCases.reshapes(), (in, a) -> in.get(0).reshape(a.dims()),
                    (in, a) -> in.get(0).withShape(Reference.resolveMinusOne(a.dims(), in.get(0).data().length)))
                    .withDtypes(OpInfo.NUMERIC),
            op("flatten", SHAPE, 1, ShapeCases.single(), (in, a) -> in.get(0).flatten(),
                    (in, a) -> in.get(0).withShape(in.get(0).data().length)).withDtypes(OpInfo.NUMERIC),
            op("expandDims", SHAPE, 1, ShapeCases.expandDims(), (in, a) -> in.get(0).expandDims(a.axis()),
                    (in, a) -> Reference.expandDims(in.get(0), a.axis())).withDtypes(OpInfo.NUMERIC),
            op("squeeze", SHAPE, 1, ShapeCases.squeezes(), (in, a) -> in.get(0).squeeze(a.ints()),
                    (in, a) -> Reference.squeeze(in.get(0), a.ints())).withDtypes(OpInfo.NUMERIC),
            op("broadcastTo", SHAPE, 1, ShapeCases.broadcastTargets(), (in, a) -> in.get(0).broadcastTo(a.dims()),
                    (in, a) -> HostTensor.generate(a.dims(), i -> in.get(0).atBroadcast(i)))
                    .withDtypes(OpInfo.NUMERIC),
            op("slice", SHAPE, 1, ShapeCases.slices(), (in, a) -> in.get(0).slice(a.begin(), a.size()),
                    (in, a) -> Reference.slice(in.get(0), a.begin(), a.size())).withDtypes(OpInfo.NUMERIC),
            // no gradient by definition; ShapeOpsTest checks that it blocks one
            op("stopGradient", SHAPE, 1, ShapeCases.single(), (in, a) -> in.get(0).stopGradient(),
                    (in, a) -> in.get(0)).withDtypes(OpInfo.NUMERIC).withoutGradient(),
            op("concat", SHAPE, 3, ShapeCases.concats(3), (in, a) -> Nabla.concat(in, a.axis()),
                    (in, a) -> Reference.concat(in, a.axis())).withDtypes(OpInfo.NUMERIC).covering("Nabla.concat"),
            op("stack", SHAPE, 3, ShapeCases.stacks(3), (in, a) -> Nabla.stack(in, a.axis()),
                    (in, a) -> Reference.stack(in, a.axis())).withDtypes(OpInfo.NUMERIC).covering("Nabla.stack"),
            op("where", SHAPE, 2, ShapeCases.wheres(),
                    (in, a) -> Nabla.where(Tensor.of(in.get(0).device(), a.values(), a.shape()).reshape(a.shape()),
                            in.get(0), in.get(1)),
                    (in, a) -> Reference.where(a, in.get(0), in.get(1))).withDtypes(OpInfo.NUMERIC)
                    .covering("Nabla.where"),
            // slice's adjoint, and how conv2d pads for "same"
            op("pad", SHAPE, 1, ShapeCases.pads(), (in, a) -> in.get(0).pad(a.begin(), a.after(in.get(0).shape())),
                    (in, a) -> Reference.pad(in.get(0), a.shape(), a.begin())).withDtypes(OpInfo.NUMERIC)
                    .covering("Tensor.pad"),

            // ---- indexing ----------------------------------------------------------------------------------
            op("gather", INDEXING, 1, ShapeCases.gathers(),
                    (in, a) -> in.get(0).gather(
                            Tensor.of(in.get(0).device(), a.indices(), a.indicesShape()).reshape(a.indicesShape()),
                            a.axis()),
                    (in, a) -> Reference.gather(in.get(0), a)).withDtypes(OpInfo.NUMERIC),
            // internal (dev.nabla.ops): gather's adjoint, col2im of conv2d and pooling
            op("scatterAdd", INDEXING, 1, ShapeCases.scatterAdds(),
                    (in, a) -> Indexing.scatterAdd(Shape.of(a.shape()), a.axis(),
                            Tensor.of(in.get(0).device(), a.indices(), a.indicesShape()).reshape(a.indicesShape()),
                            in.get(0)),
                    (in, a) -> Reference.scatterAdd(in.get(0), a)).withDtypes(OpInfo.NUMERIC)
                    .covering("Indexing.scatterAdd"),
            op("oneHot", INDEXING, 1, ShapeCases.oneHots(), (in, a) -> in.get(0).oneHot(a.depth()),
                    (in, a) -> Reference.oneHot(in.get(0), a.depth())).withDomain(Domain.SMALL_INTEGERS)
                    .withDtypes(Set.of(DType.INT32)).withResultType(t -> DType.FLOAT32).withoutGradient(),

            // ---- casts: float -> int truncates toward zero, anything -> bool is "non-zero" -------------------
            cast(DType.FLOAT32, Set.of(DType.FLOAT64, DType.INT32), x -> x),
            cast(DType.FLOAT64, Set.of(DType.FLOAT32, DType.INT32), x -> x),
            cast(DType.INT32, OpInfo.FLOATS, x -> (int) x),
            cast(DType.BOOL, OpInfo.NUMERIC, x -> x != 0 ? 1 : 0).withDomain(Domain.SMALL_INTEGERS)),
            // ---- neural-network functions and layers (dev.nabla.nn) ----------------------------------------
            NnOpTable.ROWS.stream()).toList();

    /** The rows of one family. */
    static List<OpInfo<?>> family(Family f) {
        return ROWS.stream().filter(r -> r.family() == f).toList();
    }

    // ---- row templates -------------------------------------------------------------------------------------

    /**
     * A unary row; when its name is a primitive's ({@code "neg"} for {@link UnaryOp#NEG}) its dtypes default to the
     * primitive's declared rule, the one core checks.
     */
    private static OpInfo<Void> unary(String name, UnaryOperator<Tensor> call, DoubleUnaryOperator reference) {
        OpInfo<Void> row = op(name, UNARY, 1, ShapeCases.single(), (in, a) -> call.apply(in.get(0)),
                (in, a) -> in.get(0).map(reference)).withLargeCases(ShapeCases.largeSingle());
        for (UnaryOp p : UnaryOp.values()) {
            if (p.name().equalsIgnoreCase(name)) {
                row = row.withDtypes(p.dtypes().accepted());
            }
        }
        return row;
    }

    /** A binary op with a Java number as its right operand (it takes the tensor's dtype). */
    private static OpInfo<Void> numberOperand(String name, UnaryOperator<Tensor> call, DoubleUnaryOperator reference) {
        return op(name, BINARY, 1, ShapeCases.single(), (in, a) -> call.apply(in.get(0)),
                (in, a) -> in.get(0).map(reference)).withLargeCases(ShapeCases.largeSingle());
    }

    /** A binary row; its dtypes default to the primitive's declared rule, as {@link #unary}'s. */
    private static OpInfo<Void> binary(String name, BinaryOperator<Tensor> call, DoubleBinaryOperator reference) {
        OpInfo<Void> row = op(name, BINARY, 2, ShapeCases.broadcastPair(), (in, a) -> call.apply(in.get(0), in.get(1)),
                (in, a) -> HostTensor.broadcast(in.get(0), in.get(1), reference))
                .withLargeCases(ShapeCases.largeBroadcastPair());
        for (BinaryOp p : BinaryOp.values()) {
            if (p.name().equalsIgnoreCase(name)) {
                row = row.withDtypes(p.dtypes().accepted());
            }
        }
        return row;
    }

    private interface DoublePredicate2 {
        boolean test(double a, double b);
    }

    private static OpInfo<Void> comparison(String name, BinaryOperator<Tensor> call, DoublePredicate2 reference) {
        return op(name, COMPARISON, 2, ShapeCases.broadcastPair(), (in, a) -> call.apply(in.get(0), in.get(1)),
                (in, a) -> HostTensor.broadcast(in.get(0), in.get(1), (x, y) -> reference.test(x, y) ? 1 : 0))
                .withDomain(Domain.SMALL_INTEGERS).withDtypes(OpInfo.NUMERIC).withResultType(t -> DType.BOOL)
                .withoutGradient().withLargeCases(ShapeCases.largeBroadcastPair());
    }

    private static OpInfo<Void> comparisonWithNumber(String name, UnaryOperator<Tensor> call,
            java.util.function.DoublePredicate reference) {
        return op(name, COMPARISON, 1, ShapeCases.single(), (in, a) -> call.apply(in.get(0)),
                (in, a) -> in.get(0).map(x -> reference.test(x) ? 1 : 0)).withDomain(Domain.SMALL_INTEGERS)
                .withDtypes(OpInfo.NUMERIC).withResultType(t -> DType.BOOL).withoutGradient();
    }

    private interface AxesOverload {
        Tensor apply(Tensor x, int[] axes, boolean keepDims);
    }

    private interface VarargsOverload {
        Tensor apply(Tensor x, int... axes);
    }

    /** A reduction through its three overloads: no axes (all), varargs axes, and axes with keepDims. */
    private static OpInfo<Axes> reduction(String name, UnaryOperator<Tensor> all, VarargsOverload axes,
            AxesOverload keep, ToDoubleFunction<double[]> reference, boolean allowEmpty) {
        return op(name, REDUCTION, 1, ShapeCases.reductions(allowEmpty), (in, a) -> {
            Tensor x = in.get(0);
            if (a.axes() == null) {
                return all.apply(x);
            }
            return a.keepDims() ? keep.apply(x, a.axes(), true) : axes.apply(x, a.axes());
        }, (in, a) -> in.get(0).reduce(Reference.normalize(a.axes(), in.get(0).rank()), a.keepDims(), reference))
                .withTolerances(5e-5, 1e-12).withLargeCases(ShapeCases.largeReductions());
    }

    /** An op along one axis: a reduction that drops it, or (keepsAxis) a map along it. */
    private static OpInfo<OpArgs.Axis> axisOp(String name, BiFunction<Tensor, Integer, Tensor> call,
            ToDoubleFunction<double[]> reference, boolean keepsAxis) {
        return op(name, REDUCTION, 1, ShapeCases.nonEmptyAxis(), (in, a) -> call.apply(in.get(0), a.axis()),
                (in, a) -> in.get(0).reduce(Reference.normalize(new int[] {a.axis()}, in.get(0).rank()), false,
                        reference)).withTolerances(5e-5, 1e-12).withLargeCases(ShapeCases.largeAxis());
    }

    private static OpInfo<Void> cast(DType to, Set<DType> from, DoubleUnaryOperator reference) {
        OpInfo<Void> row = op("to(" + to + ")", CAST, 1, ShapeCases.single(), (in, a) -> in.get(0).to(to),
                (in, a) -> in.get(0).map(reference)).withDtypes(from).withResultType(t -> to)
                .covering("Tensor.to(DType)");
        // only float -> float casts carry a gradient, and the checker needs a float64 result: see CastOpsTest
        return row.withoutGradient();
    }

    // ---- scalar references ---------------------------------------------------------------------------------

    static double sumOf(double[] v) {
        double s = 0;
        for (double x : v) {
            s += x;
        }
        return s;
    }

    private static double extremum(double[] v, DoubleBinaryOperator pick) {
        double best = v[0];
        for (double x : v) {
            best = pick.applyAsDouble(best, x);
        }
        return best;
    }

    private static double firstArgmax(double[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }

    private static double[] exp(double[] v) {
        double[] e = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            e[i] = Math.exp(v[i]);
        }
        return e;
    }

    /** softmax_i = e^x_i / sum_j e^x_j along the axis (inputs are moderate, so no shift is needed here). */
    private static HostTensor softmax(HostTensor x, int axis) {
        int a = Reference.normalize(new int[] {axis}, x.rank())[0];
        HostTensor sums = x.reduce(new int[] {a}, true, v -> sumOf(exp(v)));
        return HostTensor.generate(x.shape(), i -> Math.exp(x.at(i)) / sums.atBroadcast(i));
    }
}
