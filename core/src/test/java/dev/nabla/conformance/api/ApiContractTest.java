package dev.nabla.conformance.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nabla.DType;
import dev.nabla.Device;
import dev.nabla.GradientTape;
import dev.nabla.Nabla;
import dev.nabla.Rng;
import dev.nabla.Shape;
import dev.nabla.Tensor;
import dev.nabla.Variable;
import dev.nabla.check.GradientChecker;
import dev.nabla.optim.Optimizer;
import dev.nabla.optim.SGD;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * Every name of the API contract (shared/design/API.md), called exactly as written there: if a name is renamed or
 * its signature changes, this stops compiling. Runs on the default device.
 */
class ApiContractTest {
    @Test
    void shapeAndDType() {
        Shape s = Shape.of(2, 3);
        assertEquals(2, s.rank());
        assertEquals(3, s.dim(-1));
        assertEquals(6, s.size());
        assertEquals(2, s.dims()[0]);
        assertEquals(0, Shape.scalar().rank());
        assertEquals("(1, 3)", Shape.of(1, 3).toString());
        assertEquals("(3,)", Shape.of(3).toString());
        assertEquals("()", Shape.scalar().toString());
        assertEquals(4, DType.values().length);
        assertEquals(Shape.of(2, 3), Shape.of(2, 3));
    }

    @Test
    void devices() {
        assertEquals("cpu", Device.cpu().toString());
        assertEquals("cuda:0", Device.cuda(0).toString());
        assertTrue(Device.cuda(0).isCuda());
        assertFalse(Device.cpu().isCuda());
        // NABLA_DEVICE (or -Dnabla.device) when set, else cuda:0 when usable, else the CPU
        String forced = System.getenv("NABLA_DEVICE");
        if (forced == null || forced.isBlank()) {
            forced = System.getProperty("nabla.device");
        }
        Device expected = forced != null && !forced.isBlank() ? Device.parse(forced)
                : Device.cudaAvailable() ? Device.cuda(0) : Device.cpu();
        assertEquals(expected, Device.defaultDevice());
    }

    @Test
    void tensorCreationAndAccess() {
        Tensor a = Tensor.scalar(1.5f);
        Tensor b = Tensor.scalar(1.5);
        Tensor c = Tensor.scalar(2);
        assertEquals(DType.FLOAT32, a.dtype());
        assertEquals(DType.FLOAT64, b.dtype());
        assertEquals(DType.INT32, c.dtype());
        Tensor f = Tensor.of(new float[] {1, 2, 3, 4}, 2, 2);
        Tensor d = Tensor.of(new double[] {1, 2});
        Tensor i = Tensor.of(new int[] {1, 2});
        Tensor rows = Tensor.of(new float[][] {{1, 2}, {3, 4}});
        assertEquals(Shape.of(2, 2), rows.shape());
        assertEquals(Shape.of(2), d.shape());
        Tensor z = Tensor.zeros(2, 3);
        Tensor o = Tensor.ones(2, 3);
        Tensor zt = Tensor.zeros(DType.FLOAT64, 2);
        Tensor ot = Tensor.ones(DType.INT32, 2);
        Tensor full = Tensor.full(7, DType.FLOAT32, 2);
        Tensor r = Tensor.arange(5);
        assertEquals(DType.INT32, r.dtype());
        assertEquals(2, f.rank());
        assertEquals(4, f.size());
        assertEquals(1.5f, a.item());
        assertEquals(1.5, b.doubleItem());
        assertEquals(4, f.toFloatArray().length);
        assertEquals(2, d.toDoubleArray().length);
        assertEquals(2, i.toIntArray()[1]);
        assertEquals(Device.defaultDevice(), z.to(Device.defaultDevice()).device());
        assertEquals(DType.FLOAT64, o.to(DType.FLOAT64).dtype());
        assertEquals(0, zt.sum().item());
        assertEquals(2, ot.sum().item());
        assertEquals(14, full.sum().item());
        assertThrows(IllegalStateException.class, f::item);
    }

    @Test
    void everyOpNameCompiles() {
        Tensor x = Tensor.of(new float[] {0.5f, 1, 2, 3}, 2, 2);
        Tensor y = Tensor.of(new float[] {1, 2, 3, 4}, 2, 2);
        List<Tensor> results = List.of(
                x.add(y), x.sub(y), x.mul(y), x.div(y), x.pow(y), x.maximum(y), x.minimum(y),
                x.add(1.0), x.sub(1.0), x.mul(1.0), x.div(1.0), x.pow(1.0), x.maximum(1.0), x.minimum(1.0),
                x.eq(y), x.ne(y), x.lt(y), x.le(y), x.gt(y), x.ge(y),
                x.eq(1.0), x.ne(1.0), x.lt(1.0), x.le(1.0), x.gt(1.0), x.ge(1.0),
                x.neg(), x.abs(), x.exp(), x.log(), x.sqrt(), x.rsqrt(), x.square(), x.reciprocal(),
                x.sin(), x.cos(), x.tanh(), x.sigmoid(), x.relu(),
                x.sum(), x.sum(0), x.sum(new int[] {1}, true), x.mean(), x.mean(0), x.mean(new int[] {1}, true),
                x.max(), x.max(0), x.max(new int[] {1}, true), x.min(), x.min(0), x.min(new int[] {1}, true),
                x.argmax(1), x.logSumExp(1), x.softmax(1), x.logSoftmax(1),
                x.matmul(y), x.transpose(), x.permute(1, 0),
                x.reshape(-1), x.flatten(), x.expandDims(0), x.expandDims(0).squeeze(0), x.broadcastTo(3, 2, 2),
                x.slice(new long[] {0, 1}, new long[] {2, 1}), x.gather(Tensor.arange(2), 0),
                Tensor.arange(3).oneHot(3), x.stopGradient());
        results.forEach(t -> assertFalse(t.isClosed()));
        results.forEach(Tensor::close);
        x.close();
        x.close();
        assertThrows(IllegalStateException.class, () -> x.add(y));
    }

