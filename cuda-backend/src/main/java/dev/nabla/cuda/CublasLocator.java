package dev.nabla.cuda;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Where to look for cuBLAS, in order. For each major version, newest first ({@code libcublas.so.13}, then
 * {@code .12}): an explicit path ({@code -Dnabla.cublas=FILE} or {@code NABLA_CUBLAS}) before everything, then the
 * bare soname (the dynamic loader's search: {@code LD_LIBRARY_PATH}, the ldconfig cache), then the well-known CUDA
 * toolkit, distribution, conda and pip-wheel folders ({@code nvidia/cu13/lib}, {@code nvidia/cublas/lib} under
 * every site-packages). Folders are listed only where the file exists.
 *
 * <p>Filesystem paths resolve under {@code root} ("/" in production), so tests can lay out a fake tree.
 */
final class CublasLocator {
    /** The major versions tried, newest first. */
    static final List<Integer> VERSIONS = List.of(13, 12);

    /** One place to try: a bare soname for the loader's search path, or a file. */
    record Candidate(String soname, Path file) {
        /** Where it came from, for reports. */
        String describe() {
            return file == null ? soname + " (library search path)" : file.toString();
        }
    }

    private final Map<String, String> env;
    private final String explicitPath;
    private final Path root;

    /**
     * @param env the environment ({@code CUDA_HOME}, {@code CUDA_PATH}, {@code CONDA_PREFIX}, {@code VIRTUAL_ENV},
     *     {@code HOME}, {@code NABLA_CUBLAS})
     * @param explicitPath the {@code nabla.cublas} system property, or null
     * @param root the filesystem root the well-known absolute folders resolve under
     */
    CublasLocator(Map<String, String> env, String explicitPath, Path root) {
        this.env = env;
        this.explicitPath = explicitPath != null ? explicitPath : env.get("NABLA_CUBLAS");
        this.root = root;
    }

    /** The production locator: this process's environment, "/" as root. */
    static CublasLocator system() {
        return new CublasLocator(System.getenv(), System.getProperty("nabla.cublas"), Path.of("/"));
    }

    /** Every candidate, in the order to try. */
    List<Candidate> candidates() {
        Set<Candidate> out = new LinkedHashSet<>();
        if (explicitPath != null && !explicitPath.isBlank()) {
            Path p = Path.of(explicitPath);
            out.add(new Candidate(p.getFileName().toString(), p));
        }
        for (int version : VERSIONS) {
            String soname = "libcublas.so." + version;
            out.add(new Candidate(soname, null));
            for (Path dir : folders()) {
                Path file = dir.resolve(soname);
                if (Files.isRegularFile(file)) {
                    out.add(new Candidate(soname, file));
                }
            }
        }
        return new ArrayList<>(out);
    }

    /** The well-known folders, most specific first. */
    List<Path> folders() {
        List<Path> dirs = new ArrayList<>();
        for (String var : List.of("CUDA_HOME", "CUDA_PATH")) {
            String v = env.get(var);
            if (v != null && !v.isBlank()) {
                dirs.add(Path.of(v, "lib64"));
                dirs.add(Path.of(v, "lib"));
            }
        }
        dirs.add(abs("usr/local/cuda/lib64"));
        dirs.add(abs("usr/local/cuda/targets/x86_64-linux/lib"));
        for (Path cuda : glob(abs("usr/local"), "cuda-")) {
            dirs.add(cuda.resolve("lib64"));
            dirs.add(cuda.resolve("targets/x86_64-linux/lib"));
        }
        dirs.add(abs("usr/lib/x86_64-linux-gnu"));
        dirs.add(abs("usr/lib64"));
        String conda = env.get("CONDA_PREFIX");
        if (conda != null && !conda.isBlank()) {
            dirs.add(Path.of(conda, "lib"));
        }
        dirs.add(abs("opt/conda/lib"));
        for (Path site : sitePackages()) {
            dirs.add(site.resolve("nvidia/cu13/lib"));
            dirs.add(site.resolve("nvidia/cublas/lib"));
        }
        return dirs;
    }

    private List<Path> sitePackages() {
        List<Path> libs = new ArrayList<>();
        for (String var : List.of("VIRTUAL_ENV", "CONDA_PREFIX")) {
            String v = env.get(var);
            if (v != null && !v.isBlank()) {
                libs.add(Path.of(v, "lib"));
            }
        }
        String home = env.get("HOME");
        if (home != null && !home.isBlank()) {
            libs.add(Path.of(home, ".local/lib"));
        }
        libs.add(abs("usr/local/lib"));
        libs.add(abs("usr/lib"));
        libs.add(abs("opt/conda/lib"));
        List<Path> sites = new ArrayList<>();
        for (Path lib : libs) {
            for (Path python : glob(lib, "python3")) {
                sites.add(python.resolve("site-packages"));
                sites.add(python.resolve("dist-packages"));
            }
        }
        return sites;
    }

    private Path abs(String relative) {
        return root.resolve(relative);
    }

    /** Sub-folders of {@code dir} whose name starts with {@code prefix}, newest (lexically last) first. */
    private static List<Path> glob(Path dir, String prefix) {
        List<Path> found = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return found;
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, prefix + "*")) {
            for (Path p : ds) {
                if (Files.isDirectory(p)) {
                    found.add(p);
                }
            }
        } catch (IOException | SecurityException e) {
            return found; // an unreadable folder is just not a candidate
        }
        found.sort((a, b) -> b.getFileName().toString().compareTo(a.getFileName().toString()));
        return found;
    }
}
