package dev.nabla.conformance.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.nabla.DType;
import dev.nabla.Device;
import dev.nabla.Shape;
import dev.nabla.Tensor;
import dev.nabla.conformance.OnEachDevice;
import dev.nabla.io.Checkpoint;
import dev.nabla.io.CheckpointFormatException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/** safetensors files: round trips, the byte layout of the spec, atomic saves, and every kind of corruption. */
class CheckpointTest {
    private static Map<String, Tensor> sample(Device d) {
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put("w", Tensor.of(d, new float[] {1.5f, -2, 3, 4, 5, 6}, 2, 3));
        m.put("b", Tensor.of(d, new double[] {0.25, -1e300}));
        m.put("step", Tensor.scalar(d, 7));
        m.put("mask", Tensor.of(d, new boolean[] {true, false, true}));
        m.put("empty", Tensor.zeros(d, 0, 4));
        return m;
    }

    @OnEachDevice
    void everyDtypeRoundTrips(Device d, @org.junit.jupiter.api.io.TempDir Path dir) throws IOException {
        Path f = dir.resolve("m.safetensors");
        Map<String, Tensor> saved = sample(d);
        Checkpoint.save(f, saved, Map.of("format", "pt"));
        Map<String, Tensor> loaded = Checkpoint.load(f, d);
        assertEquals(List.copyOf(saved.keySet()), List.copyOf(loaded.keySet()), "file order is map order");
        for (String k : saved.keySet()) {
            Tensor a = saved.get(k);
            Tensor b = loaded.get(k);
            assertEquals(a.shape(), b.shape(), k);
            assertEquals(a.dtype(), b.dtype(), k);
            assertEquals(d, b.device());
            assertArrayEquals(a.toDoubleArray(), b.toDoubleArray(), 0, k);
        }
        assertEquals(Map.of("format", "pt"), Checkpoint.metadata(f));
    }

    @OnEachDevice
    void theFileFollowsTheSpecByteForByte(Device d, @org.junit.jupiter.api.io.TempDir Path dir) throws IOException {
        Path f = dir.resolve("m.safetensors");
        Checkpoint.save(f, Map.of("x", Tensor.of(d, new float[] {1, 2})));
        byte[] bytes = Files.readAllBytes(f);
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        long n = b.getLong();
        JsonObject header = JsonParser.parseString(new String(bytes, 8, (int) n, StandardCharsets.UTF_8).trim())
                .getAsJsonObject();
        JsonObject x = header.getAsJsonObject("x");
        assertEquals("F32", x.get("dtype").getAsString());
        assertEquals(2, x.getAsJsonArray("shape").get(0).getAsInt());
        assertEquals(0, x.getAsJsonArray("data_offsets").get(0).getAsInt());
        assertEquals(8, x.getAsJsonArray("data_offsets").get(1).getAsInt());
        assertEquals(8 + n + 8, bytes.length);
        assertEquals(1f, b.getFloat((int) (8 + n)));   // little-endian float32 data right after the header
        assertEquals(2f, b.getFloat((int) (8 + n + 4)));
    }

