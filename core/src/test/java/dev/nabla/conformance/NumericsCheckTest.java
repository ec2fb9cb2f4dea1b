package dev.nabla.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nabla.DType;
import dev.nabla.Device;
import dev.nabla.GradientTape;
import dev.nabla.Nabla;
import dev.nabla.NumericsException;
import dev.nabla.Shape;
import dev.nabla.Tensor;
import dev.nabla.Variable;
import dev.nabla.optim.SGD;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/**
 * {@code Nabla.checkNumerics}: the first op whose output holds NaN or an infinity throws {@link NumericsException}
 * naming the op, its input shapes and the calling line (this class counts as the caller's code), in eager mode and in
 * backward (naming the forward op); off, the same programs return NaN silently.
 */
class NumericsCheckTest {
    private boolean wasOn;

    @BeforeEach
    void remember() {
        wasOn = Nabla.isCheckingNumerics();
    }

    @AfterEach
    void restore() {
        Nabla.checkNumerics(wasOn);
    }

    /** The line number after the caller's. */
    private static int nextLine() {
        return StackWalker.getInstance().walk(s -> s.skip(1).findFirst()).orElseThrow().getLineNumber() + 1;
    }

    private static NumericsException thrownWhileChecking(Supplier<?> body) {
        Nabla.checkNumerics(true);
        try {
            return assertThrows(NumericsException.class, body::get);
        } finally {
            Nabla.checkNumerics(false);
        }
    }

    private static void assertCalledFrom(NumericsException e, String method, int line) {
        StackTraceElement f = e.userFrame();
        assertNotNull(f, e.getMessage());
        assertEquals(NumericsCheckTest.class.getName(), f.getClassName(), e.getMessage());
        assertEquals(method, f.getMethodName(), e.getMessage());
        assertEquals(line, f.getLineNumber(), e.getMessage());
        assertTrue(e.getMessage().contains(" at " + NumericsCheckTest.class.getName() + "." + method
                + "(NumericsCheckTest.java:" + line + ")"), e.getMessage());
    }

    @OnEachDevice
    void logOfNegativeNamesTheOpShapesAndLine(Device d) {
        Tensor x = Tensor.of(d, new float[] {1, -1, 2});
        NumericsException e = thrownWhileChecking(x::log);
        assertEquals("log", e.op());
        assertEquals(List.of(Shape.of(3)), e.inputShapes());
        assertTrue(e.getMessage().startsWith("checkNumerics: log produced NaN (inputs (3,)) at "), e.getMessage());
        assertEquals(1, e.index());
        assertTrue(Double.isNaN(e.value()));
        assertNull(e.gradientOf());
        assertNull(e.forwardFrame());
        assertTrue(e.getMessage().contains("1 of 3 elements of the output (3,) are not finite, the first at index 1"),
                e.getMessage());
        assertTrue(e instanceof ArithmeticException);
    }

    @OnEachDevice
    void callingLineIsTheUsersLine(Device d) {
        Tensor x = Tensor.of(d, new float[] {-1});
        Nabla.checkNumerics(true);
        int line = 0;
        try {
            line = nextLine();
            x.log();
        } catch (NumericsException e) {
            assertCalledFrom(e, "callingLineIsTheUsersLine", line);
            return;
        } finally {
            Nabla.checkNumerics(false);
        }
        throw new AssertionError("no NumericsException");
    }

    @OnEachDevice
    void zeroOverZeroNamesBroadcastShapes(Device d) {
        Tensor a = Tensor.zeros(d, 2, 3);
        Tensor b = Tensor.zeros(d, 3);
        Nabla.checkNumerics(true);
        int line = 0;
        try {
            line = nextLine();
            a.div(b);
            throw new AssertionError("no NumericsException");
        } catch (NumericsException e) {
            assertEquals("div", e.op());
            assertEquals(List.of(Shape.of(2, 3), Shape.of(3)), e.inputShapes());
            assertTrue(e.getMessage().startsWith("checkNumerics: div produced NaN (inputs (2, 3), (3,)) at "),
                    e.getMessage());
            assertCalledFrom(e, "zeroOverZeroNamesBroadcastShapes", line);
        } finally {
            Nabla.checkNumerics(false);
        }
    }

