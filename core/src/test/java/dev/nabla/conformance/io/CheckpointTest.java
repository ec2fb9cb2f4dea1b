package dev.nabla.conformance.io;

import static dev.nabla.conformance.io.SafetensorsBytes.concat;
import static dev.nabla.conformance.io.SafetensorsBytes.intAt;
import static dev.nabla.conformance.io.SafetensorsBytes.ints;
import static dev.nabla.conformance.io.SafetensorsBytes.longAt;
import static dev.nabla.conformance.io.SafetensorsBytes.longs;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.nabla.DType;
import dev.nabla.Device;
import dev.nabla.Shape;
import dev.nabla.Tensor;
import dev.nabla.backend.Backend;
import dev.nabla.backend.Backends;
import dev.nabla.backend.Buffer;
import dev.nabla.backend.Storage;
import dev.nabla.conformance.OnEachDevice;
import dev.nabla.internal.TensorAccess;
import dev.nabla.io.Checkpoint;
import dev.nabla.io.CheckpointFormatException;
import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;

/** Checkpoints in the safetensors format: round trips, the bytes against the specification, atomic saves. */
class CheckpointTest {
    @TempDir
    Path dir;

    private static final float[] FLOATS = {1f, -0f, Float.NaN, Float.POSITIVE_INFINITY, Float.MIN_VALUE, 3.4e38f};
    private static final double[] DOUBLES = {0.1, -0.0, Double.NaN, Double.NEGATIVE_INFINITY, Double.MIN_VALUE, 1e308};
    private static final int[] INTS = {0, -1, Integer.MIN_VALUE, Integer.MAX_VALUE, 7, 42};

    private static Map<String, Tensor> everyDtype(Device d) {
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put("f32", Tensor.of(d, FLOATS, 2, 3));
        m.put("f64", Tensor.of(d, DOUBLES, 3, 1, 2));
        m.put("i32", Tensor.of(d, INTS, 6));
        m.put("bool", Tensor.of(d, new boolean[] {true, false, false, true}, 2, 2));
        m.put("f32.scalar", Tensor.scalar(d, 2.5f));
        m.put("f64.scalar", Tensor.scalar(d, -1.25));
        m.put("i32.scalar", Tensor.scalar(d, -9));
        m.put("bool.scalar", Tensor.scalar(d, 1f).gt(0));
        m.put("f32.empty", Tensor.zeros(d, 0));
        m.put("f64.empty", Tensor.full(d, 0, DType.FLOAT64, 2, 0, 3));
        m.put("i32.empty", Tensor.full(d, 0, DType.INT32, 0, 4));
        m.put("bool.empty", Tensor.full(d, 0, DType.BOOL, 0));
        return m;
    }

    /** Bit-exact equality (NaN payloads and -0.0 included), plus dtype, shape and device. */
    private static void assertSame(Tensor expected, Tensor actual, Device d, String name) {
        assertEquals(expected.dtype(), actual.dtype(), name);
        assertEquals(expected.shape(), actual.shape(), name);
        assertEquals(d, actual.device(), name);
        switch (expected.dtype()) {
            case FLOAT32 -> {
                float[] e = expected.toFloatArray();
                float[] a = actual.toFloatArray();
                assertEquals(e.length, a.length, name);
                for (int i = 0; i < e.length; i++) {
                    assertEquals(Float.floatToRawIntBits(e[i]), Float.floatToRawIntBits(a[i]), name + "[" + i + "]");
                }
            }
            case FLOAT64 -> {
                double[] e = expected.toDoubleArray();
                double[] a = actual.toDoubleArray();
                assertEquals(e.length, a.length, name);
                for (int i = 0; i < e.length; i++) {
                    assertEquals(Double.doubleToRawLongBits(e[i]), Double.doubleToRawLongBits(a[i]), name + "[" + i + "]");
                }
            }
            case INT32, BOOL -> assertArrayEquals(expected.toIntArray(), actual.toIntArray(), name);
        }
    }

