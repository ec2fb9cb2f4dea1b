package dev.nabla.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The build's template expander ({@code src/build/ExpandTemplates.java}, which writes FloatLanes and DoubleLanes...
 * from one template each): compiled once, run in this JVM, and once as the build runs it, a single-file program on
 * this JDK whose exit status fails the build.
 */
@Tag("execution-independent")
class ExpandTemplatesTest {
    private static final Path PROGRAM = Path.of("src/build/ExpandTemplates.java");
    private static Method expandAll;

    @TempDir
    Path dir;

    private record Run(int exit, String output) {
    }

    @BeforeAll
    static void compile(@TempDir Path classes) throws Exception {
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        assertEquals(0, javac.run(null, null, null, "-d", classes.toString(), PROGRAM.toString()));
        URLClassLoader loader = new URLClassLoader(new URL[] {classes.toUri().toURL()});
        expandAll = loader.loadClass("ExpandTemplates").getDeclaredMethod("expandAll", Path.class, Path.class);
        expandAll.setAccessible(true);
    }

    /** Expands in this JVM: 0 and how many files it wrote, or 1 and the error's message. */
    private Run expand() throws Exception {
        try {
            int written = (int) expandAll.invoke(null, dir.resolve("in"), dir.resolve("out"));
            return new Run(0, "written " + written);
        } catch (InvocationTargetException e) {
            return new Run(1, e.getCause().getMessage());
        }
    }

    /** Expands as the build does: a new JVM running the source file. */
    private Run launch() throws IOException, InterruptedException {
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                PROGRAM.toAbsolutePath().toString(), dir.resolve("in").toString(), dir.resolve("out").toString())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        return new Run(p.waitFor(), out);
    }

    private void template(String name, String... lines) throws IOException {
        Path t = dir.resolve("in/dev/x/" + name);
        Files.createDirectories(t.getParent());
        Files.write(t, List.of(lines), StandardCharsets.UTF_8);
    }

    private String generated(String cls) throws IOException {
        return Files.readString(dir.resolve("out/dev/x/" + cls + ".java"), StandardCharsets.UTF_8);
    }

    private static String header(String template) {
        return "// Generated from " + template + " by cpu-backend/src/build/ExpandTemplates.java: edit the template,"
                + " not this file.\n";
    }

    @Test
    void writesTheFloatAndDoubleTwinsWithTokensAndNestedConditions() throws Exception {
        template("X-Sum.java.template",
                "/** $dtype$ sums. */",
                "final class $Type$Sum {",
                "    static $type$ one($type$[] x) {",
                "#if[float]",
                "        // float only",
                "#if[double]",
                "        // never: double inside float",
                "#end[double]",
                "#else[float]",
                "        // double only",
                "#end[float]",
                "    #if[double]",
                "        return x[0] + 0;",
                "    #else[double]",
                "        return x[0];",
                "    #end[double]",
                "    }",
                "}");
        Run r = launch();
        assertEquals(0, r.exit(), r.output());
        assertTrue(r.output().contains("ExpandTemplates: 2 file(s) written to "), r.output());
        assertEquals(header("X-Sum.java.template") + """
                /** FLOAT32 sums. */
                final class FloatSum {
                    static float one(float[] x) {
                        // float only
                        return x[0];
                    }
                }
                """, generated("FloatSum"));
        assertEquals(header("X-Sum.java.template") + """
                /** FLOAT64 sums. */
                final class DoubleSum {
                    static double one(double[] x) {
                        // double only
                        return x[0] + 0;
                    }
                }
                """, generated("DoubleSum"));
    }

    @Test
    void rewritesOnlyWhatChangedAndDeletesWhatNoTemplateMakes() throws Exception {
        template("X-A.java.template", "class $Type$A {}");
        assertEquals(0, expand().exit());
        Path floatA = dir.resolve("out/dev/x/FloatA.java");
        FileTime old = FileTime.fromMillis(1_000_000);
        Files.setLastModifiedTime(floatA, old);
        Path stale = dir.resolve("out/dev/x/FloatGone.java");
        Files.writeString(stale, "class FloatGone {}");

        Run again = expand();
        assertEquals(0, again.exit(), again.output());
        assertEquals(old, Files.getLastModifiedTime(floatA), "an unchanged twin is not rewritten");
        assertEquals("written 0", again.output(), "nothing written");
        assertFalse(Files.exists(stale), "a file no template makes is deleted");

        template("X-A.java.template", "class $Type$A { int changed; }");
        assertEquals(0, expand().exit());
        assertTrue(generated("DoubleA").contains("class DoubleA { int changed; }"));
    }

    @Test
    void namesTheFileAndLineOfEveryMistake() throws Exception {
        assertFails("line 2: unknown token", "X-T.java.template:2: unknown token $Kind$",
                "class $Type$T {", "    $Kind$ x;", "}");
        assertFails("an #if never ended", "X-T.java.template:1: #if[float] is never ended",
                "#if[float]", "class $Type$T {}");
        assertFails("#else without #if", "X-T.java.template:2: #else[double] without its #if[double]",
                "class $Type$T {}", "#else[double]");
        assertFails("#end of another #if", "X-T.java.template:3: #end[double] without its #if[double]",
                "#if[float]", "class $Type$T {}", "#end[double]");
        assertFails("an unknown condition", "X-T.java.template:1: unknown condition [int]",
                "#if[int]", "#end[int]");
        assertFails("a directive inside a line", "X-T.java.template:1: a directive must stand alone on its line",
                "class $Type$T {} #if[float]");
        assertFails("a second #else", "X-T.java.template:3: a second #else[float]",
                "#if[float]", "#else[float]", "#else[float]", "#end[float]");
    }

    private void assertFails(String what, String message, String... lines) throws Exception {
        template("X-T.java.template", lines);
        Run r = expand();
        assertEquals(1, r.exit(), what + ": " + r.output());
        assertTrue(r.output().contains(message), what + ": " + r.output());
    }

    @Test
    void failsTheBuildWithTheMessage() throws Exception {
        template("X-T.java.template", "class $Type$T { $Kind$ x; }");
        Run r = launch();
        assertEquals(1, r.exit(), r.output());
        assertTrue(r.output().startsWith("ExpandTemplates: ") && r.output().contains("X-T.java.template:1: unknown"
                + " token $Kind$"), r.output());
    }

    @Test
    void refusesATemplateWithoutTheXPrefix() throws Exception {
        template("Sum.java.template", "class Sum {}");
        Run r = expand();
        assertEquals(1, r.exit(), r.output());
        assertTrue(r.output().contains("a template's name is X-<Name>.java.template"), r.output());
    }
}
