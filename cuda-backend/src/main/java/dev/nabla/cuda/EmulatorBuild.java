package dev.nabla.cuda;

import dev.nabla.kernels.PtxResources;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Builds the emulator's host library: the unmodified {@code kernels/src/main/cuda/*.cu} (shipped in nabla-kernels
 * under {@code dev/nabla/kernels/cuda/}), each compiled as C++20 under the shim header {@code cuda_shim.h} with a
 * generated registry of its kernels (the PTX {@code .entry} list), plus the execution engine
 * {@code emu_runtime.cpp}, linked into one shared library. The result is cached by a hash of every source, the flags
 * and the compiler's version, under {@code -Dnabla.emu.cache} (the build sets {@code target/emu}) or the temporary
 * folder; the compiler is {@code -Dnabla.emu.cxx}, {@code CXX} or {@code g++}.
 */
final class EmulatorBuild {
    /** -ffp-contract=off: no FMA contraction, so float results are the IEEE operations the source writes. */
    static final List<String> FLAGS = List.of("-std=c++20", "-x", "c++", "-ffp-contract=off", "-O1", "-fPIC",
            "-fno-strict-aliasing", "-pthread", "-w");

    /** The fusion math library's source and PTX module ({@code kernels/src/main/cuda/fused_math.cu}). */
    static final String MATH_LIBRARY = "fused_math";

    /** The library, or null and the reason. */
    record Result(Path library, String compiler, String reason, boolean compilerMissing) {
    }

    private static volatile Result result;

    private EmulatorBuild() {
    }

    static Result result() {
        Result r = result;
        if (r == null) {
            synchronized (EmulatorBuild.class) {
                r = result;
                if (r == null) {
                    r = build();
                    result = r;
                }
            }
        }
        return r;
    }

    /** The result if a build was attempted in this JVM, else null (nothing is compiled). */
    static Result peek() {
        return result;
    }

    static String compiler() {
        String cxx = System.getProperty("nabla.emu.cxx");
        if (cxx == null || cxx.isBlank()) {
            cxx = System.getenv("CXX");
        }
        return cxx == null || cxx.isBlank() ? "g++" : cxx.trim();
    }

    private static Result build() {
        String cxx = compiler();
        String version;
        try {
            Run v = run(List.of(cxx, "--version"), null, 30);
            if (v.status != 0) {
                return new Result(null, cxx, "no C++ compiler: '" + cxx + " --version' failed (set CXX or "
                        + "-Dnabla.emu.cxx)", true);
            }
            version = v.output.lines().findFirst().orElse(cxx);
        } catch (IOException e) {
            return new Result(null, cxx, "no C++ compiler: '" + cxx + "' not found (set CXX or -Dnabla.emu.cxx)",
                    true);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Result(null, cxx, "interrupted while looking for a C++ compiler", false);
        }
        try {
            Map<String, String> files = sources();
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            for (Map.Entry<String, String> f : files.entrySet()) {
                sha.update(f.getKey().getBytes(StandardCharsets.UTF_8));
                sha.update(f.getValue().getBytes(StandardCharsets.UTF_8));
            }
            sha.update(String.join(" ", FLAGS).getBytes(StandardCharsets.UTF_8));
            sha.update(version.getBytes(StandardCharsets.UTF_8));
            String hash = HexFormat.of().formatHex(sha.digest()).substring(0, 16);
            Path cache = cacheRoot();
            Path dir = cache.resolve(hash);
            Path lib = dir.resolve("libnabla-emu.so");
            if (Files.isRegularFile(lib)) {
                return new Result(lib, version, null, false);
            }
            Files.createDirectories(cache);
            Path work = Files.createTempDirectory(cache, "build-");
            for (Map.Entry<String, String> f : files.entrySet()) {
                Files.writeString(work.resolve(f.getKey()), f.getValue(), StandardCharsets.UTF_8);
            }
            List<String> units = files.keySet().stream().filter(n -> n.endsWith(".cpp")).toList();
            long start = System.nanoTime();
            String failure = compileAll(cxx, work, units);
            if (failure != null) {
                return new Result(null, version, "the kernels do not compile for the host: " + failure, false);
            }
            List<String> link = new ArrayList<>(List.of(cxx, "-shared", "-pthread", "-o", "libnabla-emu.so"));
            units.forEach(u -> link.add(u.replace(".cpp", ".o")));
            Run l = run(link, work, 300);
            if (l.status != 0) {
                return new Result(null, version, "linking the emulator failed: " + firstLines(l.output), false);
            }
            long modules = units.stream().filter(u -> u.startsWith("module_")).count();
            System.out.printf("cuda-emu: compiled %d kernel modules for the host in %.1f s (%s) into %s%n",
                    modules, (System.nanoTime() - start) / 1e9, version, dir);
            try {
                Files.move(work, dir, StandardCopyOption.ATOMIC_MOVE);
            } catch (FileAlreadyExistsException | AtomicMoveNotSupportedException e) {
                // another JVM built it first: use theirs
            } catch (IOException e) {
                if (!Files.isRegularFile(lib)) {
                    throw e;
                }
            }
            return new Result(lib, version, null, false);
        } catch (IOException | UncheckedIOException | NoSuchAlgorithmException | InterruptedException e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            return new Result(null, cxx, "building the emulator failed: " + e, false);
        }
    }