    @Test
    void variablesTapesAndOptimizers() {
        Variable v = new Variable(Tensor.scalar(1f));
        Variable named = new Variable(Tensor.scalar(1f), "w", false);
        Variable a = Variable.of(2f);
        Variable b = Variable.of(new float[][] {{1, 2}});
        Variable c = Variable.of(new float[] {1, 2, 3, 4}, 2, 2);
        assertTrue(v.trainable());
        assertFalse(named.trainable());
        assertEquals("w", named.name());
        v.assign(Tensor.scalar(3f));
        v.assignAdd(Tensor.scalar(1f));
        v.assignSub(Tensor.scalar(2f));
        assertEquals(2f, v.item());

        try (GradientTape tape = new GradientTape()) {
            Tensor y = a.square();
            assertEquals(4f, tape.gradient(y, a).item());
        }
        try (GradientTape tape = GradientTape.persistent(); GradientTape other = new GradientTape(true, false)) {
            Tensor t = Tensor.scalar(2f);
            tape.watch(t);
            other.watch(b);
            Tensor y = t.mul(b.sum());
            List<Tensor> gs = tape.gradient(y, List.of(t, c));
            assertEquals(3f, gs.get(0).item());
            assertNull(gs.get(1));
            // y = t · sum(b) = 3t: dy/dt = 3, times the output gradient 2
            assertEquals(6f, tape.gradient(y, t, Tensor.scalar(2f)).item());
            assertEquals(3f, tape.jacobian(y, t).item());
            // rows of 2c: each row's Jacobian is 2 I, shape (2, 2, 2)
            Tensor rowsOut = c.mul(2);
            Tensor rowJacobians = tape.batchJacobian(rowsOut, c);
            assertEquals(Shape.of(2, 2, 2), rowJacobians.shape());
            assertArrayEquals(new float[] {2, 0, 0, 2, 2, 0, 0, 2}, rowJacobians.toFloatArray());
            Integer five = tape.stopRecording(() -> 5);
            assertEquals(5, five);
        }

        Optimizer opt = new SGD(0.1);
        Supplier<Tensor> loss = () -> a.square();
        Tensor l = opt.minimize(loss, List.of(a));
        assertEquals(4f, l.item());
        opt.applyGradients(java.util.Arrays.asList((Tensor) null), List.of(a));
        assertEquals(2, opt.iterations());
    }

    @Test
    void nablaFunctionsRngAndChecker() {
        Tensor p = Tensor.of(new float[] {1, 2});
        Tensor q = Tensor.of(new float[] {3, 4});
        assertEquals(Shape.of(4), Nabla.concat(List.of(p, q), 0).shape());
        assertEquals(Shape.of(2, 2), Nabla.stack(List.of(p, q), 0).shape());
        assertEquals(4f, Nabla.where(p.gt(1.5), q, p).sum().item() - 1f);
        Nabla.CustomGradient identityGrad = (in, out, g) -> List.of(g);
        assertEquals(Shape.of(2), Nabla.customGradient(List.of(p), in -> in.get(0).mul(2), identityGrad).shape());
        Rng rng = Rng.seeded(1);
        assertEquals(Shape.of(3), rng.normal(DType.FLOAT32, 3).shape());
        assertEquals(Shape.of(3), rng.uniform(0, 1, DType.FLOAT64, 3).shape());
        GradientChecker.Result r = GradientChecker.check(in -> in.get(0).square().sum(),
                List.of(Tensor.of(new double[] {1, 2})));
        r.assertWithin(1e-6);
        // d(sum x^2)/dx = 2x, and the central difference of x^2 is exact but for rounding (~1e-16 / 1e-6)
        assertTrue(r.maxAbsError() < 1e-8, "abs " + r.maxAbsError());
        assertTrue(r.maxRelError() <= r.maxAbsError(), "relative errors divide by max(1, ...)");
        // a wrong rule (x instead of 2x) is caught: error |x| at x = 2 (GradientCheckerSelfTest has the rest)
        GradientChecker.Result wrong = GradientChecker.check(in -> Nabla.customGradient(in, a -> a.get(0).square()
                .sum(), (a, out, g) -> List.of(a.get(0).mul(g))), List.of(Tensor.of(new double[] {1, 2})));
        assertEquals(2, wrong.maxAbsError(), 1e-6);
        assertThrows(AssertionError.class, () -> wrong.assertWithin(1e-6));
    }
}
