package dev.nabla.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The file-only driver check, on made-up file systems, and a CPU-only start that loads no native code: a fresh JVM
 * without a driver prints no JDK restricted-method warning and nothing from JCuda.
 */
class DriverPresenceTest {
    private static final String LINUX = "Linux";

    @Test
    void anEmptyMachineHasNoDriverAndSaysWhy(@TempDir Path root) {
        String why = DriverPresence.absence(root, Map.of(), LINUX).orElseThrow();
        assertTrue(why.startsWith("no NVIDIA driver: no /proc/driver/nvidia"), why);
    }

    @Test
    void theKernelModuleOrTheLibraryAnywhereTheLoaderLooksMeansMaybe(@TempDir Path root) throws IOException {
        Path proc = Files.createDirectories(root.resolve("a/proc/driver/nvidia"));
        assertFalse(DriverPresence.absence(root.resolve("a"), Map.of(), LINUX).isPresent(), "kernel module " + proc);

        Files.createDirectories(root.resolve("b/usr/lib/x86_64-linux-gnu"));
        Files.writeString(root.resolve("b/usr/lib/x86_64-linux-gnu/libcuda.so.1"), "");
        assertFalse(DriverPresence.absence(root.resolve("b"), Map.of(), LINUX).isPresent(), "distribution folder");

        Files.createDirectories(root.resolve("c/opt/nv"));
        Files.writeString(root.resolve("c/opt/nv/libcuda.so.1"), "");
        assertFalse(DriverPresence.absence(root.resolve("c"), Map.of("LD_LIBRARY_PATH", "/x:/opt/nv"), LINUX)
                .isPresent(), "LD_LIBRARY_PATH");

        Files.createDirectories(root.resolve("d/etc"));
        Files.write(root.resolve("d/etc/ld.so.cache"),
                "\0\1glibc-ld.so.cache\0libcuda.so.1\0/usr/lib/nvidia-580/libcuda.so.1\0".getBytes(StandardCharsets.ISO_8859_1));
        assertFalse(DriverPresence.absence(root.resolve("d"), Map.of(), LINUX).isPresent(), "loader cache");
    }

    @Test
    void theToolkitsRuntimeAndStubsAreNotTheDriver(@TempDir Path root) throws IOException {
        // libcudart (the toolkit's runtime) and the link-time stub libcuda.so are on machines without a GPU
        Files.createDirectories(root.resolve("etc"));
        Files.write(root.resolve("etc/ld.so.cache"),
                "libcudart.so.13\0/usr/local/cuda/lib/libcudart.so.13\0".getBytes(StandardCharsets.ISO_8859_1));
        Files.createDirectories(root.resolve("usr/local/cuda/lib64/stubs"));
        Files.writeString(root.resolve("usr/local/cuda/lib64/stubs/libcuda.so"), "");
        assertTrue(DriverPresence.absence(root, Map.of("LD_LIBRARY_PATH", "/usr/local/cuda/lib64/stubs"), LINUX)
                .isPresent());
    }

    @Test
    void windowsLooksForNvcudaAndMacHasNone(@TempDir Path root) throws IOException {
        Map<String, String> env = Map.of("SystemRoot", root.toString());
        assertTrue(DriverPresence.absence(root, env, "Windows 11").isPresent());
        Files.createDirectories(root.resolve("System32"));
        Files.writeString(root.resolve("System32/nvcuda.dll"), "");
        assertFalse(DriverPresence.absence(root, env, "Windows 11").isPresent());
        assertTrue(DriverPresence.absence(root, Map.of(), "Mac OS X").isPresent());
    }

    /** Run in a fresh JVM by {@link #aCpuOnlyStartLoadsNoNativeCode}: chooses the default device. */
    public static void main(String[] args) {
        System.out.println("device " + dev.nabla.Device.defaultDevice());
    }

    @Test
    void aCpuOnlyStartLoadsNoNativeCode() throws Exception {
        if (DriverPresence.absence().isEmpty()) {
            System.out.println("skipped: this machine may have an NVIDIA driver, so a start may load JCuda");
            return;
        }
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), "--add-modules", "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"),
                DriverPresenceTest.class.getName()));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the child JVM finished");
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("device cpu"), out);
        assertFalse(out.contains("restricted method"), out);
        assertFalse(out.toLowerCase(java.util.Locale.ROOT).contains("jcuda"), out);
        assertFalse(DriverProbe.result().usable());
    }
}