    /** A file written by hand from the spec: what another tool would produce. */
    private static byte[] handMade(String header, byte[] data) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h).put(data);
        return b.array();
    }

    private static byte[] littleEndianInts(int... v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (int x : v) {
            b.putInt(x);
        }
        return b.array();
    }

    @OnEachDevice
    void readsAFileBuiltFromTheSpec(Device d, @org.junit.jupiter.api.io.TempDir Path dir) throws IOException {
        Path f = dir.resolve("other.safetensors");
        byte[] data = new byte[12 + 8];
        System.arraycopy(littleEndianInts(3, -4, 5), 0, data, 0, 12);
        ByteBuffer.wrap(data, 12, 8).order(ByteOrder.LITTLE_ENDIAN).putDouble(2.5);
        Files.write(f, handMade("{\"__metadata__\":{\"k\":\"v\"},\"b\":{\"dtype\":\"F64\",\"shape\":[],"
                + "\"data_offsets\":[12,20]},\"a\":{\"dtype\":\"I32\",\"shape\":[3],\"data_offsets\":[0,12]}}  ", data));
        Map<String, Tensor> t = Checkpoint.load(f, d);
        assertArrayEquals(new int[] {3, -4, 5}, t.get("a").toIntArray());
        assertEquals(Shape.scalar(), t.get("b").shape());
        assertEquals(2.5, t.get("b").doubleItem());
        assertEquals(DType.FLOAT64, t.get("b").dtype());
        assertEquals(Map.of("k", "v"), Checkpoint.metadata(f));
    }

    @OnEachDevice
    void aFailedSaveLeavesTheOldFileIntact(Device d, @org.junit.jupiter.api.io.TempDir Path dir) throws IOException {
        Path f = dir.resolve("m.safetensors");
        Checkpoint.save(f, Map.of("x", Tensor.of(d, new float[] {1, 2})));
        byte[] before = Files.readAllBytes(f);
        Tensor closed = Tensor.of(d, new float[] {3});
        closed.close();
        Map<String, Tensor> bad = new LinkedHashMap<>();
        bad.put("ok", Tensor.of(d, new float[] {9, 9, 9}));
        bad.put("closed", closed);
        assertThrows(IllegalStateException.class, () -> Checkpoint.save(f, bad));
        assertArrayEquals(before, Files.readAllBytes(f));
        try (var files = Files.list(dir)) {
            assertEquals(1, files.count(), "no temporary file is left behind");
        }
    }

    @OnEachDevice
    void everyCorruptionIsANamedError(Device d, @org.junit.jupiter.api.io.TempDir Path dir) throws IOException {
        Path good = dir.resolve("good.safetensors");
        Checkpoint.save(good, sample(d));
        byte[] valid = Files.readAllBytes(good);
        long headerLength = ByteBuffer.wrap(valid).order(ByteOrder.LITTLE_ENDIAN).getLong();
        String header = new String(valid, 8, (int) headerLength, StandardCharsets.UTF_8);
        byte[] data = Arrays.copyOfRange(valid, (int) (8 + headerLength), valid.length);
        Map<String, UnaryOperator<byte[]>> corruptions = new LinkedHashMap<>();
        corruptions.put("truncated data", v -> Arrays.copyOf(v, v.length - 3));
        corruptions.put("truncated header", v -> Arrays.copyOf(v, 20));
        corruptions.put("shorter than 8 bytes", v -> Arrays.copyOf(v, 5));
        corruptions.put("header length too big", v -> {
            byte[] c = v.clone();
            ByteBuffer.wrap(c).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 1L << 40);
            return c;
        });
        corruptions.put("bad JSON", v -> handMade(header.replaceFirst("\\{", "["), data));
        corruptions.put("unknown dtype", v -> handMade(header.replace("\"F32\"", "\"F8_E4M3\""), data));
        corruptions.put("shape and offsets disagree", v -> handMade(header.replace("[2,3]", "[3,3]"), data));
        corruptions.put("trailing bytes", v -> {
            byte[] c = Arrays.copyOf(v, v.length + 4);
            return c;
        });
        corruptions.put("overlapping offsets", v -> handMade(header.replace("\"data_offsets\":[24,40]",
                "\"data_offsets\":[16,32]"), data));
        assertTrue(header.contains("\"data_offsets\":[24,40]"), header);
        for (Map.Entry<String, UnaryOperator<byte[]>> c : corruptions.entrySet()) {
            Path f = dir.resolve("bad.safetensors");
            Files.write(f, c.getValue().apply(valid));
            CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> Checkpoint.load(f, d),
                    c.getKey());
            assertTrue(e.getMessage().contains("bad.safetensors"), c.getKey() + ": " + e.getMessage());
        }
    }
}
