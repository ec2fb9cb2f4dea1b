package dev.nabla.conformance.io;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nabla.Device;
import dev.nabla.Tensor;
import dev.nabla.conformance.OnEachDevice;
import dev.nabla.internal.TensorAccess;
import dev.nabla.io.Checkpoint;
import dev.nabla.io.CheckpointFormatException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * A valid checkpoint, corrupted one way at a time: every load must throw {@link CheckpointFormatException} naming
 * the file and the problem, create no tensor, and leave the file as it was.
 */
class CheckpointCorruptionTest {
    @TempDir
    Path dir;

    /** One corruption: the bytes to load and words the message must contain. */
    private record Case(String label, byte[] bytes, String... expected) {
    }

    @OnEachDevice
    void everyCorruptionIsAFormatErrorThatCreatesNothing(Device d) throws IOException {
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put("a", Tensor.of(d, new float[] {1, 2, 3, 4, 5, 6}, 2, 3)); // bytes [0, 24)
        m.put("b", Tensor.of(d, new int[] {7, 8}));                      // bytes [24, 32)
        m.put("c", Tensor.of(d, new boolean[] {true, false, true}));     // bytes [32, 35)
        Path valid = dir.resolve("valid.safetensors");
        Checkpoint.save(valid, m, Map.of("k", "v"));
        byte[] good = Files.readAllBytes(valid);
        SafetensorsBytes.Parsed p = SafetensorsBytes.parse(good);
        // the canonical compact text of the same header: corruptions below are edits of it
        String json = p.header().toString();
        byte[] data = p.data();
        assertEquals("{\"__metadata__\":{\"k\":\"v\"},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]},"
                + "\"b\":{\"dtype\":\"I32\",\"shape\":[2],\"data_offsets\":[24,32]},"
                + "\"c\":{\"dtype\":\"BOOL\",\"shape\":[3],\"data_offsets\":[32,35]}}", json);
        assertEquals(3, Checkpoint.load(valid, d).size(), "the uncorrupted file loads");

        int n = (int) p.headerLength();
        byte[] badUtf8 = SafetensorsBytes.file(json, data);
        badUtf8[8 + json.indexOf("\"k\"") + 1] = (byte) 0xFF;
        List<Case> cases = List.of(
                new Case("data truncated", Arrays.copyOf(good, good.length - 4),
                        "'b'", "beyond the data section", "31 bytes"),
                new Case("header truncated", Arrays.copyOf(good, 8 + n / 2), "beyond the file size"),
                new Case("shorter than the length field", Arrays.copyOf(good, 5), "5 bytes", "8-byte"),
                new Case("header length over the limit", withLength(good, 1L << 40), "1099511627776", "limit"),
                new Case("header length is u64 max", withLength(good, -1L), "18446744073709551615", "limit"),
                new Case("header length beyond the file", withLength(good, good.length), "beyond the file size"),
                new Case("bad JSON", file(json.substring(0, json.length() - 1), data), "not valid JSON"),
                new Case("a second JSON value", file(json + "{}", data), "text after its JSON object"),
                new Case("header not an object", file(" " + json, data), "does not start with '{'"),
                new Case("invalid UTF-8", badUtf8, "UTF-8"),
                new Case("unknown dtype", file(json.replace("\"F32\"", "\"Q32\""), data), "'a'", "Q32"),
                new Case("missing dtype", file(json.replace("\"dtype\":\"I32\",", ""), data), "'b'", "no dtype"),
                new Case("shape and offsets disagree", file(json.replace("[2,3]", "[2,4]"), data),
                        "'a'", "(2, 4)", "32 bytes", "span 24"),
                new Case("overlapping offsets", file(json.replace("[24,32]", "[20,28]"), data),
                        "'b'", "overlaps tensor 'a'"),
                new Case("a gap between tensors", file(json.replace("[24,32]", "[26,34]")
                        .replace("[32,35]", "[34,37]"), SafetensorsBytes.concat(data, new byte[2])),
                        "bytes [24, 26)", "belong to no tensor"),
                new Case("offsets end before they begin", file(json.replace("[32,35]", "[35,32]"), data),
                        "'c'", "end before they begin"),
                new Case("trailing bytes", SafetensorsBytes.concat(good, new byte[8]), "trailing bytes", "43"),
                new Case("duplicate names", file(json.replace("\"b\":", "\"a\":"), data), "'a'", "twice"),
                new Case("metadata value not a string", file(json.replace("\"v\"", "1"), data),
                        "__metadata__", "not a string"),
                new Case("negative dimension", file(json.replace("[2,3]", "[-2,3]"), data), "'a'", "negative"),
                new Case("fractional offset", file(json.replace("[0,24]", "[0,24.0]"), data),
                        "'a'", "24.0", "not an integer"),
                new Case("unsupported dtype", file(json.replace("\"F32\",\"shape\":[2,3]", "\"I64\",\"shape\":[3]"),
                        data), "'a'", "I64", "cannot load"));

        List<Executable> checks = new ArrayList<>();
        for (int i = 0; i < cases.size(); i++) {
            Case c = cases.get(i);
            Path file = dir.resolve("case" + i + ".safetensors");
            Files.write(file, c.bytes());
            checks.add(() -> {
                long serial = TensorAccess.lastSerial();
                CheckpointFormatException e = assertThrows(CheckpointFormatException.class,
                        () -> Checkpoint.load(file, d), c.label());
                String msg = e.getMessage();
                assertTrue(msg.contains(file.toString()), c.label() + ": " + msg);
                for (String word : c.expected()) {
                    assertTrue(msg.contains(word), c.label() + ": expected '" + word + "' in: " + msg);
                }
                assertEquals(serial, TensorAccess.lastSerial(), c.label() + ": a tensor was created");
                assertArrayEquals(c.bytes(), Files.readAllBytes(file), c.label() + ": the file changed");
                assertThrows(CheckpointFormatException.class, () -> Checkpoint.metadata(file), c.label());
            });
        }
        assertAll(checks);
    }

    /** Bad element data is found while loading; the tensors already made are closed, not returned. */
    @OnEachDevice
    void aBoolByteOtherThanZeroOrOneIsRefused(Device d) throws IOException {
        Path file = dir.resolve("bool.safetensors");
        Files.write(file, SafetensorsBytes.file(
                "{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                        + "\"flags\":{\"dtype\":\"BOOL\",\"shape\":[3],\"data_offsets\":[4,7]}}",
                new byte[] {0, 0, (byte) 0x80, 0x3F, 1, 2, 0}));
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> Checkpoint.load(file, d));
        assertTrue(e.getMessage().contains("'flags'") && e.getMessage().contains("byte 2")
                && e.getMessage().contains("element 1"), e.getMessage());
    }

    private static byte[] file(String json, byte[] data) {
        return SafetensorsBytes.file(json, data);
    }

    private static byte[] withLength(byte[] file, long length) {
        byte[] out = file.clone();
        for (int i = 0; i < 8; i++) {
            out[i] = (byte) (length >>> (8 * i));
        }
        return out;
    }

}
