package dev.nabla.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nabla.DType;
import dev.nabla.Device;
import dev.nabla.backend.Backend;
import dev.nabla.backend.Backends;
import dev.nabla.backend.BinaryOp;
import dev.nabla.backend.Buffer;
import dev.nabla.backend.FusedProgram;
import dev.nabla.backend.UnaryOp;
import dev.nabla.conformance.graph.FusedProgramTest;
import dev.nabla.conformance.graph.RandomFusedPrograms;
import dev.nabla.kernels.PtxResources;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The generated PTX kernels ({@link FusedPtx}) run by the emulator's interpreter against the unfused ops: the same
 * backend's eager kernels step by step ({@link Backend#fused}'s default), and for the IEEE-exact ops also the CPU
 * backend (but float32 rsqrt, which CUDA rounds twice in float), bit for bit, on random programs, shapes, broadcasts and special values in float32 and float64.
 */
class EmuFusedPtxTest {
    private static Backend emu;
    private static Backend stepByStep;
    private static Backend cpu;
    private static Backend cpuStepByStep;

    @BeforeAll
    static void backends() {
        EmuTests.requireEmulator();
        emu = Backends.get(EmuDriverTest.EMU);
        cpu = Backends.get(Device.cpu());
        stepByStep = FusedProgramTest.stepByStep(emu);
        cpuStepByStep = FusedProgramTest.stepByStep(cpu);
    }

    private static long fusedLaunches() {
        return EmulatedDriver.launches().getOrDefault(FusedPtx.ENTRY, 0L);
    }

    /** The output's bits (NaN canonical: payloads are not part of any op's meaning). */
    private static long[] run(Backend b, FusedProgram p, double[][] data) {
        Buffer[] in = new Buffer[data.length];
        for (int k = 0; k < in.length; k++) {
            in[k] = b.upload(host(data[k], p.dtype()), p.dtype());
        }
        Buffer out = b.allocate(p.dtype(), p.size());
        try {
            b.fused(p, in, out);
            long[] bits = new long[(int) p.size()];
            if (p.dtype() == DType.INT32) {
                int[] v = b.readInts(out);
                for (int i = 0; i < v.length; i++) {
                    bits[i] = v[i];
                }
            } else if (p.dtype() == DType.FLOAT32) {
                float[] f = b.readFloats(out);
                for (int i = 0; i < f.length; i++) {
                    bits[i] = Float.floatToIntBits(f[i]);
                }
            } else {
                double[] d = b.readDoubles(out);
                for (int i = 0; i < d.length; i++) {
                    bits[i] = Double.doubleToLongBits(d[i]);
                }
            }
            return bits;
        } finally {
            out.release();
            for (Buffer x : in) {
                x.release();
            }
        }
    }

    /** The values as the dtype's host array (what every backend's upload takes). */
    private static Object host(double[] v, DType t) {
        return switch (t) {
            case FLOAT32 -> {
                float[] f = new float[v.length];
                for (int i = 0; i < v.length; i++) {
                    f[i] = (float) v[i];
                }
                yield f;
            }
            case INT32 -> java.util.Arrays.stream(v).mapToInt(x -> (int) x).toArray();
            default -> v;
        };
    }

    private static void assertSameBits(long[] want, long[] got, String what) {
        assertEquals(want.length, got.length, what);
        for (int i = 0; i < want.length; i++) {
            if (want[i] != got[i]) {
                throw new AssertionError(what + ": element " + i + " is 0x" + Long.toHexString(got[i])
                        + ", unfused 0x" + Long.toHexString(want[i]));
            }
        }
    }

    private static double[][] inputs(Random r, RandomFusedPrograms.Case c) {
        double[][] data = new double[c.inputSizes().length][];
        for (int k = 0; k < data.length; k++) {
            data[k] = RandomFusedPrograms.values(r, c.inputSizes()[k], c.program().dtype());
        }
        return data;
    }