    @OnEachDevice
    void expOverflowAndLogOfZeroAreInfinities(Device d) {
        NumericsException e = thrownWhileChecking(() -> Tensor.of(d, new float[] {1, 100}).exp());
        assertEquals("exp", e.op());
        assertEquals(Double.POSITIVE_INFINITY, e.value());
        assertEquals(1, e.index());
        assertTrue(e.getMessage().startsWith("checkNumerics: exp produced Inf (inputs (2,))"), e.getMessage());

        NumericsException f = thrownWhileChecking(() -> Tensor.of(d, new double[] {0}).log());
        assertEquals(Double.NEGATIVE_INFINITY, f.value());
        assertTrue(f.getMessage().startsWith("checkNumerics: log produced -Inf (inputs (1,))"), f.getMessage());
    }

    @OnEachDevice
    void compositesNameThePrimitiveAndTheUsersLine(Device d) {
        // mean over an empty axis is sum / 0
        Tensor empty = Tensor.zeros(d, 0, 2);
        Nabla.checkNumerics(true);
        int line = 0;
        try {
            line = nextLine();
            empty.mean(new int[] {0}, false);
            throw new AssertionError("no NumericsException");
        } catch (NumericsException e) {
            assertEquals("div", e.op());
            assertCalledFrom(e, "compositesNameThePrimitiveAndTheUsersLine", line);
        } finally {
            Nabla.checkNumerics(false);
        }
    }

    @OnEachDevice
    void recordedAndUnrecordedOpsAreChecked(Device d) {
        Variable w = new Variable(Tensor.of(d, new float[] {-1, 2}));
        NumericsException onTape = thrownWhileChecking(() -> {
            try (GradientTape tape = new GradientTape()) {
                return w.log();
            }
        });
        assertEquals("log", onTape.op());
        // a customGradient's forward runs unrecorded
        NumericsException inForward = thrownWhileChecking(() -> Nabla.customGradient(List.of(w),
                in -> in.get(0).sqrt(), (in, out, g) -> List.of(g)));
        assertEquals("sqrt", inForward.op());
        assertNull(inForward.gradientOf());
    }

    @OnEachDevice
    void backwardNamesTheForwardOp(Device d) {
        // sqrt is finite at 0, its gradient 1 / (2 sqrt x) is not
        Tensor x = Tensor.of(d, new float[] {4, 0, 1});
        Nabla.checkNumerics(true);
        int forwardLine = 0;
        int gradientLine = 0;
        try (GradientTape tape = new GradientTape()) {
            tape.watch(x);
            forwardLine = nextLine();
            Tensor y = x.sqrt();
            Tensor loss = y.sum();
            gradientLine = nextLine();
            tape.gradient(loss, x);
            throw new AssertionError("no NumericsException");
        } catch (NumericsException e) {
            assertEquals("div", e.op());
            assertEquals("sqrt", e.gradientOf());
            // the sum's gradient reaches sqrt's rule as it is, one value that the div broadcasts
            assertEquals(List.of(Shape.of(1), Shape.of(3)), e.inputShapes());
            assertEquals(Double.POSITIVE_INFINITY, e.value());
            assertEquals(1, e.index());
            assertCalledFrom(e, "backwardNamesTheForwardOp", gradientLine);
            assertNotNull(e.forwardFrame());
            assertEquals(forwardLine, e.forwardFrame().getLineNumber());
            assertTrue(e.getMessage().startsWith("checkNumerics: div produced Inf (inputs (1,), (3,)) in the gradient"
                    + " of sqrt (inputs (3,), forward at " + NumericsCheckTest.class.getName()
                    + ".backwardNamesTheForwardOp(NumericsCheckTest.java:" + forwardLine + ")) at "), e.getMessage());
        } finally {
            Nabla.checkNumerics(false);
        }
    }

