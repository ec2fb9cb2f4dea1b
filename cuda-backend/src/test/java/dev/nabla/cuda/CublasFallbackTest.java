package dev.nabla.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A cuBLAS that binds but cannot create a handle (libcublas.so.13 on a driver older than CUDA 13) is passed over for
 * the next candidate (.so.12), not taken: two fake libraries with cuBLAS's symbols, built with the C++ compiler the
 * emulator uses (skipped without one).
 */
class CublasFallbackTest {
    @TempDir
    Path dir;

    private Path fake(String name, int createStatus) throws IOException, InterruptedException {
        String src = """
                extern "C" {
                int cublasCreate_v2(void** h) { *h = (void*)0x1234; return %d; }
                int cublasDestroy_v2(void*) { return 0; }
                int cublasSetStream_v2(void*, void*) { return 0; }
                int cublasSetMathMode(void*, int) { return 0; }
                int cublasSgemm_v2() { return 0; }
                int cublasDgemm_v2() { return 0; }
                int cublasSgemmStridedBatched() { return 0; }
                int cublasDgemmStridedBatched() { return 0; }
                }
                """.formatted(createStatus);
        Path c = dir.resolve(name + ".cpp");
        Files.writeString(c, src);
        Path lib = dir.resolve(name);
        Process p = new ProcessBuilder(EmulatorBuild.compiler(), "-shared", "-fPIC", "-o", lib.toString(),
                c.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(120, TimeUnit.SECONDS) && p.exitValue() == 0, out);
        return lib;
    }

    @Test
    void aLibraryThatCannotCreateAHandleIsPassedOver() throws Exception {
        EmulatorBuild.Result r = EmulatorBuild.result();
        assumeTrue(!r.compilerMissing(), r.reason());
        Path v13 = fake("libcublas.so.13", 1); // CUBLAS_STATUS_NOT_INITIALIZED
        Path v12 = fake("libcublas.so.12", 0);
        Cublas.Loaded loaded = Cublas.load(List.of(new CublasLocator.Candidate("libcublas.so.13", v13),
                new CublasLocator.Candidate("libcublas.so.12", v12)), Cublas::probe);
        assertEquals(v12.toString(), loaded.location());
        assertEquals(1, loaded.failures().size(), loaded.failures().toString());
        assertTrue(loaded.failures().get(0).startsWith(v13 + ": binds, but cublasCreate_v2 failed: "
                + "CUBLAS_STATUS_NOT_INITIALIZED (1)"), loaded.failures().get(0));

        Cublas.Loaded none = Cublas.load(List.of(new CublasLocator.Candidate("libcublas.so.13", v13)),
                Cublas::probe);
        assertNull(none.cublas());
        // without a probe (binding only) the broken library would have been taken
        assertEquals(v13.toString(), Cublas.load(List.of(new CublasLocator.Candidate("libcublas.so.13", v13)))
                .location());
    }
}
