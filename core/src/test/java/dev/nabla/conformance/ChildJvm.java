package dev.nabla.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** A fresh JVM running a test's {@code main} class on the tests' class path, for what is decided at startup. */
final class ChildJvm {
    private ChildJvm() {
    }

    /**
     * Runs {@code main} with {@code jvmArgs} (after the Vector API and native-access flags) on the CPU, the
     * environment without NABLA_CHECK_NUMERICS plus {@code env}; asserts it exits with 0 within a minute and returns
     * what it printed.
     */
    static String run(Class<?> main, Map<String, String> env, String... jvmArgs)
            throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(List.of("--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"));
        cmd.addAll(List.of(jvmArgs));
        cmd.addAll(List.of("-cp", classPath(main), main.getName()));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().remove("NABLA_CHECK_NUMERICS");
        pb.environment().put("NABLA_DEVICE", "cpu");
        pb.environment().putAll(env);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), out);
        assertEquals(0, p.exitValue(), out);
        return out;
    }

    /**
     * The JVM's class path and, where a launcher loaded the tests through a class loader of their own (JUnit's
     * console launcher with {@code --class-path}, as scripts/gpu-check.sh runs it), that loader's jars too.
     */
    private static String classPath(Class<?> main) {
        List<String> entries = new ArrayList<>(List.of(System.getProperty("java.class.path")));
        if (main.getClassLoader() instanceof URLClassLoader loader) {
            for (URL url : loader.getURLs()) {
                try {
                    entries.add(Path.of(url.toURI()).toString());
                } catch (URISyntaxException | IllegalArgumentException e) {
                    throw new IllegalStateException("a test class path entry is no file: " + url, e);
                }
            }
        }
        return String.join(File.pathSeparator, entries);
    }
}