    @Test
    void generatedKernelsEqualTheUnfusedOpsBitForBit() {
        Random r = new Random(20261201);
        int launched = 0;
        long before = fusedLaunches();
        for (int i = 0; i < 300; i++) {
            DType t = i % 2 == 0 ? DType.FLOAT32 : DType.FLOAT64;
            RandomFusedPrograms.Case c = RandomFusedPrograms.next(r, t, true);
            FusedProgram p = c.program();
            assertNull(FusedPtx.declines(p), p.toString());
            double[][] data = inputs(r, c);
            String what = "program " + i + ": " + p + " inputs " + java.util.Arrays.toString(
                    FusedPtx.Layout.of(p).access());
            long[] fused = run(emu, p, data);
            assertSameBits(run(stepByStep, p, data), fused, what + " against the eager kernels");
            // NOTE: CUDA's float32 rsqrt rounds twice in float (sqrtf, then 1 / it), the CPU's definition in double
            boolean twoRoundings = t == DType.FLOAT32
                    && java.util.Arrays.stream(p.steps()).anyMatch(s -> s.unary() == UnaryOp.RSQRT);
            if (!twoRoundings) {
                assertSameBits(run(cpu, p, data), fused, what + " against the CPU");
            }
            launched += p.size() > 0 ? 1 : 0;
        }
        assertEquals(launched, fusedLaunches() - before, "one generated kernel launch per non-empty program");
        assertTrue(launched > 250, launched + " programs launched");
    }

    /**
     * Steps that call the math library (exp, log, sin, cos, tanh, sigmoid, pow) run the same function as the eager
     * kernels (on the emulator: the host build of math_ops.cuh, called by the interpreter), so the bits agree with
     * the step-by-step kernels too; the CPU's StrictMath is another library, so it is not compared here.
     */
    @Test
    void stepsThatCallTheMathLibraryEqualTheEagerKernels() {
        Random r = new Random(31);
        long before = fusedLaunches();
        int launched = 0;
        int calling = 0;
        for (int i = 0; i < 200; i++) {
            DType t = i % 2 == 0 ? DType.FLOAT32 : DType.FLOAT64;
            RandomFusedPrograms.Case c = RandomFusedPrograms.next(r, t, false);
            FusedProgram p = c.program();
            assertNull(FusedPtx.declines(p), p.toString());
            double[][] data = inputs(r, c);
            assertSameBits(run(stepByStep, p, data), run(emu, p, data), "program " + i + ": " + p);
            launched += p.size() > 0 ? 1 : 0;
            calling += FusedPtx.render(p, FusedPtx.Layout.of(p)).contains("call.uni") ? 1 : 0;
        }
        assertEquals(launched, fusedLaunches() - before);
        assertTrue(calling > 80, calling + " programs call the math library");
    }

    /**
     * What the renderer declines (a dtype other than FLOAT32/FLOAT64; an op outside the fusible set, such as
     * logical_not) runs step by step through the SPI's default: no generated kernel, and still the CPU's answer.
     */
    @Test
    void declinedProgramsFallBackToTheStepByStepDefault() {
        Random r = new Random(7);
        UnaryOp[] intUnary = {UnaryOp.NEG, UnaryOp.ABS, UnaryOp.SIGN, UnaryOp.SQUARE, UnaryOp.RELU};
        BinaryOp[] intBinary = {BinaryOp.ADD, BinaryOp.SUB, BinaryOp.MUL, BinaryOp.MAXIMUM, BinaryOp.MINIMUM,
            BinaryOp.RELU_GRADIENT};
        UnaryOp[] withNot = {UnaryOp.LOGICAL_NOT, UnaryOp.NEG, UnaryOp.RELU};
        for (int i = 0; i < 60; i++) {
            RandomFusedPrograms.Case c = i % 2 == 0 ? RandomFusedPrograms.next(r, DType.INT32, intUnary, intBinary)
                    : RandomFusedPrograms.next(r, DType.FLOAT32, withNot, intBinary);
            FusedProgram p = c.program();
            boolean declined = FusedPtx.declines(p) != null;
            assertEquals(p.dtype() == DType.INT32 || java.util.Arrays.stream(p.steps())
                    .anyMatch(s -> s.unary() == UnaryOp.LOGICAL_NOT), declined, p.toString());
            double[][] data = inputs(r, c);
            long before = fusedLaunches();
            long[] fused = run(emu, p, data);
            if (declined) {
                assertEquals(before, fusedLaunches(), "a declined program launches no generated kernel: " + p);
            }
            assertSameBits(run(cpuStepByStep, p, data), fused,
                    p.toString());
        }
    }