    static Path cacheRoot() {
        String p = System.getProperty("nabla.emu.cache");
        if (p != null && !p.isBlank()) {
            return Path.of(p);
        }
        return Path.of(System.getProperty("java.io.tmpdir"), "nabla-emu-" + System.getProperty("user.name", "user"));
    }

    private static String compileAll(String cxx, Path work, List<String> units)
            throws InterruptedException, IOException {
        int parallel = Math.max(1, Math.min(units.size(), Runtime.getRuntime().availableProcessors()));
        ExecutorService pool = Executors.newFixedThreadPool(parallel);
        try {
            List<Future<Run>> runs = new ArrayList<>();
            for (String u : units) {
                List<String> cmd = new ArrayList<>(List.of(cxx));
                cmd.addAll(FLAGS);
                cmd.addAll(List.of("-I.", "-c", u, "-o", u.replace(".cpp", ".o")));
                runs.add(pool.submit(() -> run(cmd, work, 600)));
            }
            for (int i = 0; i < runs.size(); i++) {
                Run r;
                try {
                    r = runs.get(i).get();
                } catch (java.util.concurrent.ExecutionException e) {
                    return units.get(i) + ": " + e.getCause();
                }
                if (r.status != 0) {
                    return units.get(i) + ": " + firstLines(r.output);
                }
            }
            return null;
        } finally {
            pool.shutdownNow();
        }
    }

    /** Every file of the build, by name: the kernel sources, the shim, the runtime and one registry per module. */
    static Map<String, String> sources() {
        Map<String, String> files = new LinkedHashMap<>();
        // the kernels' sources through nabla-kernels' own class: on the module path only it can read them
        files.put("common.cuh", PtxResources.source("common.cuh"));
        files.put("math_ops.cuh", PtxResources.source("math_ops.cuh"));
        for (String m : Kernels.modules()) {
            files.put(m + ".cu", PtxResources.source(m + ".cu"));
        }
        // the fusion math library: its extern "C" functions are what the PTX interpreter calls for generated kernels
        files.put(MATH_LIBRARY + ".cu", PtxResources.source(MATH_LIBRARY + ".cu"));
        files.put("library_" + MATH_LIBRARY + ".cpp", "// generated by dev.nabla.cuda.EmulatorBuild\n"
                + "#include \"cuda_shim.h\"\n#include \"" + MATH_LIBRARY + ".cu\"\n");
        for (String s : List.of("cuda_shim.h", "emu_registry.h", "emu_runtime.cpp")) {
            files.put(s, resource("/dev/nabla/cuda/emu/" + s));
        }
        for (String m : Kernels.modules()) {
            files.put("module_" + m + ".cpp", registry(m, PtxInfo.entries(PtxResources.text(m))));
        }
        return files;
    }

    /** The generated translation unit of one module: its .cu under the shim, then its table of kernels. */
    static String registry(String module, List<String> kernels) {
        StringBuilder sb = new StringBuilder();
        sb.append("// generated by dev.nabla.cuda.EmulatorBuild from ").append(module).append(".ptx\n");
        sb.append("#include \"cuda_shim.h\"\n#include \"").append(module).append(".cu\"\n");
        sb.append("#include \"emu_registry.h\"\n");
        sb.append("static const nabla_emu::Entry entries[] = {\n");
        for (String k : kernels) {
            sb.append("    NABLA_EMU_KERNEL(").append(k).append("),\n");
        }
        sb.append("};\n");
        sb.append("extern \"C\" const nabla_emu::Entry* nabla_emu_module_").append(module)
                .append("(long long* count) {\n    *count = sizeof(entries) / sizeof(entries[0]);\n")
                .append("    return entries;\n}\n");
        return sb.toString();
    }

    private static String resource(String name) {
        try (InputStream in = EmulatorBuild.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new UncheckedIOException(new IOException("resource " + name
                        + " is missing from nabla-cuda (it ships the emulator's shim)"));
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private record Run(int status, String output) {
    }

    private static Run run(List<String> cmd, Path dir, int timeoutSeconds) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        if (dir != null) {
            pb.directory(dir.toFile());
        }
        Process p = pb.start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return new Run(-1, "timed out after " + timeoutSeconds + " s");
        }
        return new Run(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }

    private static String firstLines(String s) {
        return s.lines().limit(12).reduce((a, b) -> a + "\n" + b).orElse("(no output)");
    }
}
