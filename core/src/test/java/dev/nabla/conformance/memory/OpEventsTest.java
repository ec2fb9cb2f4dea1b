package dev.nabla.conformance.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nabla.Device;
import dev.nabla.Nabla;
import dev.nabla.Tensor;
import dev.nabla.conformance.OnEachDevice;
import dev.nabla.graph.TracedFunction;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.io.TempDir;

/**
 * The per-op JFR event: a recording that enables {@code dev.nabla.Op} sees each primitive an eager expression runs,
 * with its name, attributes, output shape, dtype and device, and the fused step of a replayed plan; a recording that
 * does not name it sees none.
 */
class OpEventsTest {
    @OnEachDevice
    void aRecordingSeesEachOpWithItsShapeAndDevice(Device d, @TempDir Path dir) throws IOException {
        Tensor a = Tensor.of(d, new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
        TracedFunction f = Nabla.function((Tensor x) -> x.mul(x).add(1));
        f.call(a).close();                                   // traced here, so the recording sees a replay
        Path file = dir.resolve("ops.jfr");
        try (Recording r = new Recording()) {
            r.enable("dev.nabla.Op");
            r.start();
            a.sum(1).close();
            f.call(a).close();
            r.stop();
            r.dump(file);
        }
        long me = Thread.currentThread().threadId();
        List<RecordedEvent> mine = RecordingFile.readAllEvents(file).stream()
                .filter(e -> e.getEventType().getName().equals("dev.nabla.Op"))
                .filter(e -> e.getThread() != null && e.getThread().getJavaThreadId() == me)
                .toList();
        List<String> ops = mine.stream().map(e -> e.getString("op")).toList();
        // the replay: the fused chain last (a plan may materialize its constant first)
        assertEquals("sum", ops.get(0), ops.toString());
        assertEquals("fused", ops.get(ops.size() - 1), ops.toString());
        RecordedEvent sum = mine.get(0);
        assertEquals("(2,)", sum.getString("shape"));
        assertEquals("FLOAT32", sum.getString("dtype"));
        assertEquals(d.toString(), sum.getString("device"));
        assertTrue(sum.getString("attributes").contains("1"), sum.toString());
        assertEquals("(2, 3)", mine.get(mine.size() - 1).getString("shape"));
        assertTrue(!sum.getDuration().isNegative(), sum.toString());

        Path quiet = dir.resolve("quiet.jfr");
        try (Recording r = new Recording()) {
            r.start();
            a.sum(1).close();
            r.stop();
            r.dump(quiet);
        }
        assertTrue(RecordingFile.readAllEvents(quiet).stream()
                .noneMatch(e -> e.getEventType().getName().equals("dev.nabla.Op")), "off unless enabled");
    }
}
