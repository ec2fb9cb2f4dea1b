package dev.nabla.cuda;

import dev.nabla.kernels.PtxResources;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The fusion math library ({@code kernels/src/main/cuda/math_ops.cuh}, shipped as {@code fused_math.ptx}): the
 * {@code nabla_<op>_<dtype>} functions whose eager kernels call CUDA's math library, as nvcc compiled them. A
 * generated kernel that calls some of them carries their text (and the functions and tables they use) in its own
 * module, so the driver JIT-compiles one self-contained module and no run-time linking is needed; the eager
 * kernels call the same functions, compiled from the same source by the same nvcc, so both paths give the same
 * bits.
 *
 * <pre>{@code
 * String text = MathLibrary.shipped().closure(List.of("nabla_exp_float32"));   // its .func and what it uses
 * }</pre>
 */
final class MathLibrary {
    private static final Pattern FUNC_NAME = Pattern.compile("\\.func\\s*(?:\\([^)]*\\))?\\s*(\\w+)\\s*\\(");
    private static final Pattern DATA_NAME = Pattern.compile(
            "^(?:\\.(?:visible|weak|extern)\\s+)?\\.(?:global|const)\\b[^=;]*?(\\w+)\\s*(?:\\[[^\\]]*\\])?\\s*[=;]");
    private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_$][\\w$]*");

    private static volatile MathLibrary shipped;

    /** A top-level item of a PTX module: a function (declaration or definition) or a data table. */
    record Item(String name, boolean function, boolean definition, String text) {
    }

    private final List<Item> items;
    private final Set<String> defined = new java.util.HashSet<>();

    private MathLibrary(List<Item> items) {
        this.items = items;
        for (Item i : items) {
            if (i.function() && i.definition()) {
                defined.add(i.name());
            }
        }
    }

    /** The library shipped in nabla-kernels. */
    static MathLibrary shipped() {
        MathLibrary m = shipped;
        if (m == null) {
            m = new MathLibrary(items(PtxResources.text(EmulatorBuild.MATH_LIBRARY)));
            shipped = m;
        }
        return m;
    }

    /** The library's function name for an op ({@code exp}, {@code pow}...) in a dtype ({@code float32}...). */
    static String function(String op, String dtype) {
        return "nabla_" + op + "_" + dtype;
    }

    /** True when the library defines {@code function}. */
    boolean defines(String function) {
        return defined.contains(function);
    }

    /** The text of {@code functions} and everything they use, in the library's order (declarations first). */
    String closure(Collection<String> functions) {
        Set<String> needed = new LinkedHashSet<>(functions);
        boolean grew = true;
        while (grew) {
            grew = false;
            for (Item i : items) {
                if (needed.contains(i.name())) {
                    Matcher m = IDENTIFIER.matcher(i.text());
                    while (m.find()) {
                        String id = m.group();
                        if (!needed.contains(id) && items.stream().anyMatch(j -> j.name().equals(id))) {
                            needed.add(id);
                            grew = true;
                        }
                    }
                }
            }
        }
        StringBuilder sb = new StringBuilder();
        for (Item i : items) {
            if (needed.contains(i.name())) {
                sb.append(i.text()).append('\n');
            }
        }
        return sb.toString();
    }

    /**
     * The top-level items of a PTX text (comments and the {@code .version}, {@code .target}, {@code .address_size}
     * directives left out): each ends at a {@code ;} outside braces and parentheses, or, for a function, at the
     * brace that closes its body. Throws on anything else (an entry, an unknown directive).
     */
    static List<Item> items(String ptx) {
        String text = ptx.replaceAll("//[^\n]*", "");
        StringBuilder rest = new StringBuilder();
        for (String line : text.split("\n")) {
            String l = line.trim();
            if (!l.startsWith(".version") && !l.startsWith(".target") && !l.startsWith(".address_size")) {
                rest.append(line).append('\n');
            }
        }
        List<Item> out = new ArrayList<>();
        String s = rest.toString();
        int start = -1;
        int braces = 0;
        int parens = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (start < 0) {
                if (Character.isWhitespace(c)) {
                    continue;
                }
                start = i;
            }
            if (c == '(') {
                parens++;
            } else if (c == ')') {
                parens--;
            } else if (c == '{') {
                braces++;
            } else if (c == '}') {
                braces--;
            }
            boolean end = braces == 0 && parens == 0
                    && (c == ';' || (c == '}' && s.substring(start, i).trim().matches("(?s)[^{=]*\\.func\\b.*")));
            if (end) {
                out.add(item(s.substring(start, i + 1).trim()));
                start = -1;
            }
        }
        if (start >= 0 && !s.substring(start).isBlank()) {
            throw new IllegalArgumentException("unterminated PTX item: " + s.substring(start).trim());
        }
        return out;
    }

    private static Item item(String text) {
        Matcher f = FUNC_NAME.matcher(text);
        if (text.matches("(?s)(\\.visible\\s+|\\.extern\\s+|\\.weak\\s+)?\\.func\\b.*") && f.find()) {
            return new Item(f.group(1), true, text.endsWith("}"), text);
        }
        Matcher d = DATA_NAME.matcher(text);
        if (d.find()) {
            return new Item(d.group(1), false, true, text);
        }
        throw new IllegalArgumentException("not a function or data item of a PTX library: "
                + text.substring(0, Math.min(80, text.length())));
    }
}
