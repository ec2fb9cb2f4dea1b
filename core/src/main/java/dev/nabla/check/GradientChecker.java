package dev.nabla.check;

import dev.nabla.DType;
import dev.nabla.GradientTape;
import dev.nabla.Tensor;
import dev.nabla.ops.Checks;
import dev.nabla.ops.Creation;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Compares the tape's gradients with central finite differences, both in FLOAT64 (as TF's
 * {@code tf.test.compute_gradient} and PyTorch's {@code gradcheck}).
 *
 * <pre>{@code
 * Tensor x = Tensor.of(new double[] {0.5, -1.2, 2.0});
 * GradientChecker.check(in -> in.get(0).tanh().mul(in.get(0)).sum(), List.of(x)).assertWithin(1e-6);
 * }</pre>
 *
 * <p>Floating inputs are converted to FLOAT64 before both computations; other inputs (indices, masks) are passed
 * through unchanged and not differentiated. The error of an entry is {@code |theoretical - numerical|}, and its
 * relative error divides that by {@code max(1, |theoretical|, |numerical|)}.
 */
public final class GradientChecker {
    /** Step of the central difference: its truncation error (~h^2) and rounding error (~1e-16/h) balance near here. */
    private static final double STEP = 1e-6;

    private GradientChecker() {
    }

    /**
     * The largest errors between the theoretical and numerical Jacobians.
     *
     * <pre>{@code
     * GradientChecker.Result r = GradientChecker.check(in -> in.get(0).exp().sum(), List.of(x));
     * r.assertWithin(1e-6);   // throws AssertionError naming both errors when either is larger
     * }</pre>
     */
    public record Result(double maxAbsError, double maxRelError) {
        /** @throws AssertionError when the relative error exceeds {@code tolerance} */
        public void assertWithin(double tolerance) {
            if (!(maxRelError <= tolerance)) {
                throw new AssertionError("gradient check failed: max relative error " + maxRelError
                        + " (absolute " + maxAbsError + ") exceeds " + tolerance);
            }
        }
    }

    /**
     * Both Jacobians of {@code f} for each input: {@code theoretical.get(i)[r][c]} is d f(x)[r] / d x_i[c] from the
     * tape, {@code numerical} the same from central differences; empty arrays for non-floating inputs.
     *
     * <pre>{@code
     * GradientChecker.Jacobians j = GradientChecker.jacobians(in -> in.get(0).square(), List.of(x));
     * double dydx = j.theoretical().get(0)[0][0];   // the tape's; j.numerical() holds the finite differences
     * }</pre>
     */
    public record Jacobians(List<double[][]> theoretical, List<double[][]> numerical) {
        /** The largest differences between the two. */
        public Result result() {
            double maxAbs = 0;
            double maxRel = 0;
            for (int i = 0; i < theoretical.size(); i++) {
                double[][] theory = theoretical.get(i);
                double[][] numeric = numerical.get(i);
                for (int r = 0; r < theory.length; r++) {
                    for (int c = 0; c < theory[r].length; c++) {
                        double t = theory[r][c];
                        double n = numeric[r][c];
                        double abs = Math.abs(t - n);
                        if (Double.isNaN(abs)) {
                            abs = Double.isNaN(t) && Double.isNaN(n) ? 0 : Double.POSITIVE_INFINITY;
                        }
                        maxAbs = Math.max(maxAbs, abs);
                        maxRel = Math.max(maxRel, abs / Math.max(1, Math.max(Math.abs(t), Math.abs(n))));
                    }
                }
            }
            return new Result(maxAbs, maxRel);
        }
    }

    /** Checks {@code f} at {@code inputs}. */
    public static Result check(Function<List<Tensor>, Tensor> f, List<Tensor> inputs) {
        return jacobians("GradientChecker.check", f, inputs).result();
    }

