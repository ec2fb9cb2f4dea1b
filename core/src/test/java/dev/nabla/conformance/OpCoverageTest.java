package dev.nabla.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.nabla.Nabla;
import dev.nabla.Tensor;
import dev.nabla.nn.Functional;
import dev.nabla.nn.Layer;
import dev.nabla.ops.Indexing;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.JarURLConnection;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.jar.JarEntry;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Every public op has a row in the {@link OpTable} (and so forward, gradient and device coverage) or a written
 * exemption with its reason. The ops are found by reflection: the public methods returning a Tensor, static or not,
 * of {@link Tensor}, {@link Nabla} and {@link Functional}, and {@code forward} of every public layer class of
 * {@code dev.nabla.nn}. A row covers {@code "Owner.method"} (every overload) or one overload
 * {@code "Owner.method(ParamType, ...)"} (simple names, varargs as arrays); see {@link OpInfo#apiKey()}.
 */
class OpCoverageTest {
    /** Public ops that are deliberately not rows, each with the reason (the key format of {@link OpInfo#api()}). */
    static final Map<String, String> EXEMPT = Map.ofEntries(
            // creation: no tensor input to draw, so no row; CreationTest checks them on every device
            Map.entry("Tensor.scalar", "creation; CreationTest"),
            Map.entry("Tensor.of", "creation; CreationTest"),
            Map.entry("Tensor.zeros", "creation; CreationTest"),
            Map.entry("Tensor.ones", "creation; CreationTest"),
            Map.entry("Tensor.full", "creation; CreationTest"),
            Map.entry("Tensor.arange", "creation; CreationTest"),
            Map.entry("Tensor.zerosLike", "creation (the input's shape, dtype and device only); CreationTest"),
            Map.entry("Tensor.onesLike", "creation (the input's shape, dtype and device only); CreationTest"),
            Map.entry("Tensor.to(Device)", "a copy between devices, not math; CreationTest round-trips it"),
            Map.entry("Tensor.evaluate", "computes deferred values now, the same values; DeferralTest"));

    /** The classes whose public ops must be covered, besides the layers. */
    private static final List<Class<?>> API = List.of(Tensor.class, Nabla.class, Functional.class);

    /** Classes a row may name besides those (internal ops the layers are built from, tested as rows too). */
    private static final List<Class<?>> INTERNAL = List.of(Indexing.class, dev.nabla.ops.Convolution.class,
            dev.nabla.ops.Elementwise.class);

    @Test
    void everyPublicOpHasARowOrAWrittenExemption() {
        Set<String> rows = OpTable.ROWS.stream().map(OpInfo::apiKey).collect(Collectors.toSet());
        List<String> missing = new ArrayList<>();
        List<String> both = new ArrayList<>();
        for (Method m : publicOps()) {
            String byName = nameKey(m);
            String bySignature = signatureKey(m);
            boolean row = rows.contains(byName) || rows.contains(bySignature);
            boolean exempt = EXEMPT.containsKey(byName) || EXEMPT.containsKey(bySignature);
            if (!row && !exempt) {
                missing.add(bySignature);
            } else if (row && exempt) {
                both.add(bySignature);
            }
        }
        if (!missing.isEmpty() || !both.isEmpty()) {
            fail((missing.isEmpty() ? "" : missing.size() + " public op(s) with no op-table row and no exemption in "
                    + "OpCoverageTest.EXEMPT:\n  " + String.join("\n  ", missing) + "\n")
                    + (both.isEmpty() ? "" : "row and exemption at once (drop the exemption):\n  "
                    + String.join("\n  ", both)));
        }
    }

    @Test
    void everyRowAndExemptionNamesAnExistingPublicMethod() {
        Set<String> known = new TreeSet<>();
        List<Method> methods = new ArrayList<>(publicOps());
        for (Class<?> c : INTERNAL) {
            Arrays.stream(c.getDeclaredMethods()).filter(OpCoverageTest::isPublicOp).forEach(methods::add);
        }
        for (Method m : methods) {
            known.add(nameKey(m));
            known.add(signatureKey(m));
        }
        List<String> stale = new ArrayList<>();
        OpTable.ROWS.stream().filter(r -> !known.contains(r.apiKey()))
                .forEach(r -> stale.add("row " + r.name() + " covers " + r.apiKey()));
        EXEMPT.keySet().stream().filter(k -> !known.contains(k)).sorted().forEach(k -> stale.add("exemption " + k));
        assertEquals(List.of(), stale, "rows and exemptions must name public methods (renamed or removed?)");
    }

    @Test
    void theLayerScanFindsTheLayers() {
        List<String> layers = layerClasses().stream().map(Class::getSimpleName).toList();
        // a broken classpath scan would otherwise make the coverage test pass vacuously
        assertTrue(layers.containsAll(List.of("Conv2d", "Dense", "MaxPool2d", "AvgPool2d", "Flatten", "Relu",
                "Dropout", "BatchNorm", "Sequential")), layers.toString());
    }

    @Test
    void rowNamesAreUnique() {
        // the names seed the rows' random cases and name them in failures
        Map<String, Long> counts = OpTable.ROWS.stream()
                .collect(Collectors.groupingBy(OpInfo::name, TreeMap::new, Collectors.counting()));
        counts.values().removeIf(n -> n == 1);
        assertEquals(Map.of(), counts);
    }

    /** Public methods returning a Tensor of the API classes, and forward of every public concrete layer. */
    static List<Method> publicOps() {
        List<Method> out = new ArrayList<>();
        for (Class<?> c : API) {
            Arrays.stream(c.getDeclaredMethods()).filter(OpCoverageTest::isPublicOp).forEach(out::add);
        }
        for (Class<?> layer : layerClasses()) {
            try {
                out.add(layer.getMethod("forward", Tensor.class));
            } catch (NoSuchMethodException e) {
                throw new AssertionError(layer + " has no forward(Tensor)", e);
            }
        }
        out.sort((a, b) -> signatureKey(a).compareTo(signatureKey(b)));
        return out;
    }

    private static boolean isPublicOp(Method m) {
        return Modifier.isPublic(m.getModifiers()) && !m.isSynthetic() && !m.isBridge()
                && Tensor.class.isAssignableFrom(m.getReturnType());
    }

    static String nameKey(Method m) {
        return owner(m) + "." + m.getName();
    }

    static String signatureKey(Method m) {
        return nameKey(m) + Arrays.stream(m.getParameterTypes()).map(Class::getSimpleName)
                .collect(Collectors.joining(", ", "(", ")"));
    }

    private static String owner(Method m) {
        return m.getDeclaringClass().getSimpleName();
    }

    /** The public, non-abstract subclasses of Layer in dev.nabla.nn, from the class files next to Layer's. */
    static List<Class<?>> layerClasses() {
        String pkg = Layer.class.getPackageName();
        List<Class<?>> out = new ArrayList<>();
        for (String simpleName : classNamesNextTo(Layer.class)) {
            Class<?> c;
            try {
                c = Class.forName(pkg + "." + simpleName, false, Layer.class.getClassLoader());
            } catch (ClassNotFoundException e) {
                throw new AssertionError(e);
            }
            if (Layer.class.isAssignableFrom(c) && Modifier.isPublic(c.getModifiers())
                    && !Modifier.isAbstract(c.getModifiers())) {
                out.add(c);
            }
        }
        out.sort((a, b) -> a.getName().compareTo(b.getName()));
        return out;
    }

    /** Top-level class names in the package of {@code anchor}, from its directory or jar. */
    private static List<String> classNamesNextTo(Class<?> anchor) {
        String dir = anchor.getPackageName().replace('.', '/');
        URL url = anchor.getResource(anchor.getSimpleName() + ".class");
        if (url == null) {
            throw new AssertionError("cannot locate " + anchor);
        }
        try {
            Stream<String> names;
            if (url.getProtocol().equals("jar")) {
                JarURLConnection jar = (JarURLConnection) url.openConnection();
                jar.setUseCaches(false);
                try (var file = jar.getJarFile()) {
                    names = Collections.list(file.entries()).stream().map(JarEntry::getName)
                            .filter(n -> n.startsWith(dir + "/") && n.indexOf('/', dir.length() + 1) < 0)
                            .map(n -> n.substring(dir.length() + 1)).toList().stream();
                }
            } else {
                try (Stream<Path> files = Files.list(Path.of(url.toURI()).getParent())) {
                    names = files.map(p -> p.getFileName().toString()).toList().stream();
                }
            }
            return names.filter(n -> n.endsWith(".class") && !n.contains("$"))
                    .map(n -> n.substring(0, n.length() - ".class".length())).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (URISyntaxException e) {
            throw new AssertionError(e);
        }
    }
}
