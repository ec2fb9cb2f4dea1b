import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Writes the FLOAT32 and FLOAT64 twins of the CPU backend's kernels from one template each, so that the two are one
 * piece of code (the Vector API's FloatVector and DoubleVector share no generic form that C2 compiles as well).
 * Run by Maven before compiling ({@code cpu-backend/pom.xml}); a single-file program, so it needs no module of its
 * own:
 *
 * <pre>{@code
 * java cpu-backend/src/build/ExpandTemplates.java cpu-backend/src/main/templates cpu-backend/target/generated-sources/templates
 * }</pre>
 *
 * <p>{@code dev/nabla/cpu/X-Lanes.java.template} becomes {@code FloatLanes.java} and {@code DoubleLanes.java} in the
 * same package folder. In a template:
 * <ul>
 *   <li>{@code $type$}, {@code $Type$} and {@code $dtype$} stand for {@code float}, {@code Float} and
 *       {@code FLOAT32} (or {@code double}, {@code Double}, {@code FLOAT64}); any other {@code $word$} is an error;</li>
 *   <li>lines between {@code #if[float]} and {@code #else[float]} or {@code #end[float]} are kept in the float twin
 *       only, those after {@code #else[float]} in the double twin only ({@code #if[double]} likewise); the directive
 *       lines themselves, alone on their line, are dropped, and they nest.</li>
 * </ul>
 * A file is rewritten only when its text changes, so that an unchanged template does not recompile anything; files
 * in the output folder that no template makes any more are deleted.
 */
public final class ExpandTemplates {
    private static final String SUFFIX = ".java.template";
    private static final String PREFIX = "X-";
    private static final List<String> TYPES = List.of("float", "double");
    private static final Map<String, String> DTYPES = Map.of("float", "FLOAT32", "double", "FLOAT64");
    private static final Pattern DIRECTIVE = Pattern.compile("\\s*#(if|else|end)\\[(\\w+)]\\s*");
    private static final Pattern TOKEN = Pattern.compile("\\$(\\w*)\\$");

    private ExpandTemplates() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 2) {
            System.err.println("usage: java ExpandTemplates.java <templates folder> <output folder>");
            System.exit(2);
        }
        try {
            int written = expandAll(Path.of(args[0]), Path.of(args[1]));
            if (written > 0) {
                System.out.println("ExpandTemplates: " + written + " file(s) written to " + args[1]);
            }
        } catch (TemplateException e) {
            System.err.println("ExpandTemplates: " + e.getMessage());
            System.exit(1);
        }
    }

    /** Expands every template under {@code in} into {@code out}; returns how many files changed. */
    static int expandAll(Path in, Path out) throws IOException {
        List<Path> templates;
        try (Stream<Path> s = Files.walk(in)) {
            templates = s.filter(p -> p.getFileName().toString().endsWith(SUFFIX)).sorted().toList();
        }
        Set<Path> made = new HashSet<>();
        int written = 0;
        for (Path t : templates) {
            String name = t.getFileName().toString();
            if (!name.startsWith(PREFIX)) {
                throw new TemplateException(t + ": a template's name is " + PREFIX + "<Name>" + SUFFIX);
            }
            String base = name.substring(PREFIX.length(), name.length() - SUFFIX.length());
            List<String> lines = Files.readAllLines(t, StandardCharsets.UTF_8);
            for (String type : TYPES) {
                String cls = capitalized(type) + base;
                Path target = out.resolve(in.relativize(t.getParent())).resolve(cls + ".java");
                String text = "// Generated from " + name + " by cpu-backend/src/build/ExpandTemplates.java: edit the"
                        + " template, not this file.\n" + expand(t.toString(), lines, type);
                made.add(target.toAbsolutePath().normalize());
                if (!Files.exists(target) || !Files.readString(target, StandardCharsets.UTF_8).equals(text)) {
                    // written aside and renamed, so that an interrupted run never leaves a half-written twin
                    Files.createDirectories(target.getParent());
                    Path part = target.resolveSibling(cls + ".java.part");
                    Files.writeString(part, text, StandardCharsets.UTF_8);
                    Files.move(part, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                    written++;
                }
            }
        }
        if (Files.isDirectory(out)) {
            try (Stream<Path> s = Files.walk(out)) {
                for (Path p : s.filter(Files::isRegularFile).toList()) {
                    if (!made.contains(p.toAbsolutePath().normalize())) {
                        Files.delete(p);
                    }
                }
            }
        }
        return written;
    }

    /** An {@code #if} not yet ended: its condition, the line it stands on, and which branch is being read. */
    private static final class Open {
        final String key;
        final int line;
        boolean kept;
        boolean inElse;

        Open(String key, int line, boolean kept) {
            this.key = key;
            this.line = line;
            this.kept = kept;
        }
    }

    /** The {@code type} twin of a template's lines; {@code file} names it in errors. */
    static String expand(String file, List<String> lines, String type) {
        Deque<Open> open = new ArrayDeque<>();
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            String where = file + ":" + (i + 1);
            Matcher d = DIRECTIVE.matcher(line);
            if (d.matches()) {
                String key = d.group(2);
                if (!TYPES.contains(key)) {
                    throw new TemplateException(where + ": unknown condition [" + key + "]; known: " + TYPES);
                }
                switch (d.group(1)) {
                    case "if" -> open.push(new Open(key, i + 1, key.equals(type)));
                    case "else" -> {
                        Open top = top(open, key, where, "#else");
                        if (top.inElse) {
                            throw new TemplateException(where + ": a second #else[" + key + "]");
                        }
                        top.kept = !top.kept;
                        top.inElse = true;
                    }
                    default -> {
                        top(open, key, where, "#end");
                        open.pop();
                    }
                }
                continue;
            }
            if (line.contains("#if[") || line.contains("#else[") || line.contains("#end[")) {
                throw new TemplateException(where + ": a directive must stand alone on its line");
            }
            if (open.stream().allMatch(o -> o.kept)) {
                sb.append(substitute(where, line, type)).append('\n');
            }
        }
        if (!open.isEmpty()) {
            throw new TemplateException(file + ":" + open.peek().line + ": #if[" + open.peek().key
                    + "] is never ended");
        }
        return sb.toString();
    }

    private static Open top(Deque<Open> open, String key, String where, String directive) {
        if (open.isEmpty() || !open.peek().key.equals(key)) {
            throw new TemplateException(where + ": " + directive + "[" + key + "] without its #if[" + key + "]");
        }
        return open.peek();
    }

    private static String substitute(String where, String line, String type) {
        Matcher m = TOKEN.matcher(line);
        StringBuilder sb = new StringBuilder();
        while (m.find()) {
            String value = switch (m.group(1)) {
                case "type" -> type;
                case "Type" -> capitalized(type);
                case "dtype" -> DTYPES.get(type);
                default -> throw new TemplateException(where + ": unknown token " + m.group()
                        + "; known: $type$, $Type$, $dtype$");
            };
            m.appendReplacement(sb, value);
        }
        m.appendTail(sb);
        return sb.toString();
    }

    private static String capitalized(String s) {
        return Character.toUpperCase(s.charAt(0)) + s.substring(1);
    }

    /** A template that cannot be expanded: names the file and line. */
    static final class TemplateException extends RuntimeException {
        TemplateException(String message) {
            super(message);
        }
    }
}