    /** Computes both Jacobians of {@code f} at {@code inputs}, for display or custom comparison. */
    public static Jacobians jacobians(Function<List<Tensor>, Tensor> f, List<Tensor> inputs) {
        return jacobians("GradientChecker.jacobians", f, inputs);
    }

    private static Jacobians jacobians(String op, Function<List<Tensor>, Tensor> f, List<Tensor> inputs) {
        Checks.notNull(op, "f", f);
        Checks.open(op, "inputs", inputs);
        if (inputs.stream().noneMatch(t -> t.dtype().isFloating())) {
            // nothing to differentiate: a check would pass without comparing a single derivative
            throw new IllegalArgumentException(op + ": no float32 or float64 input to differentiate among "
                    + inputs.stream().map(t -> t.shape() + " " + t.dtype()).toList());
        }
        Function<List<Tensor>, Tensor> checked = in -> Checks.returned(op, "f", f.apply(in));
        List<Tensor> x = new ArrayList<>();
        for (Tensor t : inputs) {
            x.add(t.dtype().isFloating() ? t.to(DType.FLOAT64) : t);
        }
        List<double[][]> theory = new ArrayList<>();
        List<double[][]> numeric = new ArrayList<>();
        for (int i = 0; i < x.size(); i++) {
            boolean differentiable = x.get(i).dtype().isFloating();
            theory.add(differentiable ? theoretical(op, checked, x, i) : new double[0][0]);
            numeric.add(differentiable ? numerical(checked, x, i) : new double[0][0]);
        }
        return new Jacobians(theory, numeric);
    }

    /** Rows: elements of f(x); columns: elements of input i. */
    private static double[][] theoretical(String op, Function<List<Tensor>, Tensor> f, List<Tensor> x, int i) {
        Tensor xi = x.get(i);
        try (GradientTape tape = GradientTape.persistent()) {
            tape.watch(xi);
            Tensor y = f.apply(x);
            if (y.dtype() != DType.FLOAT64) {
                throw new IllegalArgumentException(op + ": f must return float64 for float64 inputs, got "
                        + y.dtype() + " " + y.shape());
            }
            int rows = (int) y.size();
            int cols = (int) xi.size();
            double[][] j = new double[rows][cols];
            for (int r = 0; r < rows; r++) {
                double[] seed = new double[rows];
                seed[r] = 1;
                Tensor g = tape.gradient(y, xi, Creation.withShape(y.device(), seed, y.shape()));
                if (g != null) {
                    if (!g.shape().equals(xi.shape()) || g.dtype() != xi.dtype()) {
                        throw new AssertionError("gradient has shape " + g.shape() + " " + g.dtype()
                                + ", source has " + xi.shape() + " " + xi.dtype());
                    }
                    j[r] = g.toDoubleArray();
                }
            }
            tape.release();
            return j;
        }
    }

    private static double[][] numerical(Function<List<Tensor>, Tensor> f, List<Tensor> x, int i) {
        Tensor xi = x.get(i);
        double[] base = xi.toDoubleArray();
        int cols = base.length;
        double[][] j = null;
        List<Tensor> args = new ArrayList<>(x);
        for (int c = 0; c < cols; c++) {
            double[] plus = eval(f, args, i, base, c, STEP);
            double[] minus = eval(f, args, i, base, c, -STEP);
            if (j == null) {
                j = new double[plus.length][cols];
            }
            for (int r = 0; r < plus.length; r++) {
                j[r][c] = (plus[r] - minus[r]) / (2 * STEP);
            }
        }
        if (j == null) {
            j = new double[(int) f.apply(x).size()][0];
        }
        return j;
    }

    private static double[] eval(Function<List<Tensor>, Tensor> f, List<Tensor> args, int i, double[] base, int c,
            double h) {
        double[] p = base.clone();
        p[c] += h;
        Tensor xi = args.get(i);
        try (Tensor moved = Creation.withShape(xi.device(), p, xi.shape())) {
            args.set(i, moved);
            return f.apply(args).toDoubleArray();
        }
    }
}
