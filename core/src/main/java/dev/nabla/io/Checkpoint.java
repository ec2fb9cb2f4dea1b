package dev.nabla.io;

import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import dev.nabla.DType;
import dev.nabla.Device;
import dev.nabla.Shape;
import dev.nabla.Tensor;
import dev.nabla.ops.Creation;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Tensors saved to and loaded from files in the <a href="https://github.com/huggingface/safetensors">safetensors</a>
 * format: an 8-byte little-endian header length, a JSON header naming each tensor's dtype, shape and byte range,
 * then the raw little-endian data. PyTorch and Hugging Face tools read these files, and Nabla reads theirs (F32,
 * F64, I32 and BOOL tensors).
 *
 * <pre>{@code
 * Checkpoint.save(Path.of("model.safetensors"), model.stateDict());
 * model.loadStateDict(Checkpoint.load(Path.of("model.safetensors")));
 * }</pre>
 *
 * <p>Saving writes a temporary file in the same folder, forces it to disk and renames it over the target, so an
 * existing checkpoint is never left half-written. Loading validates the whole header before it creates any tensor.
 */
public final class Checkpoint {
    /** The format's limit on the header size. */
    private static final long MAX_HEADER = 100L * 1024 * 1024;
    private static final String METADATA = "__metadata__";

    private Checkpoint() {
    }

    /** Saves {@code tensors} in map order. */
    public static void save(Path path, Map<String, Tensor> tensors) throws IOException {
        save(path, tensors, Map.of());
    }

