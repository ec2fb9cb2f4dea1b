package dev.nabla.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class NotebookExampleTest {
    private static List<String> run() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        NotebookExample.run(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        return bytes.toString(StandardCharsets.UTF_8).lines().toList();
    }

    @Test
    void printsTheNotebooksLines() {
        List<String> lines = run();
        // the seed notebook's own output, as TensorFlow printed it
        List<String> notebook = List.of(
                "Tensor(10.0, shape=(), dtype=float32)",
                "Tensor([[10.      20.      30.46464]], shape=(1, 3), dtype=float32)",
                "Tensor(7.0, shape=(), dtype=float32)",
                "Epoch : 0 [3.0, 11.0]",
                "Epoch : 1 [2.3, 6.59]",
                "Epoch : 2 [1.74, 3.7676]",
                "Epoch : 3 [1.292, 1.9612641]",
                "Epoch : 4 [0.93360007, 0.80520916]");
        assertEquals(notebook, lines.subList(0, notebook.size()));
    }

    @Test
    void runsAllThirtyEpochsAsFloat32GradientDescent() {
        List<String> lines = run();
        // independent float32 replay of x <- x - 0.1 (2x + 1), with the loss x^2 + x - 1 before each update
        float x = 3.0f;
        for (int epoch = 0; epoch < 30; epoch++) {
            float loss = x * x + x - 1f;
            String expected = "Epoch : " + epoch + " [" + x + ", " + loss + "]";
            assertEquals(expected, lines.get(3 + epoch));
            float grad = (x + x) + 1f;
            x = x - grad * 0.1f;
        }
        // the gradient check at the final x: d(x^2 + x - 1)/dx = 2x + 1, and both Jacobians agree with it
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("Gradient check of d\\(x\\*\\*2 \\+ x - 1\\)/dx at "
                + "x = (\\S+): theoretical (\\S+), numerical (\\S+), max abs error (\\S+)").matcher(lines.get(33));
        assertTrue(m.matches(), lines.get(33));
        assertEquals(x, Float.parseFloat(m.group(1)));
        double slope = 2.0 * x + 1;
        // printf follows the default locale, which may write decimal commas
        assertEquals(slope, Double.parseDouble(m.group(2).replace(',', '.')), 1e-9, "theoretical");
        assertEquals(slope, Double.parseDouble(m.group(3).replace(',', '.')), 1e-8, "numerical");
        assertTrue(Double.parseDouble(m.group(4).replace(',', '.')) < 1e-8, "max abs error " + m.group(4));
    }

    @Test
    void theTracedLoopPrintsTheSameLines() {
        List<String> lines = run();
        assertEquals("Traced (Nabla.function):", lines.get(34));
        assertEquals(lines.subList(3, 33), lines.subList(35, 65));
    }
}
