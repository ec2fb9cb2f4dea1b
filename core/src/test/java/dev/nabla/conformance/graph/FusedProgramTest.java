package dev.nabla.conformance.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.nabla.DType;
import dev.nabla.Device;
import dev.nabla.backend.Backend;
import dev.nabla.backend.Backends;
import dev.nabla.backend.Buffer;
import dev.nabla.backend.FusedProgram;
import dev.nabla.conformance.OnEachDevice;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.Arrays;
import java.util.Random;

/**
 * {@link Backend#fused}, as each backend overrides it, against the SPI's definition (its default: the steps one by
 * one through {@code unary}/{@code binary}), bit for bit, on random programs of every fusible op with inputs of any
 * strides the contract allows: dense, one value, broadcast along some dimensions, and transposed.
 */
public class FusedProgramTest {
    /** The backend with {@code fused} left to the SPI's default; every other call goes to {@code backend}. */
    public static Backend stepByStep(Backend backend) {
        InvocationHandler h = (proxy, method, args) -> {
            if (method.getName().equals("fused")) {
                return InvocationHandler.invokeDefault(proxy, method, args);
            }
            try {
                return method.invoke(backend, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        };
        return (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class}, h);
    }

    @OnEachDevice
    void fusedProgramsEqualTheirStepsOneByOne(Device d) {
        Backend backend = Backends.get(d);
        Backend reference = stepByStep(backend);
        Random r = new Random(1201);
        for (int i = 0; i < 200; i++) {
            DType t = i % 2 == 0 ? DType.FLOAT32 : DType.FLOAT64;
            RandomFusedPrograms.Case c = RandomFusedPrograms.next(r, t, false);
            double[][] data = new double[c.inputSizes().length][];
            for (int k = 0; k < data.length; k++) {
                data[k] = RandomFusedPrograms.values(r, c.inputSizes()[k], t);
            }
            FusedProgram p = c.program();
            long[] want = run(reference, p, data);
            long[] got = run(backend, p, data);
            for (int e = 0; e < want.length; e++) {
                if (want[e] != got[e]) {
                    throw new AssertionError("program " + i + ": " + p + " strides "
                            + Arrays.deepToString(p.inputStrides()) + ": element " + e + " is 0x"
                            + Long.toHexString(got[e]) + ", step by step 0x" + Long.toHexString(want[e]));
                }
            }
            assertEquals(want.length, got.length);
        }
    }

    /** The output's bits (NaN canonical: payloads are not part of any op's meaning). */
    private static long[] run(Backend b, FusedProgram p, double[][] data) {
        Buffer[] in = new Buffer[data.length];
        for (int k = 0; k < in.length; k++) {
            in[k] = b.upload(p.dtype() == DType.FLOAT32 ? floats(data[k]) : data[k].clone(), p.dtype());
        }
        Buffer out = b.allocate(p.dtype(), p.size());
        try {
            b.fused(p, in, out);
            double[] values = b.readDoubles(out);
            long[] bits = new long[values.length];
            for (int e = 0; e < bits.length; e++) {
                bits[e] = Double.doubleToLongBits(values[e]);
            }
            return bits;
        } finally {
            out.release();
            for (Buffer x : in) {
                x.release();
            }
        }
    }

    private static float[] floats(double[] v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            f[i] = (float) v[i];
        }
        return f;
    }
}