    /** One kernel per structure: new shapes and strides of a structure reuse it (they are parameters). */
    @Test
    void kernelsAreCachedByStructure() {
        CudaBackend backend = (CudaBackend) emu;
        FusedProgram.Step[] steps = {new FusedProgram.Step(null, BinaryOp.MUL, -1, -2),
            new FusedProgram.Step(UnaryOp.RELU, null, 0, 0)};
        Random r = new Random(3);
        int before = backend.modules().generatedCount();
        for (long[] shape : new long[][] {{5, 7}, {9, 4}, {2, 31}}) {
            // a dense (m, k) times a row (k): DENSE and STRIDED, rank 2
            FusedProgram p = new FusedProgram(DType.FLOAT32, shape, new long[][] {{shape[1], 1}, {0, 1}}, steps);
            double[][] data = {RandomFusedPrograms.values(r, shape[0] * shape[1], DType.FLOAT32),
                RandomFusedPrograms.values(r, shape[1], DType.FLOAT32)};
            assertSameBits(run(stepByStep, p, data), run(emu, p, data), p.toString());
        }
        assertTrue(backend.modules().generatedCount() - before <= 1, "one kernel for the three shapes");
    }

    /** A kernel that touches memory outside the launch's buffers fails its launch, as on a GPU (the interpreter checks). */
    @Test
    void anAccessOutsideTheLaunchsBuffersFailsTheLaunch() {
        CudaBackend backend = (CudaBackend) emu;
        String ptx = FusedPtx.HEADER + ".visible .entry past(.param .u64 p)\n{\n\tld.param.u64 %rd0, [p];\n"
                + "\tcvta.to.global.u64 %rd0, %rd0;\n\tadd.s64 %rd0, %rd0, 1099511627776;\n"
                + "\tst.global.f32 [%rd0], 0f3F800000;\n\tret;\n}\n";
        Buffer b = emu.allocate(DType.FLOAT32, 4);
        try {
            Object f = backend.modules().generated("test: a store past the end", "past", () -> ptx);
            KernelLaunch.of(backend.context(), "past").pointer(((CudaBuffer) b).address()).launchGenerated(f, 1);
            CudaException e = assertThrows(CudaException.class, backend::synchronize);
            assertTrue(e.getMessage().contains("CUDA_ERROR_ILLEGAL_ADDRESS"), e.getMessage());
        } finally {
            b.release();
        }
    }

    /** The interpreter is the emulator's JIT for generated PTX: PTX outside its subset fails the load, as JIT errors do. */
    @Test
    void ptxOutsideTheInterpretersSubsetFailsToLoad() {
        CudaBackend backend = (CudaBackend) emu;
        String shipped = PtxResources.text("unary"); // nvcc's PTX: many kernels, instructions the renderer never writes
        CudaException e = assertThrows(CudaException.class,
                () -> backend.context().call(d -> d.moduleLoad("not_compiled_for_the_host", shipped)));
        assertTrue(e.getMessage().contains("CUDA_ERROR_INVALID_PTX"), e.getMessage());
        String vectorLoad = FusedPtx.HEADER + ".visible .entry k(.param .u64 p)\n{\n\tld.param.u64 %rd0, [p];\n"
                + "\tld.global.v4.f32 {%f0, %f1, %f2, %f3}, [%rd0];\n\tret;\n}\n";
        e = assertThrows(CudaException.class,
                () -> backend.context().call(d -> d.moduleLoad("vector_load", vectorLoad)));
        assertTrue(e.getMessage().contains("ld.global.v4.f32"), e.getMessage());
    }
}