    /** Saves {@code tensors} in map order, with string {@code metadata} in the header. */
    public static void save(Path path, Map<String, Tensor> tensors, Map<String, String> metadata)
            throws IOException {
        JsonObject header = new JsonObject();
        if (!metadata.isEmpty()) {
            JsonObject meta = new JsonObject();
            metadata.forEach(meta::addProperty);
            header.add(METADATA, meta);
        }
        long offset = 0;
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            if (e.getKey().equals(METADATA)) {
                throw new IllegalArgumentException("save: '" + METADATA + "' is reserved for metadata");
            }
            Tensor t = e.getValue();
            long bytes = t.size() * t.dtype().byteSize();
            JsonObject entry = new JsonObject();
            entry.addProperty("dtype", SafetensorsDType.of(t.dtype()).code());
            JsonArray shape = new JsonArray();
            for (long d : t.shape().dims()) {
                shape.add(d);
            }
            entry.add("shape", shape);
            JsonArray offsets = new JsonArray();
            offsets.add(offset);
            offsets.add(offset + bytes);
            entry.add("data_offsets", offsets);
            header.add(e.getKey(), entry);
            offset += bytes;
        }
        byte[] json = new Gson().toJson(header).getBytes(StandardCharsets.UTF_8);
        // the spec allows padding the header with spaces; 8-byte alignment keeps the data aligned for readers
        int padded = (json.length + 7) / 8 * 8;
        Path dir = path.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, "." + path.getFileName() + ".", ".tmp");
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
                head.putLong(padded).put(json);
                while (head.hasRemaining()) {
                    head.put((byte) ' ');
                }
                writeFully(ch, head.flip());
                for (Tensor t : tensors.values()) {
                    writeFully(ch, SafetensorsDType.of(t.dtype()).encode(t));
                }
                ch.force(true);
            }
            Files.move(tmp, path, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    /** Loads every tensor, in file order, onto the default device. */
    public static Map<String, Tensor> load(Path path) throws IOException {
        return load(path, Device.defaultDevice());
    }

    /** Loads every tensor, in file order, onto {@code device}. */
    public static Map<String, Tensor> load(Path path, Device device) throws IOException {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            Header h = readHeader(path, ch);
            ByteBuffer data = ByteBuffer.allocate(Math.toIntExact(h.dataBytes)).order(ByteOrder.LITTLE_ENDIAN);
            long at = 8 + h.length;
            while (data.hasRemaining()) {
                int n = ch.read(data, at + data.position());
                if (n < 0) {
                    throw new CheckpointFormatException(path, "data section ends early");
                }
            }
            Map<String, Tensor> out = new LinkedHashMap<>();
            for (Entry e : h.entries.values()) {
                ByteBuffer slice = data.slice(Math.toIntExact(e.begin), Math.toIntExact(e.end - e.begin))
                        .order(ByteOrder.LITTLE_ENDIAN);
                out.put(e.name, Creation.withShape(device, e.dtype.decode(slice, e.shape.size()), e.shape));
            }
            return out;
        }
    }

    /** The {@code __metadata__} strings of a file (empty when it has none). */
    public static Map<String, String> metadata(Path path) throws IOException {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            return readHeader(path, ch).metadata;
        }
    }

    private record Entry(String name, SafetensorsDType dtype, Shape shape, long begin, long end) {
    }

    private record Header(long length, Map<String, Entry> entries, Map<String, String> metadata, long dataBytes) {
    }

    /** Reads and checks the header against the file size; nothing is allocated for tensors yet. */
    private static Header readHeader(Path path, FileChannel ch) throws IOException {
        long fileSize = ch.size();
        if (fileSize < 8) {
            throw new CheckpointFormatException(path, "shorter than the 8-byte header length (" + fileSize + " bytes)");
        }
        ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        while (len.hasRemaining() && ch.read(len, len.position()) >= 0) {
            // read until full
        }
        long length = len.flip().getLong();
        if (length < 2 || length > MAX_HEADER || 8 + length > fileSize) {
            throw new CheckpointFormatException(path, "header length " + length + " does not fit a file of " + fileSize
                    + " bytes (limit " + MAX_HEADER + ")");
        }
        ByteBuffer json = ByteBuffer.allocate((int) length);
        while (json.hasRemaining() && ch.read(json, 8 + json.position()) >= 0) {
            // read until full
        }
        JsonObject header;
        try {
            JsonElement root = JsonParser.parseString(StandardCharsets.UTF_8.decode(json.flip()).toString());
            if (!root.isJsonObject()) {
                throw new CheckpointFormatException(path, "header is not a JSON object");
            }
            header = root.getAsJsonObject();
        } catch (JsonParseException | IllegalStateException e) {
            throw new CheckpointFormatException(path, "header is not valid JSON: " + e.getMessage());
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        Map<String, Entry> entries = new LinkedHashMap<>();
        for (Map.Entry<String, JsonElement> e : header.entrySet()) {
            if (e.getKey().equals(METADATA)) {
                if (!e.getValue().isJsonObject()) {
                    throw new CheckpointFormatException(path, METADATA + " is not an object");
                }
                for (Map.Entry<String, JsonElement> m : e.getValue().getAsJsonObject().entrySet()) {
                    if (!m.getValue().isJsonPrimitive() || !m.getValue().getAsJsonPrimitive().isString()) {
                        throw new CheckpointFormatException(path, "metadata '" + m.getKey() + "' is not a string");
                    }
                    metadata.put(m.getKey(), m.getValue().getAsString());
                }
                continue;
            }
            entries.put(e.getKey(), entry(path, e.getKey(), e.getValue()));
        }
        long dataBytes = fileSize - 8 - length;
        checkLayout(path, entries, dataBytes);
        return new Header(length, entries, metadata, dataBytes);
    }

    private static Entry entry(Path path, String name, JsonElement value) throws CheckpointFormatException {
        try {
            JsonObject o = value.getAsJsonObject();
            String code = o.get("dtype").getAsString();
            SafetensorsDType dtype = SafetensorsDType.fromCode(code);
            if (dtype == null) {
                throw new CheckpointFormatException(path, "tensor '" + name + "' has dtype " + code
                        + ", which Nabla does not read (F32, F64, I32, BOOL)");
            }
            JsonArray dims = o.get("shape").getAsJsonArray();
            long[] shape = new long[dims.size()];
            for (int i = 0; i < shape.length; i++) {
                shape[i] = dims.get(i).getAsLong();
                if (shape[i] < 0) {
                    throw new CheckpointFormatException(path, "tensor '" + name + "' has a negative dimension");
                }
            }
            JsonArray off = o.get("data_offsets").getAsJsonArray();
            if (off.size() != 2) {
                throw new CheckpointFormatException(path, "tensor '" + name + "' needs two data_offsets");
            }
            Shape s = Shape.of(shape);
            long begin = off.get(0).getAsLong();
            long end = off.get(1).getAsLong();
            if (end - begin != s.size() * dtype.dtype().byteSize()) {
                throw new CheckpointFormatException(path, "tensor '" + name + "' of shape " + s + " " + code
                        + " needs " + s.size() * dtype.dtype().byteSize() + " bytes, its offsets span " + (end - begin));
            }
            return new Entry(name, dtype, s, begin, end);
        } catch (NullPointerException | IllegalStateException | UnsupportedOperationException
                | NumberFormatException | ArithmeticException e) {
            throw new CheckpointFormatException(path, "tensor '" + name + "' has a malformed entry: " + value);
        }
    }

    /** The byte ranges must tile the data section exactly: in order, without gaps or overlaps. */
    private static void checkLayout(Path path, Map<String, Entry> entries, long dataBytes)
            throws CheckpointFormatException {
        long expected = 0;
        for (Entry e : entries.values().stream().sorted((a, b) -> Long.compare(a.begin, b.begin)).toList()) {
            if (e.begin != expected) {
                throw new CheckpointFormatException(path, "tensor '" + e.name + "' starts at byte " + e.begin
                        + " of the data section, expected " + expected + " (overlap or gap)");
            }
            expected = e.end;
        }
        if (expected != dataBytes) {
            throw new CheckpointFormatException(path, "tensors cover " + expected + " bytes but the data section has "
                    + dataBytes + " (truncated or trailing bytes)");
        }
    }
}
