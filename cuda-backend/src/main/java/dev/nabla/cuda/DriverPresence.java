package dev.nabla.cuda;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Whether an NVIDIA driver can be on this machine, decided from files alone, before JCuda loads any native code: on
 * a CPU-only machine, loading JCuda's JNI library just to learn that {@code libcuda.so.1} is missing printed four
 * JDK "restricted method" warnings and a java.util.logging record on every start.
 *
 * <p>The driver is taken as possibly present when any of these holds: the NVIDIA kernel module is loaded
 * ({@code /proc/driver/nvidia}); the dynamic loader's cache ({@code /etc/ld.so.cache}) names {@code libcuda.so.1};
 * {@code libcuda.so.1} sits in a folder of {@code LD_LIBRARY_PATH} or in a distribution's library folder (WSL's
 * included); on Windows, {@code nvcuda.dll} is in {@code System32}. Only then does {@link DriverProbe} load JCuda
 * and ask the driver itself, so a false "present" costs the old behaviour, never a wrong answer.
 */
final class DriverPresence {
    private static final String LIBRARY = "libcuda.so.1";
    private static final List<String> LIBRARY_FOLDERS = List.of("usr/lib/x86_64-linux-gnu", "usr/lib/aarch64-linux-gnu",
            "usr/lib64", "usr/lib", "usr/local/lib", "usr/lib/wsl/lib", "usr/local/nvidia/lib64");

    private DriverPresence() {
    }

    /** Empty when a driver may be present; otherwise why there is certainly none. */
    static Optional<String> absence() {
        return absence(Path.of("/"), System.getenv(), System.getProperty("os.name", ""));
    }

    /** The same decision under another file-system root and environment (tests). */
    static Optional<String> absence(Path root, Map<String, String> env, String osName) {
        if (osName.startsWith("Windows")) {
            String system = env.getOrDefault("SystemRoot", "C:\\Windows");
            return Files.exists(Path.of(system, "System32", "nvcuda.dll")) ? Optional.empty()
                    : Optional.of("no NVIDIA driver: " + system + "\\System32\\nvcuda.dll does not exist");
        }
        if (osName.startsWith("Mac")) {
            return Optional.of("no NVIDIA driver: CUDA does not run on macOS");
        }
        if (Files.isDirectory(root.resolve("proc/driver/nvidia")) || loaderCacheNamesLibrary(root)) {
            return Optional.empty();
        }
        List<Path> folders = new ArrayList<>();
        for (String dir : env.getOrDefault("LD_LIBRARY_PATH", "").split(":")) {
            if (!dir.isBlank()) {
                folders.add(root.resolve(dir.replaceFirst("^/+", "")));
            }
        }
        for (String dir : LIBRARY_FOLDERS) {
            folders.add(root.resolve(dir));
        }
        for (Path folder : folders) {
            if (Files.exists(folder.resolve(LIBRARY))) {
                return Optional.empty();
            }
        }
        return Optional.of("no NVIDIA driver: no /proc/driver/nvidia, and " + LIBRARY
                + " is neither in the loader's cache nor in LD_LIBRARY_PATH or the system library folders");
    }

    /** The loader cache is binary, but stores each library's name as plain text. */
    private static boolean loaderCacheNamesLibrary(Path root) {
        Path cache = root.resolve("etc/ld.so.cache");
        try {
            return Files.isRegularFile(cache)
                    && new String(Files.readAllBytes(cache), StandardCharsets.ISO_8859_1).contains(LIBRARY);
        } catch (IOException | SecurityException e) {
            return true;   // unreadable: let the driver itself answer
        }
    }
}
