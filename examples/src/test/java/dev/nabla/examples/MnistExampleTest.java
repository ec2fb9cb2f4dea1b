package dev.nabla.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nabla.Device;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MnistExampleTest {
    @Test
    void oneEpochLearnsTheDigitsAndRepeatsBitForBit(@TempDir Path dir) throws Exception {
        ByteArrayOutputStream text = new ByteArrayOutputStream();
        MnistExample.Result r = MnistExample.train(1, Device.cpu(), new PrintStream(text, true, StandardCharsets.UTF_8),
                false);
        assertTrue(r.testAccuracy() > 0.9, "one epoch reaches over 90%, got " + r.testAccuracy());
        int total = 0;
        int diagonal = 0;
        for (int t = 0; t < 10; t++) {
            for (int p = 0; p < 10; p++) {
                total += r.confusion()[t][p];
                diagonal += t == p ? r.confusion()[t][p] : 0;
            }
        }
        assertEquals(2000, total);
        assertEquals(r.testAccuracy(), diagonal / 2000.0, 1e-12);
        assertTrue(text.toString(StandardCharsets.UTF_8).contains("confusion matrix"));
        // the same seed in the same JVM (now warmed up, so other JIT tiers run) repeats every loss bit for bit
        MnistExample.Result again = MnistExample.train(1, Device.cpu(),
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8), false);
        assertEquals(r.losses(), again.losses(), "per-step losses of two identical runs");
        assertEquals(r.testAccuracy(), again.testAccuracy());
        Path png = dir.resolve("chart.png");
        TrainingChart.write(r.losses(), r.accuracies(), png);
        byte[] head = java.util.Arrays.copyOf(Files.readAllBytes(png), 8);
        assertEquals(0x89, head[0] & 0xFF);
        assertEquals('P', head[1]);   // the PNG signature
    }

    @Test
    void aSavedRunResumesWithTheSameWeightsAndEpochCount(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("model.safetensors");
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
        MnistExample.Result first;
        try (dev.nabla.summary.SummaryWriter log = dev.nabla.summary.SummaryWriter.create(dir.resolve("logs"))) {
            first = MnistExample.train(1, Device.cpu(), quiet, false, null, file, log, MnistExample.Stepping.DEFAULT);
        }
        try (var files = Files.list(dir.resolve("logs"))) {
            Path events = files.findFirst().orElseThrow();
            assertTrue(events.getFileName().toString().startsWith("events.out.tfevents."));
            assertTrue(Files.size(events) > 125 * 20, "one event per step and more per epoch");
        }
        ByteArrayOutputStream text = new ByteArrayOutputStream();
        // zero more epochs: only the restored model is evaluated, so it must score exactly as the saved one did
        MnistExample.Result resumed = MnistExample.train(0, Device.cpu(),
                new PrintStream(text, true, StandardCharsets.UTF_8), false, file, null, null,
                MnistExample.Stepping.DEFAULT);
        assertEquals(first.testAccuracy(), resumed.testAccuracy());
        assertTrue(text.toString(StandardCharsets.UTF_8).contains("after 1 epochs"), text.toString());
        assertEquals("1", dev.nabla.io.Checkpoint.metadata(file).get("epochs"));
    }

    @Test
    void theTracedStepGivesTheEagerLossesBitForBitAndLogsItsGraph(@TempDir Path dir) throws Exception {
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
        int steps = 4;    // the first traces, the others replay the plan
        MnistExample.Result traced;
        try (dev.nabla.summary.SummaryWriter log = dev.nabla.summary.SummaryWriter.create(dir)) {
            traced = MnistExample.train(1, Device.cpu(), quiet, false, null, null, log,
                    new MnistExample.Stepping(true, steps));
        }
        MnistExample.Result eager = MnistExample.train(1, Device.cpu(), quiet, false, null, null, null,
                new MnistExample.Stepping(false, steps));
        assertEquals(steps, traced.losses().size());
        // Double.equals compares the bits
        assertEquals(eager.losses(), traced.losses(), "per-step losses, eager then traced");
        assertEquals(eager.testAccuracy(), traced.testAccuracy());
        try (var files = Files.list(dir)) {
            byte[] events = Files.readAllBytes(files.findFirst().orElseThrow());
            // the GraphDef's nodes are named under the step's name
            assertTrue(new String(events, StandardCharsets.ISO_8859_1).contains("train_step/"),
                    "the step's graph is in the log");
        }
    }
}
