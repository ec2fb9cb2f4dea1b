package dev.nabla.conformance.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nabla.Device;
import dev.nabla.Tensor;
import dev.nabla.conformance.OnEachDevice;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.io.TempDir;

/**
 * The allocators' JFR events: a recording that enables {@code dev.nabla.Allocation} and {@code dev.nabla.Free} sees
 * a tensor's buffer come and go, with its size, dtype, device and the live totals, and the allocation's stack names
 * the code that made the tensor.
 */
class MemoryEventsTest {
    private static final long BYTES = 4 << 16; // 256 KiB of float32: counted on the CPU, one CUDA size class

    @OnEachDevice
    void aRecordingSeesEachBufferComeAndGo(Device d, @TempDir Path dir) throws IOException {
        Path file = dir.resolve("memory.jfr");
        try (Recording r = new Recording()) {
            r.enable("dev.nabla.Allocation");
            r.enable("dev.nabla.Free");
            r.enable("dev.nabla.MemoryPeak");
            r.start();
            Tensor t = Tensor.zeros(d, 1 << 16);
            t.close();
            r.stop();
            r.dump(file);
        }
        long me = Thread.currentThread().threadId();
        List<RecordedEvent> mine = RecordingFile.readAllEvents(file).stream()
                .filter(e -> e.getThread() != null && e.getThread().getJavaThreadId() == me)
                .filter(e -> !e.getEventType().getName().equals("dev.nabla.MemoryPeak"))
                .filter(e -> e.getLong("bytes") == BYTES)
                .toList();
        assertEquals(List.of("dev.nabla.Allocation", "dev.nabla.Free"),
                mine.stream().map(e -> e.getEventType().getName()).toList(), mine.toString());
        RecordedEvent alloc = mine.get(0);
        RecordedEvent free = mine.get(1);
        for (RecordedEvent e : mine) {
            assertEquals(d.toString(), e.getString("device"));
            assertEquals("FLOAT32", e.getString("dtype"));
            assertTrue(e.getLong("buffers") >= 0, e.toString());
        }
        assertTrue(alloc.getLong("allocated") >= BYTES && alloc.getLong("buffers") >= 1, alloc.toString());
        assertTrue(!free.getStartTime().isBefore(alloc.getStartTime()), "in order");
        List<RecordedFrame> stack = alloc.getStackTrace().getFrames();
        assertTrue(stack.stream().anyMatch(f -> f.getMethod().getType().getName().equals(
                MemoryEventsTest.class.getName())), "the allocation's stack reaches this test: " + stack);
    }
}
