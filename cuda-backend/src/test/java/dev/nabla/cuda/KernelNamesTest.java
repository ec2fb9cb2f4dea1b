package dev.nabla.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nabla.kernels.PtxResources;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Java/CUDA name drift, caught without a GPU: every kernel the backend can launch must be an {@code .entry} of the
 * PTX module {@link Kernels#module} sends it to.
 */
class KernelNamesTest {
    @Test
    void everyModuleIsShippedWithTheSamePtxIsa() {
        for (String module : Kernels.modules()) {
            String ptx = PtxResources.text(module);
            assertEquals(90, PtxInfo.isaVersion(ptx), module + ".ptx ISA");
            assertTrue(ptx.contains(".target sm_75"), module + ".ptx targets compute_75");
            assertTrue(!PtxInfo.entries(ptx).isEmpty(), module + ".ptx has kernels");
        }
    }

    @Test
    void everyKernelTheBackendLaunchesExistsInItsModule() {
        List<String> missing = new ArrayList<>();
        for (String name : Kernels.all()) {
            String module = Kernels.module(name);
            if (!PtxInfo.entries(PtxResources.text(module)).contains(name)) {
                missing.add(name + " (in " + module + ".ptx)");
            }
        }
        assertEquals(List.of(), missing, "kernels the Java side launches but the PTX lacks");
    }

    @Test
    void theBackendUsesEveryShippedKernel() {
        Set<String> used = new HashSet<>(Kernels.all());
        List<String> unused = new ArrayList<>();
        for (String module : Kernels.modules()) {
            for (String entry : PtxInfo.entries(PtxResources.text(module))) {
                if (!used.contains(entry)) {
                    unused.add(entry);
                }
            }
        }
        assertEquals(List.of(), unused, "kernels in the PTX that no Java name refers to (dead code or a rename)");
    }
}
