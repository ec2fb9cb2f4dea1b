package dev.nabla.conformance.summary;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nabla.Device;
import dev.nabla.Nabla;
import dev.nabla.Variable;
import dev.nabla.graph.TracedFunction;
import dev.nabla.Tensor;
import dev.nabla.conformance.OnEachDevice;
import dev.nabla.summary.SummaryWriter;
import dev.nabla.summary.proto.DataType;
import dev.nabla.summary.proto.Event;
import dev.nabla.summary.proto.GraphDef;
import dev.nabla.summary.proto.NodeDef;
import dev.nabla.summary.proto.TensorShapeProto;
import dev.nabla.summary.proto.HistogramProto;
import dev.nabla.summary.proto.Summary;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
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
        float[] w = {0.5f, -2f, 3f, 3f, 0f, -0f, 1e-15f, 7e5f, -1e-13f};
        long before = System.currentTimeMillis() / 1000;
        try (SummaryWriter writer = SummaryWriter.create(dir.resolve("run"))) {
            writer.scalar("loss", 0.25, 3);
            writer.histogram("weights", Tensor.of(d, w), 4);
            writer.text("note", "héllo *world*", 5);
        }
        Path file = only(dir.resolve("run"));
        long after = System.currentTimeMillis() / 1000;
        Matcher name = Pattern.compile("events\\.out\\.tfevents\\.(\\d+)\\.(.+)")
                .matcher(file.getFileName().toString());
        assertTrue(name.matches(), file.toString());
        long seconds = Long.parseLong(name.group(1));
        assertTrue(seconds >= before && seconds <= after, "seconds of the creation time: " + seconds);
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
        assertEquals(7e5, h.getMax());
        assertEquals(w.length, h.getNum());
        double sum = 0;
        double squares = 0;
        for (float v : w) {
            sum += v;
            squares += (double) v * v;
        }
        assertEquals(sum, h.getSum(), 1e-12 * Math.abs(sum));
        assertEquals(squares, h.getSumSquares(), 1e-12 * squares);
        assertBucketsHold(h, w);

        Summary.Value text = events.get(3).getSummary().getValue(0);
        assertEquals("text", text.getMetadata().getPluginData().getPluginName());
        assertEquals("héllo *world*", text.getTensor().getStringVal(0).toString(StandardCharsets.UTF_8));
        assertEquals(0, text.getTensor().getTensorShape().getDimCount(), "a scalar string tensor");
    }

    /**
     * TF's default bucket edges, built here again from their definition: ±1e-12·1.1^k below 1e20, ±DBL_MAX, and 0.
     */
    private static TreeSet<Double> defaultEdges() {
        TreeSet<Double> edges = new TreeSet<>(List.of(0.0, Double.MAX_VALUE, -Double.MAX_VALUE));
        for (double v = 1e-12; v < 1e20; v *= 1.1) {
            edges.add(v);
            edges.add(-v);
        }
        return edges;
    }

    /**
     * Bucket i holds the values in [limit(i-1), limit(i)) (TF counts a value in the first bucket whose limit exceeds
     * it), the first one those below limit(0); the limits are default edges; the buckets at both ends are not empty.
     */
    private static void assertBucketsHold(HistogramProto h, float[] values) {
        TreeSet<Double> edges = defaultEdges();
        double counted = 0;
        for (int i = 0; i < h.getBucketCount(); i++) {
            double lo = i == 0 ? Double.NEGATIVE_INFINITY : h.getBucketLimit(i - 1);
            double hi = h.getBucketLimit(i);
            assertTrue(edges.contains(hi), "limit " + hi + " is a default edge");
            assertTrue(hi > lo, "limits increase at bucket " + i);
            long inside = 0;
            for (float v : values) {
                // (double) -0f == 0.0, as TF's comparisons see it
                if (v >= lo && v < hi) {
                    inside++;
                }
            }
            assertEquals(inside, h.getBucket(i), "count of bucket [" + lo + ", " + hi + ")");
            counted += h.getBucket(i);
        }
        assertEquals(values.length, counted, "the buckets hold every value");
        if (values.length > 0) {
            assertTrue(h.getBucket(0) > 0 && h.getBucket(h.getBucketCount() - 1) > 0,
                    "no empty bucket at either end: " + h.getBucketList());
            // the last bucket ends at the first default edge above max (TensorBoard draws it from there to max)
            assertEquals(edges.higher(h.getMax()), h.getBucketLimit(h.getBucketCount() - 1));
        }
    }

    @OnEachDevice
    void twoThreesShareTheBucketOfTheFirstEdgeAboveThree(Device d, @TempDir Path dir) throws IOException {
        float[] w = {3f, 3f};
        try (SummaryWriter writer = SummaryWriter.create(dir)) {
            writer.histogram("threes", Tensor.of(d, w), 0);
        }
        HistogramProto h = read(only(dir)).get(1).getSummary().getValue(0).getHisto();
        assertEquals(List.of(2.0), h.getBucketList());
        double edge = defaultEdges().higher(3.0);
        assertTrue(edge > 3 && edge < 3.3, "edges grow by 10%: " + edge);
        assertEquals(List.of(edge), h.getBucketLimitList());
    }

    @OnEachDevice
    void histogramBucketsOfSpreadValues(Device d, @TempDir Path dir) throws IOException {
        // normal-ish values from a fixed java.util.Random, widely spread so inner empty runs occur
        java.util.Random rng = new java.util.Random(42);
        float[] w = new float[500];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (rng.nextGaussian() * Math.pow(10, rng.nextInt(7) - 3));
        }
        try (SummaryWriter writer = SummaryWriter.create(dir)) {
            writer.histogram("spread", Tensor.of(d, w, 20, 25), 0);
        }
        HistogramProto h = read(only(dir)).get(1).getSummary().getValue(0).getHisto();
        assertBucketsHold(h, w);
        assertTrue(h.getBucketList().contains(0.0), "an inner run of empty buckets is kept, collapsed");
    }

    @OnEachDevice
    void emptyAndNonFiniteHistograms(Device d, @TempDir Path dir) throws IOException {
        try (SummaryWriter writer = SummaryWriter.create(dir)) {
            writer.histogram("empty", Tensor.of(d, new float[0], 0), 0);
            for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> writer.histogram("w/bad", Tensor.of(d, new float[] {1, bad}), 1));
                assertTrue(e.getMessage().contains("w/bad") && e.getMessage().contains(String.valueOf(bad)),
                        e.getMessage());
            }
        }
        List<Event> events = read(only(dir));
        assertEquals(2, events.size(), "the refused histograms wrote nothing");
        HistogramProto h = events.get(1).getSummary().getValue(0).getHisto();
        assertEquals(0, h.getNum());
        assertEquals(0, h.getBucketCount());
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
    void concurrentWritersInterleaveWholeRecords(Device d, @TempDir Path dir) throws Exception {
        int threads = 4;
        int each = 300;
        try (SummaryWriter writer = SummaryWriter.create(dir);
                ExecutorService pool = Executors.newFixedThreadPool(threads)) {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                String tag = "thread" + t;
                done.add(pool.submit(() -> {
                    for (int i = 0; i < each; i++) {
                        writer.scalar(tag, i, i);
                    }
                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
        }
        List<Event> events = read(only(dir));
        assertEquals(1 + threads * each, events.size());
        Set<String> seen = new HashSet<>();
        for (Event e : events.subList(1, events.size())) {
            Summary.Value v = e.getSummary().getValue(0);
            assertEquals(e.getStep(), (long) v.getSimpleValue());
            assertTrue(seen.add(v.getTag() + "@" + e.getStep()), "once each");
        }
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
        assertThrows(IllegalStateException.class, () -> writer.histogram("h", Tensor.of(d, new float[] {1}), 1));
        assertThrows(IllegalStateException.class, () -> writer.text("t", "x", 1));
        assertThrows(IllegalStateException.class, writer::flush);
        assertEquals(2, read(writer.file()).size(), "nothing written after close");
    }

    @OnEachDevice
    void graphOfATracedFunctionIsAGraphDefWithShapesAndDtypes(Device d, @TempDir Path dir) throws IOException {
        Variable w = new Variable(Tensor.of(d, new float[] {1, 2, 3}), "w", true);
        TracedFunction f = Nabla.function((Tensor x) -> {
            Tensor y = x.mul(w).relu().sum();
            w.assignSub(x.mul(0.5));
            return y;
        });
        try (SummaryWriter writer = SummaryWriter.create(dir)) {
            assertThrows(IllegalStateException.class, () -> writer.graph("f_x", f));
            f.call(Tensor.of(d, new float[] {1, 1, 1}));
            writer.graph("f_x", f);
        }
        List<Event> events = read(only(dir));
        assertEquals(2, events.size());
        GraphDef g = GraphDef.parseFrom(events.get(1).getGraphDef());
        Map<String, NodeDef> byName = new HashMap<>();
        for (NodeDef n : g.getNodeList()) {
            assertTrue(n.getName().startsWith("f_x/"), n.getName());
            for (String input : n.getInputList()) {
                assertTrue(byName.containsKey(input), n.getName() + " reads " + input + " before it is defined");
            }
            byName.put(n.getName(), n);
        }
        NodeDef input = byName.get("f_x/input_0");
        assertEquals("Input", input.getOp());
        NodeDef mul = g.getNodeList().stream().filter(n -> n.getOp().equals("mul")).findFirst().orElseThrow();
        assertEquals(List.of("f_x/input_0", "f_x/w_1"), mul.getInputList());
        assertEquals("Variable", byName.get("f_x/w_1").getOp());
        assertEquals(DataType.DT_FLOAT, mul.getAttrOrThrow("dtype").getType());
        TensorShapeProto shape = mul.getAttrOrThrow("_output_shapes").getList().getShape(0);
        assertEquals(List.of(3L), shape.getDimList().stream().map(TensorShapeProto.Dim::getSize).toList());
        NodeDef sum = g.getNodeList().stream().filter(n -> n.getOp().equals("sum")).findFirst().orElseThrow();
        assertEquals(0, sum.getAttrOrThrow("_output_shapes").getList().getShape(0).getDimCount());
        assertTrue(g.getNodeList().stream().anyMatch(n -> n.getOp().equals("assign 'w'")), g.toString());
    }
}
