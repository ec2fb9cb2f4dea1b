package dev.nabla.io;

import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import com.google.gson.stream.JsonWriter;
import com.google.gson.stream.MalformedJsonException;
import dev.nabla.Shape;
import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The header of a safetensors file: an 8-byte little-endian length N, then N bytes of UTF-8 JSON mapping each
 * tensor name to {@code {"dtype", "shape", "data_offsets": [begin, end]}} (offsets relative to the data section
 * that follows), plus an optional {@code "__metadata__"} map of strings. {@link #read} checks everything the
 * specification requires before any data is touched, so a bad file fails before a tensor exists.
 */
final class SafetensorsHeader {
    /** The specification's limit (the reference implementation's MAX_HEADER_SIZE); guards against absurd allocations. */
    static final long MAX_HEADER_BYTES = 100_000_000L;
    static final String METADATA_KEY = "__metadata__";
    private static final int LENGTH_BYTES = 8;

    /** One tensor's description: where its bytes lie, relative to the data section. */
    record Entry(String name, StoredType type, Shape shape, long begin, long end) {
        long elements() {
            return shape.size();
        }
    }

    final List<Entry> entries;           // in header order
    final Map<String, String> metadata;
    final long dataStart;                // absolute file offset of the data section

    private SafetensorsHeader(List<Entry> entries, Map<String, String> metadata, long dataStart) {
        this.entries = entries;
        this.metadata = metadata;
        this.dataStart = dataStart;
    }

    // ---- writing -------------------------------------------------------------------------------------------

    /**
     * The length field and JSON text for {@code entries} and {@code metadata}, padded with spaces so that the data
     * section starts 8-byte aligned (as the reference writer does, so readers may map the data in place).
     */
    static ByteBuffer encode(List<Entry> entries, Map<String, String> metadata) {
        StringWriter text = new StringWriter();
        try (JsonWriter w = new JsonWriter(text)) {
            w.setHtmlSafe(false);
            w.beginObject();
            if (!metadata.isEmpty()) {
                w.name(METADATA_KEY).beginObject();
                for (Map.Entry<String, String> m : metadata.entrySet()) {
                    w.name(m.getKey()).value(m.getValue());
                }
                w.endObject();
            }
            for (Entry e : entries) {
                w.name(e.name()).beginObject();
                w.name("dtype").value(e.type().name());
                w.name("shape").beginArray();
                for (long d : e.shape().dims()) {
                    w.value(d);
                }
                w.endArray();
                w.name("data_offsets").beginArray().value(e.begin()).value(e.end()).endArray();
                w.endObject();
            }
            w.endObject();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("a StringWriter cannot fail", e);
        }
        byte[] json = text.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) & ~7;
        ByteBuffer out = ByteBuffer.allocate(LENGTH_BYTES + padded).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(padded).put(json);
        while (out.hasRemaining()) {
            out.put((byte) ' ');
        }
        return out.flip();
    }

    // ---- reading -------------------------------------------------------------------------------------------

    /** Reads and validates the header of {@code file}, open as {@code ch}. */
    static SafetensorsHeader read(Path file, FileChannel ch) throws IOException {
        long fileSize = ch.size();
        if (fileSize < LENGTH_BYTES) {
            throw new CheckpointFormatException(file, "the file is " + fileSize
                    + " bytes long, shorter than the 8-byte header length that starts a safetensors file");
        }
        long n = readFully(file, ch, 0, LENGTH_BYTES).order(ByteOrder.LITTLE_ENDIAN).getLong();
        // compare as unsigned: a u64 above Long.MAX_VALUE reads as negative
        if (Long.compareUnsigned(n, MAX_HEADER_BYTES) > 0) {
            throw new CheckpointFormatException(file, "the header length is " + Long.toUnsignedString(n)
                    + " bytes, over the format's limit of " + MAX_HEADER_BYTES + " bytes");
        }
        if (LENGTH_BYTES + n > fileSize) {
            throw new CheckpointFormatException(file, "the header length is " + n + " bytes, beyond the file size: only "
                    + (fileSize - LENGTH_BYTES) + " bytes follow the length field (truncated file?)");
        }
        String text = decodeUtf8(file, readFully(file, ch, LENGTH_BYTES, (int) n));
        if (!text.startsWith("{")) {
            throw new CheckpointFormatException(file, "the JSON header does not start with '{'");
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        List<Entry> entries = new ArrayList<>();
        parse(file, text, metadata, entries);
        long dataStart = LENGTH_BYTES + n;
        checkCoverage(file, entries, fileSize - dataStart);
        return new SafetensorsHeader(List.copyOf(entries), Collections.unmodifiableMap(metadata), dataStart);
    }

    private static String decodeUtf8(Path file, ByteBuffer bytes) throws CheckpointFormatException {
        try {
            CharBuffer chars = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(bytes);
            return chars.toString();
        } catch (CharacterCodingException e) {
            throw new CheckpointFormatException(file, "the header is not valid UTF-8", e);
        }
    }

    private static void parse(Path file, String text, Map<String, String> metadata, List<Entry> entries)
            throws CheckpointFormatException {
        // gson's streaming reader rather than JsonParser: a JsonObject silently keeps the last of two equal keys,
        // and a duplicate tensor name must be an error, not a lost tensor
        JsonReader r = new JsonReader(new StringReader(text));
        r.setStrictness(Strictness.STRICT);
        try {
            r.beginObject();
            Set<String> names = new HashSet<>();
            boolean sawMetadata = false;
            while (r.hasNext()) {
                String name = r.nextName();
                if (name.equals(METADATA_KEY)) {
                    if (sawMetadata) {
                        throw new CheckpointFormatException(file, "the header has two " + METADATA_KEY + " entries");
                    }
                    sawMetadata = true;
                    readMetadata(file, r, metadata);
                } else {
                    if (!names.add(name)) {
                        throw new CheckpointFormatException(file, "the header names tensor '" + name + "' twice");
                    }
                    entries.add(readEntry(file, r, name));
                }
            }
            r.endObject();
            endOfDocument(file, r);
        } catch (CheckpointFormatException e) {
            throw e;
        } catch (IOException | IllegalStateException e) {
            // MalformedJsonException, EOFException, or IllegalStateException for a token of the wrong kind
            throw new CheckpointFormatException(file, "the header is not valid JSON: " + gsonMessage(e), e);
        }
    }

    private static void endOfDocument(Path file, JsonReader r) throws IOException {
        boolean trailing;
        try {
            trailing = r.peek() != JsonToken.END_DOCUMENT;
        } catch (MalformedJsonException e) {
            trailing = true; // a strict reader refuses a second top-level value before it can peek it
        }
        if (trailing) {
            throw new CheckpointFormatException(file, "the header has text after its JSON object (only spaces may "
                    + "pad it)");
        }
    }

    /** Gson's message without its advice to read leniently, which would be the wrong fix for a checkpoint. */
    private static String gsonMessage(Exception e) {
        String m = String.valueOf(e.getMessage());
        int see = m.indexOf("\nSee https://");
        if (see >= 0) {
            m = m.substring(0, see);
        }
        return m.replace("Use JsonReader.setStrictness(Strictness.LENIENT) to accept malformed JSON", "malformed JSON");
    }

    private static void readMetadata(Path file, JsonReader r, Map<String, String> metadata) throws IOException {
        if (r.peek() != JsonToken.BEGIN_OBJECT) {
            throw new CheckpointFormatException(file, METADATA_KEY + " is " + r.peek() + ", not an object of strings");
        }
        r.beginObject();
        while (r.hasNext()) {
            String key = r.nextName();
            // peek first: nextString() would also accept a number and turn it into text
            if (r.peek() != JsonToken.STRING) {
                throw new CheckpointFormatException(file, METADATA_KEY + " value for '" + key + "' is " + r.peek()
                        + ", not a string");
            }
            if (metadata.put(key, r.nextString()) != null) {
                throw new CheckpointFormatException(file, METADATA_KEY + " has key '" + key + "' twice");
            }
        }
        r.endObject();
    }

    private static Entry readEntry(Path file, JsonReader r, String name) throws IOException {
        String where = "tensor '" + name + "'";
        if (r.peek() != JsonToken.BEGIN_OBJECT) {
            throw new CheckpointFormatException(file, where + " is " + r.peek()
                    + ", not an object with dtype, shape and data_offsets");
        }
        r.beginObject();
        String dtype = null;
        long[] dims = null;
        long[] offsets = null;
        Set<String> keys = new HashSet<>();
        while (r.hasNext()) {
            String key = r.nextName();
            if (!keys.add(key)) {
                throw new CheckpointFormatException(file, where + " has key '" + key + "' twice");
            }
            switch (key) {
                case "dtype" -> {
                    if (r.peek() != JsonToken.STRING) {
                        throw new CheckpointFormatException(file, where + ": dtype is " + r.peek() + ", not a string");
                    }
                    dtype = r.nextString();
                }
                case "shape" -> dims = readCounts(file, r, where + ": shape");
                case "data_offsets" -> offsets = readCounts(file, r, where + ": data_offsets");
                default -> r.skipValue(); // the reference reader ignores unknown fields too
            }
        }
        r.endObject();
        if (dtype == null || dims == null || offsets == null) {
            throw new CheckpointFormatException(file, where + " has no " + (dtype == null ? "dtype"
                    : dims == null ? "shape" : "data_offsets"));
        }
        StoredType type = StoredType.parse(dtype);
        if (type == null) {
            throw new CheckpointFormatException(file, where + " has dtype " + dtype + (StoredType.UNSUPPORTED
                    .contains(dtype) ? ", which Nabla cannot load" : ", which is not a safetensors dtype")
                    + " (Nabla loads F32, F64, I32, BOOL, and F16 and BF16 as FLOAT32)");
        }
        if (offsets.length != 2) {
            throw new CheckpointFormatException(file, where + ": data_offsets has " + offsets.length
                    + " numbers, not [begin, end]");
        }
        long begin = offsets[0];
        long end = offsets[1];
        if (end < begin) {
            throw new CheckpointFormatException(file, where + ": data_offsets [" + begin + ", " + end
                    + "] end before they begin");
        }
        Shape shape;
        long bytes;
        try {
            shape = Shape.of(dims);
            bytes = Math.multiplyExact(shape.size(), type.byteSize);
        } catch (ArithmeticException e) {
            throw new CheckpointFormatException(file, where + ": shape " + java.util.Arrays.toString(dims)
                    + " has more elements than a long can count");
        }
        if (end - begin != bytes) {
            throw new CheckpointFormatException(file, where + ": shape " + shape + " of " + type + " needs " + bytes
                    + " bytes, but data_offsets [" + begin + ", " + end + "] span " + (end - begin));
        }
        if (shape.size() > Integer.MAX_VALUE - 8) {
            throw new CheckpointFormatException(file, where + " has " + shape.size()
                    + " elements, more than one Java array (and so one Nabla host copy) can hold");
        }
        return new Entry(name, type, shape, begin, end);
    }

    /** A JSON array of non-negative integers (shape dimensions, byte offsets). */
    private static long[] readCounts(Path file, JsonReader r, String what) throws IOException {
        if (r.peek() != JsonToken.BEGIN_ARRAY) {
            throw new CheckpointFormatException(file, what + " is " + r.peek() + ", not an array of integers");
        }
        List<Long> values = new ArrayList<>();
        r.beginArray();
        while (r.hasNext()) {
            if (r.peek() != JsonToken.NUMBER) {
                throw new CheckpointFormatException(file, what + " holds " + r.peek() + ", not an integer");
            }
            String number = r.nextString();
            long v;
            try {
                v = Long.parseLong(number);
            } catch (NumberFormatException e) {
                throw new CheckpointFormatException(file, what + " holds " + number + ", not an integer");
            }
            if (v < 0) {
                throw new CheckpointFormatException(file, what + " holds " + v + ", which is negative");
            }
            values.add(v);
        }
        r.endArray();
        return values.stream().mapToLong(Long::longValue).toArray();
    }

    /**
     * The specification requires the tensors to tile the data section exactly: in offset order each begins where
     * the previous ended, the first at 0 and the last at the end of the file. Overlaps would let one tensor's
     * bytes be read as another's; gaps and trailing bytes usually mean a truncated or spliced file.
     */
    private static void checkCoverage(Path file, List<Entry> entries, long dataLength)
            throws CheckpointFormatException {
        List<Entry> sorted = new ArrayList<>(entries);
        sorted.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        long covered = 0;
        String previous = null;
        for (Entry e : sorted) {
            String where = "tensor '" + e.name() + "' (data_offsets [" + e.begin() + ", " + e.end() + "])";
            if (e.begin() < covered) {
                throw new CheckpointFormatException(file, where + " overlaps tensor '" + previous
                        + "', which ends at byte " + covered);
            }
            if (e.begin() > covered) {
                throw new CheckpointFormatException(file, "bytes [" + covered + ", " + e.begin()
                        + ") of the data section belong to no tensor (a gap before " + where + ")");
            }
            if (e.end() > dataLength) {
                throw new CheckpointFormatException(file, where + " ends beyond the data section, which has "
                        + dataLength + " bytes (truncated file?)");
            }
            covered = e.end();
            previous = e.name();
        }
        if (covered != dataLength) {
            throw new CheckpointFormatException(file, "the data section has " + dataLength
                    + " bytes but the tensors cover only " + covered + " (trailing bytes)");
        }
    }

    /** Exactly {@code n} bytes at {@code position}, or a format error if the file ends first. */
    static ByteBuffer readFully(Path file, FileChannel ch, long position, int n) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(n);
        while (buf.hasRemaining()) {
            if (ch.read(buf, position + buf.position()) < 0) {
                throw new CheckpointFormatException(file, "the file ends at byte " + (position + buf.position())
                        + ", before the " + n + " bytes expected at byte " + position + " (truncated while reading?)");
            }
        }
        return buf.flip();
    }
}