    @OnEachDevice
    void backwardOfARecordOffTheCheckHasNoForwardLine(Device d) {
        Tensor x = Tensor.of(d, new float[] {0});
        try (GradientTape tape = new GradientTape()) {
            tape.watch(x);
            Tensor y = x.sqrt();
            NumericsException e = thrownWhileChecking(() -> tape.gradient(y, x));
            assertEquals("sqrt", e.gradientOf());
            assertNull(e.forwardFrame());
            assertTrue(e.getMessage().contains("in the gradient of sqrt (inputs (1,)) at "), e.getMessage());
        }
    }

    @OnEachDevice
    void customGradientReturningNaN(Device d) {
        Variable x = new Variable(Tensor.of(d, new float[] {1, 2}));
        // made by an op inside the user's gradient function
        NumericsException byOp = thrownWhileChecking(() -> {
            try (GradientTape tape = new GradientTape()) {
                Tensor y = Nabla.customGradient(List.of(x), in -> in.get(0).mul(3),
                        (in, out, g) -> List.of(g.mul(Double.NaN)));
                return tape.gradient(y, x);
            }
        });
        assertEquals("mul", byOp.op());
        assertEquals("customGradient", byOp.gradientOf());
        assertTrue(byOp.getMessage().contains("in the gradient of customGradient"), byOp.getMessage());
        // made without an op: caught when the function returns
        NumericsException made = thrownWhileChecking(() -> {
            try (GradientTape tape = new GradientTape()) {
                Tensor y = Nabla.customGradient(List.of(x), in -> in.get(0).mul(3),
                        (in, out, g) -> List.of(Tensor.full(d, Double.NaN, DType.FLOAT32, 2)));
                return tape.gradient(y, x);
            }
        });
        assertEquals("customGradient's gradient function (gradient 0)", made.op());
        assertEquals("customGradient", made.gradientOf());
        assertTrue(made.getMessage().startsWith("checkNumerics: customGradient's gradient function (gradient 0) "
                + "produced NaN (inputs (2,), (2,), (2,)) in the gradient of customGradient"), made.getMessage());
    }

    @OnEachDevice
    void inputThatAlreadyHeldNaNIsFlaggedAtTheFirstOpThatReadsIt(Device d) {
        // host data is not an op: the first op whose output carries the NaN is flagged, and says where it came from
        Tensor x = Tensor.of(d, new float[] {1, Float.NaN});
        NumericsException e = thrownWhileChecking(() -> x.add(1));
        assertEquals("add", e.op());
        assertTrue(e.getMessage().contains("input 0 already held NaN"), e.getMessage());
        // an op that turns the NaN into a finite value is not flagged (relu keeps NaN, max(x, 0) too: use where)
        Nabla.checkNumerics(true);
        try {
            Tensor finite = Nabla.where(x.eq(x), x, Tensor.zerosLike(x));
            assertEquals(0f, finite.toFloatArray()[1]);
        } finally {
            Nabla.checkNumerics(false);
        }
    }

    @OnEachDevice
    void optimizerUpdatesAreChecked(Device d) {
        Variable w = new Variable(Tensor.of(d, new float[] {1, 2}), "w", true);
        Tensor g = Tensor.of(d, new float[] {0, 1e38f});
        SGD sgd = new SGD(10);
        NumericsException e = thrownWhileChecking(() -> {
            sgd.applyGradients(List.of(g), List.of(w));
            return null;
        });
        assertEquals("SGD update of 'w'", e.op());
        assertEquals(Double.NEGATIVE_INFINITY, e.value());
        assertEquals(1, e.index());
    }

