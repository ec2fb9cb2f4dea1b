package dev.nabla.conformance.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Every public type in a package the {@code dev.nabla} module exports has a Javadoc comment with an example (a
 * {@code <pre>{@code ...}} block or a {@code {@snippet}}), top-level and nested alike. Javadoc's doclint checks the
 * comments' syntax and links (the build fails on its warnings); this checks that they exist and show usage.
 */
class PublicTypesAreDocumentedTest {
    private static final Path SOURCES = coreSources();
    private static final Pattern EXPORT = Pattern.compile("^\\s*exports\\s+([\\w.]+);", Pattern.MULTILINE);
    private static final Pattern PUBLIC_TYPE = Pattern.compile(
            "^[ \\t]*public\\s+(?:(?:final|abstract|static|sealed|non-sealed|strictfp)\\s+)*"
                    + "(?:class|interface|enum|record|@interface)\\s+(\\w+)", Pattern.MULTILINE);

    @Test
    void everyExportedPublicTypeHasACommentWithAnExample() throws IOException {
        List<String> packages = exportedPackages();
        assertTrue(packages.contains("dev.nabla") && packages.contains("dev.nabla.nn"), packages.toString());
        List<String> undocumented = new ArrayList<>();
        int types = 0;
        for (String pkg : packages) {
            Path dir = SOURCES.resolve(pkg.replace('.', '/'));
            try (Stream<Path> files = Files.list(dir)) {
                for (Path file : files.filter(f -> f.toString().endsWith(".java")).sorted().toList()) {
                    String source = Files.readString(file);
                    Matcher m = PUBLIC_TYPE.matcher(source);
                    while (m.find()) {
                        types++;
                        String comment = commentBefore(source, m.start());
                        if (comment == null) {
                            undocumented.add(pkg + "." + m.group(1) + ": no Javadoc comment");
                        } else if (!comment.contains("<pre>{@code") && !comment.contains("{@snippet")) {
                            undocumented.add(pkg + "." + m.group(1) + ": no example in its comment");
                        }
                    }
                }
            }
        }
        assertTrue(types > 60, "found only " + types + " public types; is the pattern still right?");
        assertEquals(List.of(), undocumented);
    }

    /** core's sources, found from whichever module's folder runs this shared test. */
    private static Path coreSources() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path candidate = dir.resolve("core/src/main/java");
            if (Files.exists(candidate.resolve("module-info.java"))) {
                return candidate;
            }
        }
        throw new IllegalStateException("core/src/main/java not found above " + Path.of("").toAbsolutePath());
    }

    private static List<String> exportedPackages() throws IOException {
        Matcher m = EXPORT.matcher(Files.readString(SOURCES.resolve("module-info.java")));
        List<String> packages = new ArrayList<>();
        while (m.find()) {
            packages.add(m.group(1));
        }
        return packages;
    }

    /** The Javadoc comment that ends right before {@code at}, skipping annotations and blank lines; else null. */
    static String commentBefore(String source, int at) {
        String before = source.substring(0, at).stripTrailing();
        while (true) {
            // drop trailing annotation lines such as @FunctionalInterface or @SuppressWarnings("x")
            int lineStart = before.lastIndexOf('\n') + 1;
            String line = before.substring(lineStart).strip();
            if (line.startsWith("@")) {
                before = before.substring(0, lineStart).stripTrailing();
            } else {
                break;
            }
        }
        if (!before.endsWith("*/")) {
            return null;
        }
        int start = before.lastIndexOf("/**");
        // a plain /* */ comment closer to the declaration than the last /** is not Javadoc
        return start >= 0 && before.lastIndexOf("/*") == start ? before.substring(start) : null;
    }
}