    @OnEachDevice
    void roundTripsEveryDtypeScalarsAndEmptyTensorsInOrder(Device d) throws IOException {
        Map<String, Tensor> saved = everyDtype(d);
        Path file = dir.resolve("all.safetensors");
        Checkpoint.save(file, saved);
        Map<String, Tensor> loaded = Checkpoint.load(file, d);
        assertEquals(List.copyOf(saved.keySet()), List.copyOf(loaded.keySet()), "file order is insertion order");
        assertTrue(loaded instanceof LinkedHashMap, loaded.getClass().toString());
        for (String name : saved.keySet()) {
            assertSame(saved.get(name), loaded.get(name), d, name);
        }
        assertEquals(Map.of(), Checkpoint.metadata(file));
    }

    @OnEachDevice
    void loadsOntoTheDefaultDeviceWithoutOne(Device d) throws IOException {
        Path file = dir.resolve("x.safetensors");
        Checkpoint.save(file, Map.of("x", Tensor.of(d, new float[] {1, 2})));
        Tensor x = Checkpoint.load(file).get("x");
        assertEquals(Device.defaultDevice(), x.device());
        assertArrayEquals(new float[] {1, 2}, x.toFloatArray());
    }

    @OnEachDevice
    void metadataRoundTripsWithUnicodeAndJsonSpecialCharacters(Device d) throws IOException {
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "pt");
        meta.put("note", "quotes \" backslash \\ newline \n <tag> & = é 数 😀");
        meta.put("", "empty key");
        Path file = dir.resolve("meta.safetensors");
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        tensors.put("wëight/0", Tensor.of(d, new float[] {3}));
        Checkpoint.save(file, tensors, meta);
        assertEquals(meta, Checkpoint.metadata(file));
        assertEquals(List.copyOf(meta.keySet()), List.copyOf(Checkpoint.metadata(file).keySet()));
        assertArrayEquals(new float[] {3}, Checkpoint.load(file, d).get("wëight/0").toFloatArray());
        // the independent reader sees the same strings
        JsonObject m = SafetensorsBytes.parse(Files.readAllBytes(file)).header().getAsJsonObject("__metadata__");
        assertEquals(meta.get("note"), m.get("note").getAsString());
    }

    /** A file assembled byte by byte from the specification; the header order differs from the data order. */
    @OnEachDevice
    void loadsAFileBuiltFromTheSpecification(Device d) throws IOException {
        String json = "{\"__metadata__\":{\"format\":\"pt\"},"
                + "\"d\":{\"dtype\":\"F64\",\"shape\":[1,1],\"data_offsets\":[15,23]},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"I32\",\"shape\":[],\"data_offsets\":[8,12]},"
                + "\"c\":{\"dtype\":\"BOOL\",\"shape\":[3],\"data_offsets\":[12,15]},"
                + "\"e\":{\"dtype\":\"F32\",\"shape\":[0,5],\"data_offsets\":[23,23]}}";
        byte[] data = concat(
                new byte[] {0x00, 0x00, (byte) 0x80, 0x3F, 0x00, 0x00, 0x20, (byte) 0xC0}, // 1.0f, -2.5f
                new byte[] {(byte) 0xFE, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF},          // -2
                new byte[] {1, 0, 1},                                                     // true, false, true
                new byte[] {0, 0, 0, 0, 0, 0, (byte) 0xE0, 0x3F});                        // 0.5 (0x3FE0...)
        Path file = dir.resolve("spec.safetensors");
        // unpadded but for two spaces: the data section need not be aligned (the spec only allows padding)
        byte[] header = (json + "  ").getBytes(StandardCharsets.UTF_8);
        assertTrue(header.length % 8 != 0);
        Files.write(file, SafetensorsBytes.file(header.length, header, data));

        Map<String, Tensor> t = Checkpoint.load(file, d);
        assertEquals(List.of("d", "a", "b", "c", "e"), List.copyOf(t.keySet()), "header order");
        assertArrayEquals(new float[] {1f, -2.5f}, t.get("a").toFloatArray());
        assertEquals(Shape.scalar(), t.get("b").shape());
        assertEquals(DType.INT32, t.get("b").dtype());
        assertEquals(-2, t.get("b").toIntArray()[0]);
        assertEquals(DType.BOOL, t.get("c").dtype());
        assertArrayEquals(new int[] {1, 0, 1}, t.get("c").toIntArray());
        assertEquals(Shape.of(1, 1), t.get("d").shape());
        assertArrayEquals(new double[] {0.5}, t.get("d").toDoubleArray());
        assertEquals(Shape.of(0, 5), t.get("e").shape());
        assertEquals(Map.of("format", "pt"), Checkpoint.metadata(file));
    }

    @OnEachDevice
    void halfAndBfloat16LoadExactlyAsFloat32(Device d) throws IOException {
        String json = "{\"h\":{\"dtype\":\"F16\",\"shape\":[4],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[8,12]}}";
        // F16: 1.0 = 0x3C00, -2.0 = 0xC000, 65504 = 0x7BFF (largest half), 2^-24 = 0x0001 (smallest subnormal)
        // BF16: 1.0 = 0x3F80, 3.140625 = 0x4049
        byte[] data = {0x00, 0x3C, 0x00, (byte) 0xC0, (byte) 0xFF, 0x7B, 0x01, 0x00, (byte) 0x80, 0x3F, 0x49, 0x40};
        Path file = dir.resolve("half.safetensors");
        Files.write(file, SafetensorsBytes.file(json, data));
        Map<String, Tensor> t = Checkpoint.load(file, d);
        assertEquals(DType.FLOAT32, t.get("h").dtype());
        assertArrayEquals(new float[] {1f, -2f, 65504f, 0x1p-24f}, t.get("h").toFloatArray());
        assertArrayEquals(new float[] {1f, 3.140625f}, t.get("b").toFloatArray());
    }

    /** What our writer writes, read back by the test's own reader: layout, padding, JSON and little-endian data. */
    @OnEachDevice
    void writerOutputMatchesTheSpecificationByteForByte(Device d) throws IOException {
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put("z.last.in.name.order", Tensor.of(d, new float[] {1f, -2.5f, 0.1f}, 3, 1));
        m.put("ints", Tensor.of(d, new int[] {-2, 0x12345678}));
        m.put("flag", Tensor.of(d, new boolean[] {false, true, true}));
        m.put("pi", Tensor.scalar(d, Math.PI));
        m.put("none", Tensor.zeros(d, 0));
        Path file = dir.resolve("ours.safetensors");
        Checkpoint.save(file, m, Map.of("epoch", "3"));
        byte[] bytes = Files.readAllBytes(file);
        SafetensorsBytes.Parsed p = SafetensorsBytes.parse(bytes);

        assertEquals(0, (8 + p.headerLength()) % 8, "data section 8-byte aligned");
        assertTrue(p.headerText().startsWith("{"), p.headerText());
        assertTrue(p.headerText().stripTrailing().endsWith("}"), "only spaces pad the header");
        assertEquals(List.of("__metadata__", "z.last.in.name.order", "ints", "flag", "pi", "none"),
                List.copyOf(p.header().keySet()), "metadata first, then insertion order");
        assertEquals("3", p.header().getAsJsonObject("__metadata__").get("epoch").getAsString());

        String[] dtypes = {"F32", "I32", "BOOL", "F64", "F32"};
        long[][] shapes = {{3, 1}, {2}, {3}, {}, {0}};
        long[][] offsets = {{0, 12}, {12, 20}, {20, 23}, {23, 31}, {31, 31}};
        String[] names = {"z.last.in.name.order", "ints", "flag", "pi", "none"};
        for (int i = 0; i < names.length; i++) {
            JsonObject e = p.header().getAsJsonObject(names[i]);
            assertEquals(dtypes[i], e.get("dtype").getAsString(), names[i]);
            assertArrayEquals(shapes[i], numbers(e.getAsJsonArray("shape")), names[i]);
            assertArrayEquals(offsets[i], numbers(e.getAsJsonArray("data_offsets")), names[i]);
        }
        assertEquals(31, p.data().length, "the data section is exactly the tensors");
        byte[] f = p.tensorBytes("z.last.in.name.order");
        assertEquals(Float.floatToRawIntBits(-2.5f), intAt(f, 1));
        assertEquals(Float.floatToRawIntBits(0.1f), intAt(f, 2));
        assertEquals(0x12345678, intAt(p.tensorBytes("ints"), 1));
        assertArrayEquals(ints(-2, 0x12345678), p.tensorBytes("ints"));
        assertArrayEquals(new byte[] {0, 1, 1}, p.tensorBytes("flag"));
        assertEquals(Double.doubleToRawLongBits(Math.PI), longAt(p.tensorBytes("pi"), 0));
        assertArrayEquals(longs(Double.doubleToRawLongBits(Math.PI)), p.tensorBytes("pi"));
    }

    private static long[] numbers(JsonArray a) {
        long[] out = new long[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).getAsLong();
        }
        return out;
    }

    @OnEachDevice
    void savingReplacesAnExistingCheckpoint(Device d) throws IOException {
        Path file = dir.resolve("ckpt.safetensors");
        Checkpoint.save(file, Map.of("a", Tensor.of(d, new float[] {1, 2, 3, 4, 5, 6, 7, 8})));
        Checkpoint.save(file, Map.of("b", Tensor.scalar(d, 5)));
        Map<String, Tensor> t = Checkpoint.load(file, d);
        assertEquals(List.of("b"), List.copyOf(t.keySet()));
        assertEquals(List.of(file), listing(), "no temporary files left behind");
    }

    /** A save that fails after writing part of the data leaves the old file intact and no temporary file. */
    @OnEachDevice
    void aSaveThatFailsMidwayLeavesTheOldCheckpointIntact(Device d) throws IOException {
        Path file = dir.resolve("ckpt.safetensors");
        Checkpoint.save(file, Map.of("a", Tensor.of(d, new float[] {1, 2})), Map.of("v", "1"));
        byte[] before = Files.readAllBytes(file);

        Tensor good = Tensor.of(d, new float[1 << 19]); // 2 MiB: more than one write chunk reaches the temp file
        Tensor failing = failingTensor(d);
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put("good", good);
        m.put("failing", failing);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Checkpoint.save(file, m));
        assertEquals("device lost", e.getMessage());
        assertArrayEquals(before, Files.readAllBytes(file));
        assertEquals(List.of(file), listing(), "the temporary file is deleted");

        // a closed tensor is refused before anything is written
        Tensor closed = Tensor.of(d, new float[] {1});
        closed.close();
        Map<String, Tensor> withClosed = new LinkedHashMap<>();
        withClosed.put("good", good);
        withClosed.put("closed", closed);
        IllegalStateException c = assertThrows(IllegalStateException.class, () -> Checkpoint.save(file, withClosed));
        assertTrue(c.getMessage().contains("'closed'") && c.getMessage().contains("close()"), c.getMessage());
        assertArrayEquals(before, Files.readAllBytes(file));
        assertEquals(List.of(file), listing());
        assertEquals(Map.of("v", "1"), Checkpoint.metadata(file));
    }

    /**
     * A tensor whose host copy fails, as a device error in the middle of a save would: its buffer belongs to a
     * backend that delegates everything to the real one except reading floats back.
     */
    private static Tensor failingTensor(Device d) {
        Backend real = Backends.get(d);
        Backend failing = (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(),
                new Class<?>[] {Backend.class}, (proxy, method, args) -> {
                    if (method.getName().equals("readFloats")) {
                        throw new IllegalStateException("device lost");
                    }
                    try {
                        return method.invoke(real, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
        Buffer buffer = real.upload(new float[] {1, 2, 3}, DType.FLOAT32);
        return TensorAccess.wrap(new Storage(failing, buffer), Shape.of(3));
    }

    @OnEachDevice
    void theReservedMetadataNameCannotNameATensor(Device d) {
        Path file = dir.resolve("r.safetensors");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Checkpoint.save(file, Map.of("__metadata__", Tensor.scalar(d, 1f))));
        assertTrue(e.getMessage().contains("__metadata__"), e.getMessage());
        assertFalse(Files.exists(file));
    }

    @OnEachDevice
    void unsupportedDtypesAreNamedWithTheirTensor(Device d) throws IOException {
        Path file = dir.resolve("i64.safetensors");
        Files.write(file, SafetensorsBytes.file(
                "{\"ok\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                        + "\"step\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[4,12]}}",
                concat(ints(0), longs(5))));
        long serial = TensorAccess.lastSerial();
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> Checkpoint.load(file, d));
        assertTrue(e.getMessage().contains("'step'") && e.getMessage().contains("I64")
                && e.getMessage().contains(file.toString()), e.getMessage());
        assertEquals(serial, TensorAccess.lastSerial(), "no tensor created, not even the valid one before it");
        assertEquals(file, e.file());
    }

    private List<Path> listing() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.toList();
        }
    }
}
