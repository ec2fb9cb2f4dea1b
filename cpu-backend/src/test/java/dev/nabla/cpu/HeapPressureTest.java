package dev.nabla.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nabla.DType;
import dev.nabla.Device;
import dev.nabla.GradientTape;
import dev.nabla.OutOfDeviceMemoryException;
import dev.nabla.Tensor;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Code that closes nothing and opens no scope, in a heap a few steps of its tensors fill: the pool gets the dead
 * tensors' arrays back (a collection, then their Cleaners) instead of running out, and a request the heap cannot
 * hold at all is {@link OutOfDeviceMemoryException}, as on a GPU. Each case runs in a child JVM of 256 MiB.
 */
@Tag("execution-independent")
class HeapPressureTest {
    private static final String HEAP = "-Xmx256m";

    /** {@code steps}: 40 steps of W6 as written over 2048 × 2048 (16 MiB a tensor); {@code huge}: one 400 MB tensor. */
    public static void main(String[] args) {
        Device cpu = Device.cpu();
        if (args[0].equals("huge")) {
            try {
                Tensor.zeros(cpu, 100_000_000);
                System.out.println("allocated");
            } catch (OutOfDeviceMemoryException e) {
                System.out.println("named: " + e.getMessage() + " / cause " + e.getCause());
            }
            return;
        }
        int side = 2048;
        Tensor a = Tensor.full(cpu, 0.5, DType.FLOAT32, side, side);
        Tensor b = Tensor.full(cpu, 0.25, DType.FLOAT32, side);
        Tensor loss = null;
        List<Tensor> g = null;
        for (int step = 0; step < 40; step++) {
            GradientTape tape = new GradientTape();
            try (tape) {
                tape.watch(a, b);
                loss = a.add(b).square().sum();
            }
            g = tape.gradient(loss, List.of(a, b));
        }
        // read only at the end: a copy out each step would be garbage of its own, whose collections find the rest
        System.out.println("steps done: " + (loss.item() + g.get(0).toFloatArray()[0]));
    }

    private static String run(String mode) throws Exception {
        List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), HEAP,
                "--add-modules", "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"),
                HeapPressureTest.class.getName(), mode);
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the child JVM finished");
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), out);
        return out;
    }

    @Test
    void stepsThatCloseNothingRunInAHeapTheirGarbageWouldFill() throws Exception {
        String out = run("steps");
        // sum((0.5 + 0.25)^2) over 2048^2 elements, plus dA[0] = 2 (0.5 + 0.25)
        assertTrue(out.contains("steps done: " + (0.5625 * 2048 * 2048 + 1.5)), out);
    }

    @Test
    void aTensorLargerThanTheHeapIsOutOfDeviceMemory() throws Exception {
        String out = run("huge");
        assertTrue(out.contains("named: out of memory on cpu: requested 400000000 bytes"), out);
        assertTrue(out.contains("cause java.lang.OutOfMemoryError"), out);
    }
}
