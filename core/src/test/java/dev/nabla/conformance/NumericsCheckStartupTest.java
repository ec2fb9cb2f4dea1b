package dev.nabla.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nabla.Device;
import dev.nabla.Nabla;
import dev.nabla.NumericsException;
import dev.nabla.Tensor;
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
import org.junit.jupiter.api.Test;

/**
 * {@code NABLA_CHECK_NUMERICS=1} turns the check on at startup and {@code -Dnabla.checkNumerics=false} wins over it,
 * in a fresh JVM on the CPU (the setting is read once, when Nabla's classes load).
 */
class NumericsCheckStartupTest {
    /** The forked program: reports the setting, then takes log(-1). */
    public static final class Child {
        private Child() {
        }

        public static void main(String[] args) {
            System.out.println("checking=" + Nabla.isCheckingNumerics());
            try {
                float v = Tensor.of(Device.cpu(), new float[] {-1}).log().item();
                System.out.println("result=" + v);
            } catch (NumericsException e) {
                System.out.println("threw=" + e.getMessage());
            }
        }
    }

    /**
     * The JVM's class path and, where a launcher loaded the tests through a class loader of their own (JUnit's
     * console launcher with {@code --class-path}, as scripts/gpu-check.sh runs it), that loader's jars too.
     */
    private static String childClassPath() {
        List<String> entries = new ArrayList<>(List.of(System.getProperty("java.class.path")));
        if (Child.class.getClassLoader() instanceof URLClassLoader loader) {
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

    private static String run(Map<String, String> env, String... jvmArgs) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(List.of("--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"));
        cmd.addAll(List.of(jvmArgs));
        cmd.addAll(List.of("-cp", childClassPath(), Child.class.getName()));
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

    @Test
    void environmentVariableTurnsItOn() throws Exception {
        String out = run(Map.of("NABLA_CHECK_NUMERICS", "1"));
        assertTrue(out.contains("checking=true"), out);
        assertTrue(out.contains("threw=checkNumerics: log produced NaN (inputs (1,)) at " + Child.class.getName()
                + ".main(NumericsCheckStartupTest.java:"), out);
    }

    @Test
    void propertyWinsOverTheEnvironment() throws Exception {
        String out = run(Map.of("NABLA_CHECK_NUMERICS", "1"), "-Dnabla.checkNumerics=false");
        assertTrue(out.contains("checking=false"), out);
        assertTrue(out.contains("result=NaN"), out);
    }
}
