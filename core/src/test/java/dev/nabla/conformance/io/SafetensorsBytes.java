package dev.nabla.conformance.io;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A safetensors writer and reader written from the specification alone, independent of {@code dev.nabla.io}: bytes
 * are assembled and taken apart with shifts, so a byte-order or offset bug in the real code cannot hide behind the
 * same bug here.
 */
final class SafetensorsBytes {
    private SafetensorsBytes() {
    }

    /** A file: the 8-byte little-endian length, {@code json} padded with spaces to a multiple of 8, {@code data}. */
    static byte[] file(String json, byte[] data) {
        byte[] text = json.getBytes(StandardCharsets.UTF_8);
        int padded = (text.length + 7) / 8 * 8;
        return file(padded, Arrays.copyOf(pad(text, padded), padded), data);
    }

    /** A file with an arbitrary length field (possibly a lie) followed by {@code header} and {@code data}. */
    static byte[] file(long lengthField, byte[] header, byte[] data) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < 8; i++) {
            out.write((int) (lengthField >>> (8 * i)) & 0xFF);
        }
        out.writeBytes(header);
        out.writeBytes(data);
        return out.toByteArray();
    }

    private static byte[] pad(byte[] text, int n) {
        byte[] out = new byte[n];
        Arrays.fill(out, (byte) ' ');
        System.arraycopy(text, 0, out, 0, text.length);
        return out;
    }

    /** Little-endian bytes of int values. */
    static byte[] ints(int... v) {
        byte[] out = new byte[4 * v.length];
        for (int i = 0; i < v.length; i++) {
            for (int b = 0; b < 4; b++) {
                out[4 * i + b] = (byte) (v[i] >>> (8 * b));
            }
        }
        return out;
    }

    /** Little-endian bytes of long values. */
    static byte[] longs(long... v) {
        byte[] out = new byte[8 * v.length];
        for (int i = 0; i < v.length; i++) {
            for (int b = 0; b < 8; b++) {
                out[8 * i + b] = (byte) (v[i] >>> (8 * b));
            }
        }
        return out;
    }

    /** Concatenation. */
    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    /** A file taken apart: the length field, the header text as stored (with padding), its JSON, the data. */
    record Parsed(long headerLength, String headerText, JsonObject header, byte[] data) {
        /** The bytes of the tensor {@code name}, by its data_offsets. */
        byte[] tensorBytes(String name) {
            var offsets = header.getAsJsonObject(name).getAsJsonArray("data_offsets");
            return Arrays.copyOfRange(data, offsets.get(0).getAsInt(), offsets.get(1).getAsInt());
        }
    }

    static Parsed parse(byte[] file) {
        long n = 0;
        for (int i = 7; i >= 0; i--) {
            n = (n << 8) | (file[i] & 0xFF);
        }
        String text = new String(file, 8, (int) n, StandardCharsets.UTF_8);
        JsonObject json = JsonParser.parseString(text).getAsJsonObject();
        return new Parsed(n, text, json, Arrays.copyOfRange(file, 8 + (int) n, file.length));
    }

    /** The int at element {@code i} of little-endian {@code bytes}. */
    static int intAt(byte[] bytes, int i) {
        return (bytes[4 * i] & 0xFF) | (bytes[4 * i + 1] & 0xFF) << 8 | (bytes[4 * i + 2] & 0xFF) << 16
                | (bytes[4 * i + 3] & 0xFF) << 24;
    }

    /** The long at element {@code i} of little-endian {@code bytes}. */
    static long longAt(byte[] bytes, int i) {
        long v = 0;
        for (int b = 7; b >= 0; b--) {
            v = (v << 8) | (bytes[8 * i + b] & 0xFF);
        }
        return v;
    }
}