    @OnEachDevice
    void offByDefaultTheSameProgramsReturnNaN(Device d) {
        if (System.getenv("NABLA_CHECK_NUMERICS") == null && System.getProperty("nabla.checkNumerics") == null) {
            assertFalse(wasOn, "checkNumerics must be off by default");
        }
        Nabla.checkNumerics(false);
        assertFalse(Nabla.isCheckingNumerics());
        assertTrue(Double.isNaN(Tensor.of(d, new float[] {-1}).log().toFloatArray()[0]));
        assertTrue(Double.isNaN(Tensor.zeros(d, 2).div(Tensor.zeros(d, 2)).toFloatArray()[0]));
        Tensor x = Tensor.of(d, new float[] {0});
        try (GradientTape tape = new GradientTape()) {
            tape.watch(x);
            Tensor y = x.sqrt();
            assertEquals(Float.POSITIVE_INFINITY, tape.gradient(y, x).toFloatArray()[0]);
        }
    }

    @OnEachDevice
    void togglingTakesEffectAtTheNextOp(Device d) {
        Tensor x = Tensor.of(d, new float[] {-1});
        Nabla.checkNumerics(true);
        try {
            assertTrue(Nabla.isCheckingNumerics());
            assertThrows(NumericsException.class, x::log);
            Nabla.checkNumerics(false);
            assertFalse(Nabla.isCheckingNumerics());
            assertTrue(Float.isNaN(x.log().item()));
            Nabla.checkNumerics(true);
            assertThrows(NumericsException.class, x::sqrt);
            // finite results pass, non-floating ones are not looked at
            assertEquals(1f, x.abs().item());
            assertEquals(0, Tensor.of(d, new int[] {1}).div(0).toIntArray()[0]);
        } finally {
            Nabla.checkNumerics(false);
        }
    }

    /**
     * No floating op is a hole: every row of the op table, given inputs that are all NaN, either throws
     * NumericsException or returns an output with nothing non-finite in it (a BOOL or INT32 result, or none).
     */
    @OnEachDevice
    void everyOpInTheTableIsChecked(Device d) {
        List<String> holes = new ArrayList<>();
        for (OpInfo<?> row : OpTable.ROWS) {
            holes.addAll(sweep(d, row));
        }
        assertTrue(holes.isEmpty(), String.join("\n", holes));
    }

    private static <A> List<String> sweep(Device d, OpInfo<A> row) {
        List<String> holes = new ArrayList<>();
        DType t = row.dtypes().contains(DType.FLOAT32) ? DType.FLOAT32
                : row.dtypes().contains(DType.FLOAT64) ? DType.FLOAT64 : row.dtypes().iterator().next();
        for (OpCase<A> c : row.cases().draw(new Random(row.name().hashCode()))) {
            List<Tensor> in = new ArrayList<>();
            for (long[] shape : c.shapes()) {
                in.add(t.isFloating() ? Tensor.full(d, Double.NaN, t, shape) : Tensor.full(d, 0, t, shape));
            }
            Nabla.checkNumerics(true);
            try (Tensor out = row.call().apply(in, c.args())) {
                Nabla.checkNumerics(false);
                // an op that hands back its input (dropout in evaluation or at rate 0) produced nothing to check
                boolean identity = in.stream().anyMatch(x -> x == out);
                if (!identity && out.dtype().isFloating()
                        && Arrays.stream(out.toDoubleArray()).anyMatch(v -> !Double.isFinite(v))) {
                    holes.add(row.name() + " " + t + " " + c + ": returned a non-finite value without throwing");
                }
            } catch (NumericsException e) {
                // (mean over an empty axis makes its own NaN: 0 / 0)
                boolean nanIn = t.isFloating() && in.stream().anyMatch(x -> x.size() > 0);
                if (nanIn && !e.getMessage().contains("already held NaN")) {
                    holes.add(row.name() + " " + c + ": message does not say the input held NaN: " + e.getMessage());
                }
            } finally {
                Nabla.checkNumerics(false);
                in.forEach(Tensor::close);
            }
        }
        return holes;
    }
}
