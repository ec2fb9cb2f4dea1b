package consumer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Pattern;

/**
 * Runs {@link Main} as a user would start it, three ways: on the class path with the Vector API, on the class path
 * without it, and as a named module on the module path. Each run must succeed, print the same bits, and write
 * nothing to stderr but the lines allowed below (no JCuda native loading on a machine without a driver, no
 * stack traces).
 */
public final class Launch {
    /** One log record a line, so that each is matched whole. */
    private static final String ONE_LINE_LOGS = "-Djava.util.logging.SimpleFormatter.format=%4$s: %5$s%n";
    private static final List<Pattern> ALLOWED_STDERR = List.of(
            // the JVM's own note whenever an incubator module is resolved
            Pattern.compile("WARNING: Using incubator modules: jdk\\.incubator\\.vector"),
            // the one device line: the CPU is used and why the GPU is not
            Pattern.compile("INFO: Nabla runs on cpu: .*"),
            // the one line that says the Vector API is missing (the run without it)
            Pattern.compile("WARNING: Nabla's CPU backend runs without the Vector API .*"));

    private Launch() {
    }

    public static void main(String[] args) throws Exception {
        String java = ProcessHandle.current().info().command().orElseThrow();
        String path = System.getProperty("java.class.path");
        List<List<String>> runs = List.of(
                List.of(java, ONE_LINE_LOGS, "--add-modules", "jdk.incubator.vector", "-cp", path, "consumer.Main"),
                List.of(java, ONE_LINE_LOGS, "-cp", path, "consumer.Main"),
                List.of(java, ONE_LINE_LOGS, "--enable-native-access=dev.nabla.cuda", "-p", path, "-m",
                        "consumer/consumer.Main"));
        String expected = null;
        List<String> problems = new ArrayList<>();
        for (List<String> command : runs) {
            String name = String.join(" ", command.subList(2, command.size())).replace(path, "<jars>");
            Result r = run(command);
            System.out.println("== " + name + "\n" + r.stdout + r.stderr);
            if (r.exit != 0) {
                problems.add(name + ": exit " + r.exit);
            }
            for (String line : r.stderr.split("\n")) {
                if (!line.isBlank() && ALLOWED_STDERR.stream().noneMatch(p -> p.matcher(line).matches())) {
                    problems.add(name + ": unexpected stderr line: " + line);
                }
            }
            if (expected == null) {
                expected = r.stdout;
            } else if (!expected.equals(r.stdout)) {
                problems.add(name + ": printed\n" + r.stdout + "where the first run printed\n" + expected);
            }
        }
        if (!expected.contains("ok")) {
            problems.add("the first run did not finish");
        }
        if (!problems.isEmpty()) {
            System.err.println("consumer check FAILED:\n  " + String.join("\n  ", problems));
            System.exit(1);
        }
        System.out.println("consumer check passed: class path with and without the Vector API, module path");
    }

    private record Result(int exit, String stdout, String stderr) {
    }

    private static Result run(List<String> command) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().remove("NABLA_DEVICE");
        Process p = pb.start();
        CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> read(p.getErrorStream()));
        String out = read(p.getInputStream());
        return new Result(p.waitFor(), out, err.join());
    }

    private static String read(java.io.InputStream in) {
        try {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
