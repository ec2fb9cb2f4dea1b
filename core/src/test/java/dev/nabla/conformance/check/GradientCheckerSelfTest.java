package dev.nabla.conformance.check;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nabla.DType;
import dev.nabla.Device;
import dev.nabla.Nabla;
import dev.nabla.Tensor;
import dev.nabla.check.GradientChecker;
import dev.nabla.conformance.OnEachDevice;
import dev.nabla.ops.Indexing;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;

/**
 * The checker itself: every table-driven gradient test trusts it, so it must report a large error for a wrong
 * rule (and a small one for the right rule), for FLOAT32 and FLOAT64 inputs. The wrong rules are installed with
 * {@link Nabla#customGradient}, whose forward is right, so only the tape's side of the comparison is wrong; the
 * expected errors are worked out by hand from the true derivative in each comment.
 */
class GradientCheckerSelfTest {
    /** Exact in float32, so both dtypes hold the same values; signs mixed, every |x| >= 0.5. */
    private static final double[] X = {0.5, -1.25, 2.0, -3.0, 1.5};
    /** A loose tolerance: a broken checker must not pass a wrong rule even here. */
    private static final double LOOSE = 1e-3;

    private static Tensor input(Device d, DType t, double[] values) {
        if (t == DType.FLOAT64) {
            return Tensor.of(d, values.clone());
        }
        float[] f = new float[values.length];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) values[i];
        }
        return Tensor.of(d, f);
    }

    private static Function<List<Tensor>, Tensor> custom(Function<List<Tensor>, Tensor> forward,
            Nabla.CustomGradient rule) {
        return in -> Nabla.customGradient(in, forward, rule);
    }

    private static Function<List<Tensor>, Tensor> square(Nabla.CustomGradient rule) {
        return custom(in -> in.get(0).square(), rule);
    }

    private static double maxAbs(double[] v) {
        return Arrays.stream(v).map(Math::abs).max().orElseThrow();
    }

    /** The checker reports {@code abs} and {@code rel}, and assertWithin rejects it. */
    private static void assertCaught(GradientChecker.Result r, double abs, double rel, String what) {
        assertEquals(abs, r.maxAbsError(), 1e-6 * Math.max(1, abs), what + ": " + r);
        assertEquals(rel, r.maxRelError(), 1e-6 * Math.max(1, rel), what + ": " + r);
        AssertionError e = assertThrows(AssertionError.class, () -> r.assertWithin(LOOSE), what);
        assertTrue(e.getMessage().contains("gradient check failed"), e.getMessage());
    }

    /** The right rule passes a tight tolerance. */
    private static void assertPasses(GradientChecker.Result r, String what) {
        r.assertWithin(1e-8);
        assertTrue(r.maxAbsError() < 1e-8, what + ": " + r);
    }

    @OnEachDevice
    void squareWithHalfItsDerivativeFails(Device d) {
        for (DType t : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            List<Tensor> x = List.of(input(d, t, X));
            // d(x^2)/dx = 2x; the rule claims x: the diagonal differs by |x|, relative |x| / max(1, 2|x|) = 1/2
            // for every |x| >= 1/2
            GradientChecker.Result wrong = GradientChecker.check(square((in, out, g) -> List.of(g.mul(in.get(0)))), x);
            assertCaught(wrong, maxAbs(X), 0.5, t + " x^2 claimed as x");
            GradientChecker.Result right = GradientChecker.check(
                    square((in, out, g) -> List.of(g.mul(in.get(0)).mul(2))), x);
            assertPasses(right, t + " x^2 as 2x");
        }
    }

    @OnEachDevice
    void aSignFlipFails(Device d) {
        for (DType t : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            List<Tensor> x = List.of(input(d, t, X));
            // claimed -2x, true 2x: |4x|, relative 4|x| / (2|x|) = 2
            GradientChecker.Result r = GradientChecker.check(
                    square((in, out, g) -> List.of(g.mul(in.get(0)).mul(-2))), x);
            assertCaught(r, 4 * maxAbs(X), 2, t + " sign flip");
        }
    }

    @OnEachDevice
    void aRuleRightOnlyForPositiveInputsFails(Device d) {
        for (DType t : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            List<Tensor> x = List.of(input(d, t, X));
            // 2x where x > 0, 0 elsewhere: wrong by 2|x| at the negative entries (largest at x = -3: 6, relative 1)
            GradientChecker.Result r = GradientChecker.check(square((in, out, g) -> {
                Tensor xi = in.get(0);
                return List.of(g.mul(xi).mul(2).mul(xi.gt(0).to(xi.dtype())));
            }), x);
            assertCaught(r, 6, 1, t + " right for x > 0 only");
        }
    }

    @OnEachDevice
    void aSingleWrongEntryAmongManyFails(Device d) {
        for (DType t : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            double[] v = new double[40];
            for (int i = 0; i < v.length; i++) {
                v[i] = (i % 9) * 0.25 - 1;
            }
            double[] bump = new double[v.length];
            bump[37] = 0.5;
            List<Tensor> x = List.of(input(d, t, v));
            // the rule 2x + bump is wrong by 0.5 at entry 37 only; there x = (37 % 9) 0.25 - 1 = -0.75, the rule
            // gives -1 against the true -1.5, so the relative error is 0.5 / max(1, 1, 1.5) = 1/3
            GradientChecker.Result r = GradientChecker.check(square((in, out, g) ->
                    List.of(g.mul(in.get(0)).mul(2).add(g.mul(Tensor.of(g.device(), bump).to(g.dtype()))))), x);
            assertCaught(r, 0.5, 1.0 / 3, t + " one wrong entry of 40");
        }
    }

    @OnEachDevice
    void aMissingCrossTermFails(Device d) {
        for (DType t : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            List<Tensor> x = List.of(input(d, t, X));
            // y_i = x_i s with s = sum(x): dy_i/dx_j = δ_ij s + x_i, so the vector-Jacobian product is
            // (v^T J)_j = v_j s + Σ_i v_i x_i. A rule without the second term is wrong by |x_i| in every column of
            // row i: largest 3 (x_i = -3). Relative: off the diagonal 0 against x_i, |x_i| / max(1, |x_i|) <= 1; on
            // it s against s + x_i with s = -0.25, |x_i| / max(1, |s + x_i|): 0.5, 1.25/1.5, 2/1.75, 3/3.25 and,
            // the largest, 1.5/1.25 = 1.2
            Function<List<Tensor>, Tensor> forward = in -> in.get(0).mul(in.get(0).sum());
            GradientChecker.Result wrong = GradientChecker.check(custom(forward,
                    (in, out, g) -> List.of(g.mul(in.get(0).sum()))), x);
            assertCaught(wrong, 3, 1.2, t + " cross term missing");
            GradientChecker.Result right = GradientChecker.check(custom(forward,
                    (in, out, g) -> List.of(g.mul(in.get(0).sum()).add(g.mul(in.get(0)).sum()))), x);
            assertPasses(right, t + " full rule");
        }
    }

    @OnEachDevice
    void aWrongGradientForTheSecondInputFails(Device d) {
        for (DType t : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            double[] b = {2, 0.5, -1, 1, -2};
            List<Tensor> ab = List.of(input(d, t, X), input(d, t, b));
            // y = a b: dy/da = b (given right), dy/db = a (given as b): wrong by |a - b| = 1.5, 1.75, 3, 4, 3.5,
            // relative |a - b| / max(1, |b|, |a|) = 0.75, 1.4, 1.5, 4/3, 1.75: the largest are 4 and 1.75
            Function<List<Tensor>, Tensor> forward = in -> in.get(0).mul(in.get(1));
            GradientChecker.Result wrong = GradientChecker.check(custom(forward,
                    (in, out, g) -> List.of(g.mul(in.get(1)), g.mul(in.get(1)))), ab);
            assertCaught(wrong, 4, 1.75, t + " second input");
            GradientChecker.Result right = GradientChecker.check(custom(forward,
                    (in, out, g) -> List.of(g.mul(in.get(1)), g.mul(in.get(0)))), ab);
            assertPasses(right, t + " both inputs");
        }
    }

    @OnEachDevice
    void aMissingOrNaNGradientFails(Device d) {
        for (DType t : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            List<Tensor> x = List.of(input(d, t, X));
            // no gradient at all (treated as zeros) against 2x: |2x|, largest 6, relative 1
            GradientChecker.Result none = GradientChecker.check(square((in, out, g) -> Arrays.asList((Tensor) null)), x);
            assertCaught(none, 6, 1, t + " null gradient");
            // NaN against a finite difference is an infinite error, never within any tolerance
            GradientChecker.Result nan = GradientChecker.check(square((in, out, g) -> List.of(g.mul(Double.NaN))), x);
            assertEquals(Double.POSITIVE_INFINITY, nan.maxAbsError());
            assertThrows(AssertionError.class, () -> nan.assertWithin(1e6));
        }
    }

    @OnEachDevice
    void nonFloatingInputsAreNotDifferentiatedButTheFloatingOnesStillAre(Device d) {
        for (DType t : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            Tensor idx = Tensor.of(d, new int[] {4, 0, 3});
            List<Tensor> in = List.of(input(d, t, X), idx);
            // y = gather(x, idx)^2: dy_r/dx_c = 2 x_c where c = idx_r; the rule scatters x (not 2x) back, so the
            // error is |x_c| at the gathered entries: max(|1.5|, |0.5|, |-3|) = 3, relative 1/2
            Function<List<Tensor>, Tensor> forward = a -> a.get(0).gather(a.get(1), 0).square();
            GradientChecker.Result wrong = GradientChecker.check(custom(forward, (a, out, g) -> Arrays.asList(
                    Indexing.scatterAdd(a.get(0).shape(), 0, a.get(1), g.mul(a.get(0).gather(a.get(1),
                            0))), null)), in);
            assertCaught(wrong, 3, 0.5, t + " gather");
        }
    }
}
