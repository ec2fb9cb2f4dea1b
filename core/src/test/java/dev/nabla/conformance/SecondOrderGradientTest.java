package dev.nabla.conformance;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.nabla.Device;
import dev.nabla.GradientTape;
import dev.nabla.Tensor;
import dev.nabla.check.GradientChecker;
import dev.nabla.conformance.OpInfo.Family;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.DoubleUnaryOperator;
import java.util.function.UnaryOperator;

/** Gradients of gradients through nested GradientTapes: hand-derived second derivatives and table-driven Hessians. */
class SecondOrderGradientTest {
    private static final double[] X = {-1.3, -0.4, 0.7, 1.9};

    /** d²f/dx² element-wise, by an inner tape recorded on an outer one. */
    private static double[] secondDerivative(Device d, UnaryOperator<Tensor> f) {
        Tensor x = Tensor.of(d, X.clone());
        try (GradientTape outer = new GradientTape()) {
            outer.watch(x);
            Tensor dy;
            try (GradientTape inner = new GradientTape()) {
                inner.watch(x);
                dy = inner.gradient(f.apply(x), x);
            }
            return outer.gradient(dy, x).toDoubleArray();
        }
    }

    private static void assertSecondDerivative(Device d, UnaryOperator<Tensor> f, DoubleUnaryOperator expected,
            String what) {
        double[] want = new double[X.length];
        for (int i = 0; i < X.length; i++) {
            want[i] = expected.applyAsDouble(X[i]);
        }
        assertArrayEquals(want, secondDerivative(d, f), 1e-12, what);
    }

    @OnEachDevice
    void handDerivedSecondDerivatives(Device d) {
        // tanh' = 1 - tanh², tanh'' = -2 tanh (1 - tanh²)
        assertSecondDerivative(d, Tensor::tanh, x -> -2 * Math.tanh(x) * (1 - Math.tanh(x) * Math.tanh(x)), "tanh");
        // sin'' = -sin
        assertSecondDerivative(d, Tensor::sin, x -> -Math.sin(x), "sin");
        // (x³)'' = 6x, through pow and through products
        assertSecondDerivative(d, x -> x.pow(3), x -> 6 * x, "pow 3");
        assertSecondDerivative(d, x -> x.mul(x).mul(x), x -> 6 * x, "x*x*x");
        // σ' = σ(1 - σ), σ'' = σ(1 - σ)(1 - 2σ)
        assertSecondDerivative(d, Tensor::sigmoid, x -> {
            double s = 1 / (1 + Math.exp(-x));
            return s * (1 - s) * (1 - 2 * s);
        }, "sigmoid");
        // (e^x)'' = e^x; (1/x)'' = 2/x³
        assertSecondDerivative(d, Tensor::exp, Math::exp, "exp");
        assertSecondDerivative(d, Tensor::reciprocal, x -> 2 / (x * x * x), "reciprocal");
    }

    /**
     * relu's mask and abs's sign have no derivative, so a second derivative through them stays finite next to an
     * infinite weight (a zero term through the mask met that weight in the product's gradient: 0 · inf = NaN).
     */
    @OnEachDevice
    void secondDerivativesTakeNothingThroughReluMasksOrAbsSigns(Device d) {
        for (UnaryOperator<Tensor> f : List.<UnaryOperator<Tensor>>of(Tensor::relu, Tensor::abs)) {
            Tensor a = Tensor.of(d, new double[] {1, 1}, 1, 2);
            Tensor b = Tensor.of(d, new double[] {1, Double.POSITIVE_INFINITY, 1, 1}, 2, 2);
            try (GradientTape outer = new GradientTape()) {
                outer.watch(a, b);
                Tensor db;
                try (GradientTape inner = new GradientTape()) {
                    inner.watch(a, b);
                    db = inner.gradient(f.apply(a.matmul(b)), b);   // aᵀ · f'(a b): all ones
                }
                assertArrayEquals(new double[] {1, 1, 1, 1}, db.toDoubleArray());
                // sum(db) = sum_ij a_i f'_j: each a_i meets both columns of the mask
                assertArrayEquals(new double[] {2, 2}, outer.gradient(db.sum(), a).toDoubleArray());
            }
        }
    }

    @OnEachDevice
    void mixedPartialOfAProduct(Device d) {
        Tensor x = Tensor.of(d, new double[] {2});
        Tensor y = Tensor.of(d, new double[] {5});
        try (GradientTape outer = new GradientTape()) {
            outer.watch(x, y);
            Tensor dx;
            try (GradientTape inner = new GradientTape()) {
                inner.watch(x, y);
                // f = x² y: df/dx = 2xy, d²f/dydx = 2x = 4
                dx = inner.gradient(x.square().mul(y), x);
            }
            assertEquals(20, dx.doubleItem(), 1e-12);
            assertEquals(4, outer.gradient(dx, y).doubleItem(), 1e-12);
        }
    }

    /** The gradient of sum(op(inputs)) with respect to input 0, as a function the checker can differentiate. */
    private static <A> Tensor firstGradient(OpInfo<A> row, List<Tensor> in, A args) {
        try (GradientTape inner = new GradientTape()) {
            inner.watch(in.get(0));
            Tensor g = inner.gradient(row.call().apply(in, args), in.get(0));
            return g != null ? g : Tensor.zerosLike(in.get(0));
        }
    }

    @OnEachDevice
    void hessiansOfElementwiseAndReductionOpsMatchFiniteDifferences(Device d) {
        List<String> failures = new ArrayList<>();
        for (Family f : new Family[] {Family.UNARY, Family.BINARY, Family.REDUCTION, Family.LINEAR_ALGEBRA}) {
            for (OpInfo<?> row : OpTable.family(f)) {
                if (row.differentiable()) {
                    failures.addAll(hessianFailures(d, row));
                }
            }
        }
        assertEquals(List.of(), failures);
    }

    /** The first three cases of a row (scalars, size 1, size 0 and the classic broadcasts) keep this quick. */
    private static <A> List<String> hessianFailures(Device d, OpInfo<A> row) {
        List<String> failures = new ArrayList<>();
        Random r = new Random(row.name().hashCode());
        for (OpCase<A> c : row.cases().draw(r).subList(0, 3)) {
            List<Tensor> in = new ArrayList<>();
            for (int i = 0; i < c.shapes().size(); i++) {
                in.add(DeviceTensors.random(d, dev.nabla.DType.FLOAT64, c.shapes().get(i), row.domain(), r, i)
                        .tensor());
            }
            try {
                GradientChecker.check(x -> firstGradient(row, x, c.args()), in).assertWithin(1e-5);
            } catch (RuntimeException | AssertionError e) {
                failures.add(row.name() + " " + c + ": " + e);
            }
        }
        return failures;
    }
}
