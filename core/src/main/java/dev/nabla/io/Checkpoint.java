package dev.nabla.io;

import dev.nabla.Device;
import dev.nabla.Tensor;
import dev.nabla.backend.Backends;
import dev.nabla.ops.Checks;
import dev.nabla.ops.Creation;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Saves and loads named tensors as <a href="https://github.com/huggingface/safetensors">safetensors</a> files, the
 * format of Hugging Face and PyTorch checkpoints: PyTorch's {@code safetensors.torch.load_file} reads what
 * {@link #save} writes, and {@link #load} reads theirs.
 *
 * <pre>{@code
 * Path file = Path.of("weights.safetensors");
 * Map<String, Tensor> tensors = new LinkedHashMap<>();
 * tensors.put("dense.kernel", Tensor.ones(3, 2));
 * tensors.put("steps", Tensor.scalar(100));
 * Checkpoint.save(file, tensors, Map.of("epoch", "7"));
 *
 * Map<String, Tensor> back = Checkpoint.load(file, Device.cpu());   // file order: dense.kernel, steps
 * System.out.println(back.get("steps"));                            // Tensor(100, shape=(), dtype=int32)
 * System.out.println(Checkpoint.metadata(file));                    // {epoch=7}
 * }</pre>
 *
 * <p>Dtypes are stored as FLOAT32 {@code F32}, FLOAT64 {@code F64}, INT32 {@code I32} and BOOL {@code BOOL} (one
 * byte, 0 or 1). Files holding {@code F16} or {@code BF16} load as FLOAT32 (exactly: both widen without rounding);
 * other safetensors dtypes ({@code I64}, {@code U8}, ...) are refused with a {@link CheckpointFormatException}
 * naming the tensor.
 *
 * <p>Saving is atomic: the file is written beside its destination under a temporary name, forced to the disk, and
 * renamed over the destination, so a crash or an error midway leaves any previous checkpoint whole. Loading
 * validates the whole header (dtypes, shapes against byte ranges, ranges tiling the data section) before it creates
 * a tensor, and a load that fails closes the tensors it had made.
 */
public final class Checkpoint {
    private Checkpoint() {
    }

    /** Opens {@link #save}'s temporary file; a seam for tests that make the channel fail at chosen bytes. */
    interface TempFileOpener {
        FileChannel open(Path temp) throws IOException;
    }

    /** How {@link #save} opens its temporary file: a new file, for writing. Tests replace it (package-private). */
    static volatile TempFileOpener tempFiles =
            temp -> FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);

    /** Saves {@code tensors} to {@code path}, in the map's iteration order, without metadata. */
    public static void save(Path path, Map<String, Tensor> tensors) throws IOException {
        save(path, tensors, Map.of());
    }

    /**
     * Saves {@code tensors} and the string map {@code metadata} (the header's {@code __metadata__}) to {@code path},
     * replacing it atomically. Tensors appear in the file in the map's iteration order.
     *
     * @throws IllegalArgumentException for the reserved name {@code __metadata__}, {@link NullPointerException}
     *                                  for a null argument, name or tensor, and {@link IllegalStateException} for a
     *                                  closed tensor, before anything is written
     * @throws IOException              when the file cannot be written; an existing {@code path} is left as it was
     */
    public static void save(Path path, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
        Checks.notNull("save", "path", path);
        Checks.notNullEntries("save", "tensors", tensors);
        Checks.notNullEntries("save", "metadata", metadata);
        List<SafetensorsHeader.Entry> entries = layout(tensors);
        ByteBuffer header = SafetensorsHeader.encode(entries, metadata);

        Path target = path.toAbsolutePath();
        Path dir = target.getParent();
        Files.createDirectories(dir); // a checkpoint often goes to a fresh folder (runs/<timestamp>/)
        // same folder: a rename is only atomic within one file system; a dot name keeps it out of listings
        Path temp = dir.resolve("." + target.getFileName() + "."
                + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong()) + ".tmp");
        boolean moved = false;
        try {
            try (FileChannel ch = tempFiles.open(temp)) {
                while (header.hasRemaining()) {
                    ch.write(header);
                }
                TensorBytes bytes = new TensorBytes();
                for (SafetensorsHeader.Entry e : entries) {
                    bytes.write(ch, tensors.get(e.name()), e.type());
                }
                // data must be on the disk before the rename is: otherwise a crash can leave the new name on an
                // empty or partial file, which is worse than keeping the old checkpoint
                ch.force(true);
            }
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            moved = true;
        } finally {
            if (!moved) {
                try {
                    Files.deleteIfExists(temp);
                } catch (IOException cleanup) {
                    // the original failure matters more; the stray temp file has a name that says what it is
                }
            }
        }
        syncDirectory(dir);
    }

    /** Loads every tensor of {@code path} onto the default device, in file order. */
    public static Map<String, Tensor> load(Path path) throws IOException {
        return load(path, Device.defaultDevice());
    }

    /**
     * Loads every tensor of {@code path} onto {@code device}; the map iterates in the file's header order.
     *
     * @throws CheckpointFormatException when the file is not a valid safetensors file or holds a dtype Nabla cannot
     *                                   load; no tensor is left behind
     */
    public static Map<String, Tensor> load(Path path, Device device) throws IOException {
        Checks.notNull("load", "path", path);
        Checks.notNull("load", "device", device);
        Backends.get(device); // an unusable device fails here, before the file is read
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            SafetensorsHeader header = SafetensorsHeader.read(path, ch);
            Map<String, Tensor> out = new LinkedHashMap<>();
            boolean complete = false;
            try {
                TensorBytes bytes = new TensorBytes();
                for (SafetensorsHeader.Entry e : header.entries) {
                    Object host = bytes.read(path, ch, header.dataStart, e);
                    out.put(e.name(), Creation.withShape(device, host, e.shape()));
                }
                complete = true;
            } finally {
                if (!complete) {
                    out.values().forEach(Tensor::close);
                }
            }
            return out;
        }
    }

    /** The {@code __metadata__} strings of {@code path} (empty when it has none), after validating its header. */
    public static Map<String, String> metadata(Path path) throws IOException {
        Checks.notNull("metadata", "path", path);
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            return SafetensorsHeader.read(path, ch).metadata;
        }
    }

    /** Checks names and tensors, and assigns consecutive byte ranges in iteration order. */
    private static List<SafetensorsHeader.Entry> layout(Map<String, Tensor> tensors) {
        List<SafetensorsHeader.Entry> entries = new ArrayList<>(tensors.size());
        long offset = 0;
        for (Map.Entry<String, Tensor> te : tensors.entrySet()) {
            String name = te.getKey();
            Tensor t = te.getValue();
            if (name.equals(SafetensorsHeader.METADATA_KEY)) {
                throw new IllegalArgumentException("save: '" + name + "' is reserved for the metadata map");
            }
            if (t.isClosed()) {
                // IllegalStateException, as for every other use of a closed tensor (API.md)
                throw new IllegalStateException("save: tensor '" + name + "' " + t.shape() + " was used after close()");
            }
            StoredType type = StoredType.of(t.dtype());
            long end = offset + Math.multiplyExact(t.size(), type.byteSize);
            entries.add(new SafetensorsHeader.Entry(name, type, t.shape(), offset, end));
            offset = end;
        }
        return entries;
    }

    /**
     * Forces the folder entry of the rename to the disk, so that after a crash the name points at the new file.
     * Best effort: some platforms (Windows) cannot open a folder as a channel, and there the rename is all we have.
     */
    private static void syncDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException | UnsupportedOperationException e) {
            // see above: durability of the rename is not guaranteed here, atomicity still is
        }
    }
}
