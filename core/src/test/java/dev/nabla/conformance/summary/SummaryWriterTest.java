package dev.nabla.conformance.summary;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nabla.Device;
import dev.nabla.Tensor;
import dev.nabla.conformance.OnEachDevice;
import dev.nabla.summary.SummaryWriter;
import dev.nabla.summary.proto.Event;
import dev.nabla.summary.proto.HistogramProto;
import dev.nabla.summary.proto.Summary;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.io.TempDir;

/** Event files read back by a reader written here: TFRecord framing, both CRCs, then the Event protos. */
class SummaryWriterTest {
    /** TFRecord's masked CRC32C, written out again from TensorFlow's definition. */
    private static int mask(byte[] b, int off, int len) {
        CRC32C c = new CRC32C();
        c.update(b, off, len);
        long crc = c.getValue();
        long rotated = ((crc >>> 15) | (crc << 17)) & 0xFFFFFFFFL;
        return (int) ((rotated + 0xa282ead8L) & 0xFFFFFFFFL);
    }

    private static List<Event> read(Path file) throws IOException {
        byte[] all = Files.readAllBytes(file);
        ByteBuffer b = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
        List<Event> events = new ArrayList<>();
        while (b.hasRemaining()) {
            int start = b.position();
            long length = b.getLong();
            if (b.getInt() != mask(all, start, 8)) {
                throw new IOException("bad length CRC at byte " + start);
            }
            byte[] payload = new byte[(int) length];
            b.get(payload);
            if (b.getInt() != mask(payload, 0, payload.length)) {
                throw new IOException("bad payload CRC at byte " + start);
            }
            events.add(Event.parseFrom(payload));
        }
        return events;
    }

    private static Path only(Path dir) throws IOException {
        try (var files = Files.list(dir)) {
            List<Path> l = files.toList();
            assertEquals(1, l.size());
            return l.get(0);
        }
    }

    @OnEachDevice
    void scalarsHistogramsAndTextReadBack(Device d, @TempDir Path dir) throws IOException {
        float[] w = {0.5f, -2f, 3f, 3f, 0f, 1e-15f};
        try (SummaryWriter writer = SummaryWriter.create(dir.resolve("run"))) {
            writer.scalar("loss", 0.25, 3);
            writer.histogram("weights", Tensor.of(d, w), 4);
            writer.text("note", "héllo *world*", 5);
        }
        Path file = only(dir.resolve("run"));
        assertTrue(file.getFileName().toString().matches("events\\.out\\.tfevents\\.\\d+\\..+"), file.toString());
        List<Event> events = read(file);
        assertEquals(4, events.size());
        assertEquals("brain.Event:2", events.get(0).getFileVersion());

        Summary.Value scalar = events.get(1).getSummary().getValue(0);
        assertEquals(3, events.get(1).getStep());
        assertEquals("loss", scalar.getTag());
        assertEquals(0.25f, scalar.getSimpleValue());

        HistogramProto h = events.get(2).getSummary().getValue(0).getHisto();
        assertEquals(4, events.get(2).getStep());
        assertEquals(-2, h.getMin());
        assertEquals(3, h.getMax());
        assertEquals(6, h.getNum());
        double sum = 0;
        double squares = 0;
        for (float v : w) {
            sum += v;
            squares += (double) v * v;
        }
        assertEquals(sum, h.getSum(), 1e-12);
        assertEquals(squares, h.getSumSquares(), 1e-12);
        double counted = 0;
        for (int i = 0; i < h.getBucketCount(); i++) {
            counted += h.getBucket(i);
            if (i > 0) {
                assertTrue(h.getBucketLimit(i) > h.getBucketLimit(i - 1), "limits increase");
            }
        }
        assertEquals(6, counted, "the buckets hold every value");
        // 3 and 3 land in one bucket whose limit is the first edge above 3 (1e-12 · 1.1^k)
        int threes = -1;
        for (int i = 0; i < h.getBucketCount(); i++) {
            if (h.getBucket(i) == 2) {
                threes = i;
            }
        }
        assertTrue(threes >= 0 && h.getBucketLimit(threes) > 3 && h.getBucketLimit(threes) < 3.3,
                "bucket of the two 3s ends at " + (threes >= 0 ? h.getBucketLimit(threes) : Double.NaN));

        Summary.Value text = events.get(3).getSummary().getValue(0);
        assertEquals("text", text.getMetadata().getPluginData().getPluginName());
        assertEquals("héllo *world*", text.getTensor().getStringVal(0).toString(StandardCharsets.UTF_8));
        assertEquals(0, text.getTensor().getTensorShape().getDimCount(), "a scalar string tensor");
    }

    @OnEachDevice
    void aWriterStartedInTheSameSecondKeepsTheOtherFile(Device d, @TempDir Path dir) throws IOException {
        String host;
        try (SummaryWriter first = SummaryWriter.create(dir)) {
            String name = first.file().getFileName().toString();
            host = name.substring(name.indexOf('.', "events.out.tfevents.".length()) + 1);
        }
        Files.delete(only(dir));
        // occupy the names of this second and the next two, so the writer below meets a taken name for certain
        long now = System.currentTimeMillis() / 1000;
        byte[] other = "another writer's events".getBytes(StandardCharsets.UTF_8);
        for (long s = now; s <= now + 2; s++) {
            Files.write(dir.resolve("events.out.tfevents." + s + "." + host), other);
        }
        Path file;
        try (SummaryWriter writer = SummaryWriter.create(dir)) {
            writer.scalar("x", 1, 1);
            file = writer.file();
        }
        for (long s = now; s <= now + 2; s++) {
            assertArrayEquals(other, Files.readAllBytes(dir.resolve("events.out.tfevents." + s + "." + host)));
        }
        assertTrue(file.getFileName().toString().matches("events\\.out\\.tfevents\\.\\d+\\..+\\.\\d+"),
                file.toString());
        assertEquals(2, read(file).size());
    }

    @OnEachDevice
    void aCorruptedByteFailsTheCrc(Device d, @TempDir Path dir) throws IOException {
        try (SummaryWriter writer = SummaryWriter.create(dir)) {
            writer.scalar("x", 1, 1);
        }
        Path file = only(dir);
        byte[] bytes = Files.readAllBytes(file);
        bytes[bytes.length - 6] ^= 0x40;  // inside the last payload
        Files.write(file, bytes);
        IOException e = assertThrows(IOException.class, () -> read(file));
        assertTrue(e.getMessage().contains("CRC"), e.getMessage());
    }

    @OnEachDevice
    void flushWritesThroughAndCloseIsFinal(Device d, @TempDir Path dir) throws IOException {
        SummaryWriter writer = SummaryWriter.create(dir);
        writer.scalar("a", 1, 0);
        writer.flush();
        assertEquals(2, read(writer.file()).size(), "file version and the scalar are on disk after flush");
        writer.close();
        writer.close();
        assertThrows(IllegalStateException.class, () -> writer.scalar("a", 2, 1));
    }
}
