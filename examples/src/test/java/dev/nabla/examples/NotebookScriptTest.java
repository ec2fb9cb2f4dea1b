package dev.nabla.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import jdk.jshell.JShell;
import jdk.jshell.Snippet;
import jdk.jshell.SnippetEvent;
import jdk.jshell.SourceCodeAnalysis;
import org.junit.jupiter.api.Test;

/**
 * {@code ./nabla shell examples/notebook.jsh} prints what {@code ./nabla notebook} prints: the script runs here
 * through the JShell API, after the shell's imports and in a JShell VM started with the launcher's flags.
 */
class NotebookScriptTest {
    private static final Path EXAMPLES = Path.of(System.getProperty("user.dir"));
    /** The jshell tool's DEFAULT startup, which the launcher keeps and the JShell API does not run. */
    private static final String DEFAULT_STARTUP = String.join("\n", "import java.io.*;", "import java.math.*;",
            "import java.net.*;", "import java.nio.file.*;", "import java.util.*;", "import java.util.concurrent.*;",
            "import java.util.function.*;", "import java.util.prefs.*;", "import java.util.regex.*;",
            "import java.util.stream.*;");

    @Test
    void theNotebookScriptPrintsTheNotebook() throws IOException {
        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        NotebookExample.run(new PrintStream(expected, true, StandardCharsets.UTF_8));

        ByteArrayOutputStream out = new ByteArrayOutputStream();
        List<String> problems = new ArrayList<>();
        try (JShell shell = JShell.builder().out(new PrintStream(out, true, StandardCharsets.UTF_8))
                .remoteVMOptions("--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED")
                .build()) {
            shell.addToClasspath(testClassPath());
            run(shell, DEFAULT_STARTUP, problems);
            run(shell, Files.readString(EXAMPLES.resolve("shell-imports.jsh")), problems);
            run(shell, Files.readString(EXAMPLES.resolve("notebook.jsh")), problems);
        }
        assertEquals(List.of(), problems);
        String printed = out.toString(StandardCharsets.UTF_8);
        assertTrue(printed.contains("Epoch : 29"), printed);
        assertEquals(expected.toString(StandardCharsets.UTF_8), printed);
    }

    /** Evaluates a script snippet by snippet, as the shell does; commands such as /exit are skipped. */
    private static void run(JShell shell, String script, List<String> problems) {
        SourceCodeAnalysis analysis = shell.sourceCodeAnalysis();
        StringBuilder code = new StringBuilder();
        for (String line : script.split("\n")) {
            if (!line.startsWith("/")) {
                code.append(line).append('\n');
            }
        }
        String remaining = code.toString();
        while (!remaining.isBlank()) {
            SourceCodeAnalysis.CompletionInfo info = analysis.analyzeCompletion(remaining);
            if (!info.completeness().isComplete()) {
                problems.add("incomplete snippet: " + remaining);
                return;
            }
            for (SnippetEvent e : shell.eval(info.source())) {
                if (e.status() == Snippet.Status.REJECTED || e.exception() != null) {
                    problems.add(e.snippet().source().strip() + " -> " + e.status()
                            + (e.exception() == null ? " " + shell.diagnostics(e.snippet()).map(
                                    d -> d.getMessage(null)).toList() : " " + e.exception()));
                }
            }
            remaining = info.remaining();
        }
    }

    /** The class path of this test, which surefire may hide in a manifest-only jar. */
    private static String testClassPath() {
        String surefire = System.getProperty("surefire.test.class.path");
        return surefire != null ? surefire : System.getProperty("java.class.path");
    }
}
