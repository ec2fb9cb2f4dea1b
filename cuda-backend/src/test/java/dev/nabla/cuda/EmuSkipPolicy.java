package dev.nabla.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestExecutionExceptionHandler;
import org.opentest4j.TestAbortedException;

/**
 * The cuda-emu execution's rule (auto-registered there): a test case may be skipped on cuda-emu only for a reason
 * listed in {@code cuda-emu-skips.txt} (lines {@code Class#method: reason fragment}, where the fragment must occur
 * in the skip message), or because no C++ compiler exists here, which skips the whole device with that reason. Any
 * other skip fails the case, so a CUDA case that stops running cannot hide as "skipped".
 */
public final class EmuSkipPolicy implements TestExecutionExceptionHandler {
    private static final List<String[]> ALLOWED = load();

    private static List<String[]> load() {
        List<String[]> rows = new ArrayList<>();
        try (InputStream in = EmuSkipPolicy.class.getResourceAsStream("/cuda-emu-skips.txt")) {
            if (in == null) {
                return rows;
            }
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                String l = line.strip();
                if (l.isEmpty() || l.startsWith("#")) {
                    continue;
                }
                int colon = l.indexOf(": ");
                rows.add(new String[] {l.substring(0, colon).strip(), l.substring(colon + 2).strip()});
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return rows;
    }

    /** Null when the skip is allowed, else why not. */
    static String violation(String testClass, String method, String message) {
        String m = String.valueOf(message);
        if (m.contains("no C++ compiler")) {
            return null;
        }
        String simple = testClass.substring(testClass.lastIndexOf('.') + 1);
        for (String[] row : ALLOWED) {
            if ((row[0].equals(simple + "#" + method) || row[0].equals(testClass + "#" + method))
                    && m.contains(row[1])) {
                return null;
            }
        }
        return simple + "#" + method + " was skipped on cuda-emu (" + m + ") and that reason is not in "
                + "cuda-backend/src/test/resources/cuda-emu-skips.txt";
    }

    @Override
    public void handleTestExecutionException(ExtensionContext context, Throwable throwable) throws Throwable {
        if (throwable instanceof TestAbortedException && context.getTestMethod().isPresent()) {
            String v = violation(context.getRequiredTestClass().getName(), context.getRequiredTestMethod().getName(),
                    throwable.getMessage());
            if (v != null) {
                throw new AssertionError(v, throwable);
            }
        }
        throw throwable;
    }
}
