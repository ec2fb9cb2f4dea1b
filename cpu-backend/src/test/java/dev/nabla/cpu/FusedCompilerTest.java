package dev.nabla.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nabla.DType;
import dev.nabla.backend.BinaryOp;
import dev.nabla.backend.FusedProgram;
import dev.nabla.backend.UnaryOp;
import dev.nabla.conformance.graph.RandomFusedPrograms;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The compiled fused kernels ({@link FusedCompiler}) give the block interpreter's bits, which the conformance suite
 * ties to the ops one by one: on random programs of every exact op, with dense, one-value, broadcast and transposed
 * inputs, over several blocks and with tails shorter than a vector.
 */
class FusedCompilerTest {
    private static final BufferPool POOL = new BufferPool(1 << 20);

    @BeforeAll
    static void needsTheVectorApi() {
        Assumptions.assumeTrue(VectorSupport.AVAILABLE, "FusedKernels runs only with the Vector API");
    }

    @Test
    void compiledProgramsEqualTheInterpreterBitForBit() {
        Random r = new Random(2026);
        int compiledOnes = 0;
        int floatRsqrt = 0;
        for (int i = 0; i < 300; i++) {
            DType t = i % 2 == 0 ? DType.FLOAT32 : DType.FLOAT64;
            RandomFusedPrograms.Case c = RandomFusedPrograms.next(r, t, true);
            compiledOnes += check("program " + i, c.program(), c.inputSizes(), r);
            if (t == DType.FLOAT32 && Arrays.stream(c.program().steps()).anyMatch(s -> s.unary() == UnaryOp.RSQRT)) {
                floatRsqrt++;
            }
        }
        // float rsqrt's vector form rounds twice (see FloatLanes.isExact): those programs stay interpreted
        assertTrue(floatRsqrt > 0);
        assertEquals(300 - floatRsqrt, compiledOnes, "every other exact-op program compiles");
    }

    @Test
    void largeBroadcastProgramsOverManyBlocksAndATail() {
        // (3, 10001): each row ends mid-vector, the whole spans several 8192-element blocks
        long[] shape = {3, 10001};
        long[][] strides = {{10001, 1}, {0, 0}, {0, 1}, {1, 3}};   // dense, one value, a row, transposed
        long[] sizes = {30003, 1, 10001, 30003};
        for (DType t : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            FusedProgram p = new FusedProgram(t, shape, strides, new FusedProgram.Step[] {
                new FusedProgram.Step(null, BinaryOp.MUL, -1, -2),
                new FusedProgram.Step(null, BinaryOp.ADD, 0, -3),
                new FusedProgram.Step(UnaryOp.RELU, null, 1, 0),
                new FusedProgram.Step(null, BinaryOp.MAXIMUM, 2, -4),
                new FusedProgram.Step(UnaryOp.SIGN, null, 3, 0),
                new FusedProgram.Step(null, BinaryOp.DIV, 4, 1)});
            assertEquals(1, check(t + " broadcasts", p, sizes, new Random(7)));
        }
    }

    @Test
    void onlyExactOpsCompile() {
        long[][] dense = {{1}};
        assertFalse(FusedCompiler.compilable(program(DType.FLOAT32, UnaryOp.EXP, dense)), "exp's vector form is inexact");
        assertFalse(FusedCompiler.compilable(program(DType.FLOAT32, UnaryOp.RSQRT, dense)), "float rsqrt rounds twice");
        assertTrue(FusedCompiler.compilable(program(DType.FLOAT64, UnaryOp.RSQRT, dense)));
        FusedProgram reluGradient = new FusedProgram(DType.FLOAT32, new long[] {4}, new long[][] {{1}, {1}},
                new FusedProgram.Step[] {new FusedProgram.Step(null, BinaryOp.RELU_GRADIENT, -1, -2)});
        assertTrue(FusedCompiler.compilable(reluGradient));
        FusedProgram pow = new FusedProgram(DType.FLOAT32, new long[] {4}, new long[][] {{1}, {1}},
                new FusedProgram.Step[] {new FusedProgram.Step(null, BinaryOp.POW, -1, -2)});
        assertFalse(FusedCompiler.compilable(pow), "pow's vector form is inexact");
    }

