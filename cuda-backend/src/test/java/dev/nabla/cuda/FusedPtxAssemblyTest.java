package dev.nabla.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.nabla.DType;
import dev.nabla.backend.FusedProgram;
import dev.nabla.conformance.graph.RandomFusedPrograms;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every distinct kernel {@link FusedPtx} renders for a set of random programs assembles with
 * {@code ptxas -arch=sm_90} where the CUDA toolkit's {@code ptxas} is on the PATH (CI; skipped with the reason
 * elsewhere), and the text itself has no instruction that may be contracted into an FMA.
 */
class FusedPtxAssemblyTest {
    private static final Pattern FLOAT_ARITHMETIC = Pattern.compile(
            "^\\s*(add|sub|mul|div|sqrt|rcp|fma|mad)(\\.[a-z]+)*\\.f(32|64)\\s", Pattern.MULTILINE);

    /** Distinct kernels of 120 random programs (both dtypes, every access kind, math calls or not), by cache key. */
    private static Map<String, String> kernels() {
        Random r = new Random(99);
        Map<String, String> out = new LinkedHashMap<>();
        for (int i = 0; i < 120; i++) {
            DType t = i % 2 == 0 ? DType.FLOAT32 : DType.FLOAT64;
            FusedProgram p = RandomFusedPrograms.next(r, t, i % 4 < 2).program();
            FusedPtx.Layout l = FusedPtx.Layout.of(p);
            out.putIfAbsent(FusedPtx.key(p, l), FusedPtx.render(p, l));
        }
        return out;
    }

    @Test
    void everyFloatInstructionRoundsExplicitlySoNoneIsContracted() {
        int checked = 0;
        for (String ptx : kernels().values()) {
            // the kernel's own instructions; the math library's functions are nvcc's, shared with the eager kernels
            Matcher m = FLOAT_ARITHMETIC.matcher(ptx.substring(ptx.indexOf(".entry")));
            while (m.find()) {
                String op = m.group(1);
                assertFalse(op.equals("fma") || op.equals("mad"), ptx);
                assertEquals(".rn", m.group(2), "every float add/sub/mul/div/sqrt/rcp carries .rn:\n" + ptx);
                checked++;
            }
        }
        assertTrue(checked > 100, checked + " float instructions");
    }

    @Test
    void generatedModulesUseTheShippedIsaAndTarget() {
        int shipped = PtxInfo.isaVersion(dev.nabla.kernels.PtxResources.text("unary"));
        assertEquals(shipped, PtxInfo.isaVersion(FusedPtx.HEADER), "ISA of the generated modules");
        assertEquals(shipped, PtxInfo.isaVersion(dev.nabla.kernels.PtxResources.text(EmulatorBuild.MATH_LIBRARY)),
                "ISA of the math library whose functions they carry");
        assertTrue(FusedPtx.HEADER.contains(".target sm_75"));
    }

    @Test
    void generatedKernelsAssembleForSm90(@TempDir Path dir) throws Exception {
        String ptxas = System.getenv().getOrDefault("PTXAS", "ptxas");
        String version = probe(ptxas);
        assumeTrue(version != null, "skipped: " + ptxas + " is not on the PATH (the CUDA toolkit is not installed)");
        Map<String, String> kernels = kernels();
        int i = 0;
        for (Map.Entry<String, String> k : kernels.entrySet()) {
            Path file = dir.resolve("fused" + i++ + ".ptx");
            Files.writeString(file, k.getValue(), StandardCharsets.US_ASCII);
            Process p = new ProcessBuilder(ptxas, "-arch=sm_90", "-o", dir.resolve("out.cubin").toString(),
                    file.toString()).redirectErrorStream(true).start();
            String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(120, TimeUnit.SECONDS), "ptxas timed out on " + k.getKey());
            assertEquals(0, p.exitValue(), "ptxas -arch=sm_90 failed on " + k.getKey() + ":\n" + log + "\n"
                    + k.getValue());
        }
        System.out.println("FusedPtxAssemblyTest: " + kernels.size() + " generated kernels assemble for sm_90 ("
                + version + ")");
        assertTrue(kernels.size() > 100, kernels.size() + " distinct kernels");
        assertTrue(kernels.values().stream().filter(k -> k.contains("call.uni")).count() > 20,
                "kernels that call the math library");
    }

    /** The tool's version line, or null when it cannot run. */
    private static String probe(String tool) {
        try {
            Process p = new ProcessBuilder(tool, "--version").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
                return null;
            }
            return out.lines().filter(l -> l.contains("release")).findFirst().orElse(tool).trim();
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }
}
