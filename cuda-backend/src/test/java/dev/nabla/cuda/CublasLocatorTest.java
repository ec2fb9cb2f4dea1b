package dev.nabla.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The cuBLAS search order over a fake filesystem. */
class CublasLocatorTest {
    @TempDir
    Path root;

    private Path touch(String relative) throws IOException {
        Path p = root.resolve(relative);
        Files.createDirectories(p.getParent());
        Files.writeString(p, "not really a library");
        return p;
    }

    private static List<String> describe(List<CublasLocator.Candidate> cs) {
        return cs.stream().map(CublasLocator.Candidate::describe).toList();
    }

    @Test
    void version13EverywhereBeforeVersion12AndTheLoaderPathFirst() throws IOException {
        Path toolkit12 = touch("usr/local/cuda-12.4/lib64/libcublas.so.12");
        Path wheel13 = touch("usr/local/lib/python3.12/dist-packages/nvidia/cu13/lib/libcublas.so.13");
        Path wheel12 = touch("home/u/.local/lib/python3.11/site-packages/nvidia/cublas/lib/libcublas.so.12");
        Path toolkit13 = touch("usr/local/cuda/lib64/libcublas.so.13");
        CublasLocator loc = new CublasLocator(Map.of("HOME", root.resolve("home/u").toString()), null, root);
        assertEquals(List.of(
                "libcublas.so.13 (library search path)",
                toolkit13.toString(),
                wheel13.toString(),
                "libcublas.so.12 (library search path)",
                toolkit12.toString(),
                wheel12.toString()), describe(loc.candidates()));
    }

    @Test
    void anExplicitPathComesFirst() throws IOException {
        Path mine = touch("opt/mine/libcublas.so.13");
        CublasLocator loc = new CublasLocator(Map.of("NABLA_CUBLAS", mine.toString()), null, root);
        assertEquals(mine, loc.candidates().get(0).file());
        CublasLocator byProperty = new CublasLocator(Map.of(), mine.toString(), root);
        assertEquals(mine, byProperty.candidates().get(0).file());
    }

    @Test
    void environmentFoldersComeBeforeTheWellKnownOnes() throws IOException {
        Path home = touch("cuda-home/lib64/libcublas.so.13");
        Path conda = touch("envs/x/lib/libcublas.so.13");
        Path venvWheel = touch("venv/lib/python3.13/site-packages/nvidia/cu13/lib/libcublas.so.13");
        Path system = touch("usr/lib/x86_64-linux-gnu/libcublas.so.13");
        Map<String, String> env = Map.of("CUDA_HOME", root.resolve("cuda-home").toString(),
                "CONDA_PREFIX", root.resolve("envs/x").toString(), "VIRTUAL_ENV", root.resolve("venv").toString());
        List<Path> files = new CublasLocator(env, null, root).candidates().stream()
                .map(CublasLocator.Candidate::file).filter(f -> f != null).toList();
        assertEquals(List.of(home, system, conda, venvWheel), files);
    }

    @Test
    void newerToolkitFoldersFirst() throws IOException {
        Path older = touch("usr/local/cuda-13.0/lib64/libcublas.so.13");
        Path newer = touch("usr/local/cuda-13.1/lib64/libcublas.so.13");
        List<Path> files = new CublasLocator(Map.of(), null, root).candidates().stream()
                .map(CublasLocator.Candidate::file).filter(f -> f != null).toList();
        assertEquals(List.of(newer, older), files);
    }

    @Test
    void loadingFromNowhereReportsEveryFailureAndNeverThrows() throws IOException {
        // a path that does not exist (a fake ELF would make the JVM warn about stack guards when dlopen rejects it)
        Path bogus = root.resolve("usr/local/cuda/lib64/libcublas.so.13");
        Cublas.Loaded loaded = Cublas.load(List.of(new CublasLocator.Candidate("libcublas.so.99", null),
                new CublasLocator.Candidate("libcublas.so.13", bogus)));
        assertNull(loaded.cublas());
        assertEquals(2, loaded.failures().size());
        assertTrue(loaded.failures().get(1).startsWith(bogus.toString()), loaded.failures().toString());
    }
}
