package dev.nabla.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nabla.Device;
import dev.nabla.backend.Backends;
import dev.nabla.kernels.PtxResources;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 11, defect 10: a module the JIT refuses fails {@code cuModuleLoadDataEx} with the JIT's error log, and the
 * {@link CudaException} a user gets (from the first launch of one of its kernels) carries that log. The emulator's
 * log is an imitation of ptxas's for header faults ({@link EmulatedJit}); the real JIT's log is only seen on a GPU.
 */
class EmuJitLogTest {
    static final Device EMU = EmuTests.EMU;

    @BeforeAll
    static void emulatorBuilds() {
        EmuTests.requireEmulator();
    }

    private static CudaException firstLaunchWith(String ptx) {
        CudaBackend backend = (CudaBackend) Backends.get(EMU);
        KernelModules modules = new KernelModules(backend.context(), name -> ptx);
        return assertThrows(CudaException.class, () -> modules.function(Kernels.indexCheck()));
    }

    @Test
    void textThatIsNotPtxFailsWithTheParsersLog() {
        CudaException e = firstLaunchWith("// a stale build wrote this\nnot ptx at all\n");
        assertEquals(EmulatedJit.CUDA_ERROR_INVALID_PTX, e.code());
        assertTrue(e.getMessage().startsWith("cuda-emu:0 loading PTX module indexing.ptx (ISA unknown) failed: "
                + "CUDA_ERROR_INVALID_PTX (218); JIT log: ptxas application ptx input, line 2; fatal   : Parsing "
                + "error near 'not': syntax error"), e.getMessage());
    }

    @Test
    void aNewerIsaThanTheDriverKnowsSaysWhichDriverItNeeds() {
        String ptx = PtxResources.text("indexing").replace(".version 9.0", ".version 9.9");
        CudaException e = firstLaunchWith(ptx);
        assertEquals(EmulatedJit.CUDA_ERROR_UNSUPPORTED_PTX_VERSION, e.code());
        String m = e.getMessage();
        assertTrue(m.contains("(ISA 9.9) failed: CUDA_ERROR_UNSUPPORTED_PTX_VERSION (222): the NVIDIA driver (CUDA "
                + "13.0) is too old for PTX ISA 9.9"), m);
        assertTrue(m.contains("; JIT log: ptxas application ptx input, line 9; fatal   : Unsupported .version 9.9; "
                + "current version is '9.0'"), m);
    }

    @Test
    void headerFaultsTheJitWouldRefuse() {
        String good = PtxResources.text("indexing");
        assertNull(EmulatedJit.check(good));
        for (String module : Kernels.modules()) {
            assertNull(EmulatedJit.check(PtxResources.text(module)), module);
        }
        EmulatedJit.Failure noTarget = EmulatedJit.check(good.replace(".target sm_75", ".target banana"));
        assertNotNull(noTarget);
        assertTrue(noTarget.log().contains("Parsing error near '.target'"), noTarget.log());
        EmulatedJit.Failure narrow = EmulatedJit.check(good.replace(".address_size 64", ".address_size 32"));
        assertNotNull(narrow);
        assertTrue(narrow.log().contains("Unsupported address size 32"), narrow.log());
        EmulatedJit.Failure empty = EmulatedJit.check("");
        assertNotNull(empty);
        assertTrue(empty.log().contains(".version missing"), empty.log());
    }
}