    private static FusedProgram program(DType t, UnaryOp op, long[][] strides) {
        return new FusedProgram(t, new long[] {4}, strides, new FusedProgram.Step[] {
            new FusedProgram.Step(op, null, -1, 0)});
    }

    /** The kernel's first calls run in the bytecode interpreter, later ones compiled: both give the same bits. */
    @Test
    void aKernelGivesTheSameBitsBeforeAndAfterTheJitCompilesIt() {
        long[] shape = {1 << 14};
        FusedProgram p = new FusedProgram(DType.FLOAT32, shape, new long[][] {{1}, {1}}, new FusedProgram.Step[] {
            new FusedProgram.Step(null, BinaryOp.MUL, -1, -2),
            new FusedProgram.Step(UnaryOp.SQRT, null, 0, 0),
            new FusedProgram.Step(null, BinaryOp.MINIMUM, 1, -1),
            new FusedProgram.Step(null, BinaryOp.RELU_GRADIENT, 2, -2),
            new FusedProgram.Step(null, BinaryOp.SUB, 3, -2)});
        Random r = new Random(3);
        for (int call = 0; call < 400; call++) {
            check("call " + call, p, new long[] {1 << 14, 1 << 14}, r);
        }
    }

    /** A new kernel is left to the interpreter until its background warm-up sees it run at compiled speed. */
    @Test
    void aNewKernelIsUsedOnceTheJitHasCompiledIt() throws InterruptedException {
        FusedProgram p = new FusedProgram(DType.FLOAT64, new long[] {100}, new long[][] {{1}, {0}},
                new FusedProgram.Step[] {
                    new FusedProgram.Step(null, BinaryOp.MINIMUM, -2, -1),
                    new FusedProgram.Step(UnaryOp.SIGN, null, 0, 0),
                    new FusedProgram.Step(null, BinaryOp.MUL, 1, -2)});
        boolean[] scalar = {false, true};
        long deadline = System.nanoTime() + 120_000_000_000L;
        while (FusedCompiler.doubleKernel(p, scalar, false) == null) {
            assertTrue(System.nanoTime() < deadline, "the kernel is still not hot after 2 minutes of warm-up");
            Thread.sleep(20);
        }
        assertEquals(1, check("hot", p, new long[] {100, 1}, new Random(5)));
    }

    /** Runs {@code p} compiled and interpreted on random data; 1 when it compiled. */
    private static int check(String what, FusedProgram p, long[] sizes, Random r) {
        CpuBuffer[] in = new CpuBuffer[sizes.length];
        boolean[] scalar = new boolean[sizes.length];
        for (int k = 0; k < in.length; k++) {
            in[k] = TestBuffers.of(POOL, p.dtype(), RandomFusedPrograms.values(r, sizes[k], p.dtype()));
            scalar[k] = p.isScalar(k) || p.size() == 1;
        }
        boolean single = p.dtype() == DType.FLOAT32;
        boolean compiled = single ? FusedCompiler.floatKernel(p, scalar, true) != null
                : FusedCompiler.doubleKernel(p, scalar, true) != null;
        CpuBuffer want = TestBuffers.of(POOL, p.dtype(), new double[(int) p.size()]);
        CpuBuffer got = TestBuffers.of(POOL, p.dtype(), new double[(int) p.size()]);
        FusedKernels.run(p, in, want, FusedKernels.Compile.NEVER);
        FusedKernels.run(p, in, got, FusedKernels.Compile.ALWAYS);
        for (int e = 0; e < p.size(); e++) {
            long w = single ? Float.floatToIntBits(want.floats()[e]) : Double.doubleToLongBits(want.doubles()[e]);
            long g = single ? Float.floatToIntBits(got.floats()[e]) : Double.doubleToLongBits(got.doubles()[e]);
            if (w != g) {
                throw new AssertionError(what + ": " + p + " strides " + Arrays.deepToString(p.inputStrides())
                        + ": element " + e + " compiled 0x" + Long.toHexString(g) + ", interpreted 0x"
                        + Long.toHexString(w));
            }
        }
        return compiled ? 1 : 0;
    }
}
