package dev.nabla.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nabla.Device;
import dev.nabla.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A save interrupted at any byte loses nothing: the save fails, the previous checkpoint is byte for byte what it was
 * and loads, and no temporary file is left in the folder. The temporary file's channel fails after exactly k bytes
 * (a short write, then an error), for every k of the new file and at the final {@code force}, once with an
 * {@link IOException} and once by interrupting the saving thread (the real channel then closes itself with
 * {@link ClosedByInterruptException}, and the thread stays interrupted).
 */
class CheckpointInterruptionTest {
    enum Failure { IO_EXCEPTION, INTERRUPT }

    @AfterEach
    void restoreTheOpener() {
        Checkpoint.tempFiles = temp -> FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        Thread.interrupted();
    }

    private static Map<String, Tensor> tensors(int version) {
        Device cpu = Device.cpu();
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put("dense.kernel", Tensor.of(cpu, new float[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, version}, 3, 4));
        m.put("dense.bias", Tensor.of(cpu, new double[] {0.5, -0.25, version, 1e-3}, 4));
        m.put("step", Tensor.of(cpu, new int[] {100 * version}));
        m.put("mask", Tensor.of(cpu, new boolean[] {true, false, true, true, version == 2}));
        return m;
    }

    private static void assertHolds(Path file, int version) throws IOException {
        Map<String, Tensor> loaded = Checkpoint.load(file, Device.cpu());
        Map<String, Tensor> expected = tensors(version);
        assertEquals(List.copyOf(expected.keySet()), List.copyOf(loaded.keySet()));
        for (var e : expected.entrySet()) {
            Tensor got = loaded.get(e.getKey());
            assertEquals(e.getValue().shape(), got.shape(), e.getKey());
            assertEquals(e.getValue().dtype(), got.dtype(), e.getKey());
            assertArrayEquals(e.getValue().toDoubleArray(), got.toDoubleArray(), e.getKey());
        }
        assertEquals(Map.of("version", "" + version), Checkpoint.metadata(file));
    }

    private static List<Path> listing(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.sorted().toList();
        }
    }

    @Test
    void everyInterruptedSaveLeavesThePreviousCheckpointIntact(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("model.safetensors");
        Checkpoint.save(file, tensors(1), Map.of("version", "1"));
        byte[] previous = Files.readAllBytes(file);

        Path probe = Files.createDirectory(dir.resolve("probe")).resolve("v2.safetensors");
        Checkpoint.save(probe, tensors(2), Map.of("version", "2"));
        int size = (int) Files.size(probe);
        Files.delete(probe);
        Files.delete(probe.getParent());
        assertTrue(size >= 300 && size <= 600, "a small checkpoint: " + size + " bytes");

        for (Failure how : Failure.values()) {
            for (int k = 0; k <= size; k++) { // k == size: every byte written, the force fails
                int at = k;
                Checkpoint.tempFiles = temp -> new FailingChannel(
                        FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE), at, how);
                IOException e = assertThrows(IOException.class,
                        () -> Checkpoint.save(file, tensors(2), Map.of("version", "2")), how + " at byte " + k);
                if (how == Failure.INTERRUPT) {
                    assertInstanceOf(ClosedByInterruptException.class, e, "at byte " + k);
                    assertTrue(Thread.interrupted(), "the thread is still interrupted, at byte " + k);
                } else {
                    assertEquals("injected failure after " + k + " bytes", e.getMessage());
                }
                assertArrayEquals(previous, Files.readAllBytes(file), how + " at byte " + k);
                assertEquals(List.of(file), listing(dir), how + " at byte " + k + ": no temporary file left");
            }
        }
        assertHolds(file, 1);

        restoreTheOpener();
        Checkpoint.save(file, tensors(2), Map.of("version", "2"));
        assertHolds(file, 2);
        assertEquals(size, Files.size(file));
        assertEquals(List.of(file), listing(dir));
    }

    /** A channel that writes {@code budget} bytes and then fails, as {@code how} says. */
    private static final class FailingChannel extends FileChannel {
        private final FileChannel real;
        private final Failure how;
        private long budget;

        FailingChannel(FileChannel real, long budget, Failure how) {
            this.real = real;
            this.budget = budget;
            this.how = how;
        }

        private IOException fail(long written) throws IOException {
            if (how == Failure.INTERRUPT) {
                Thread.currentThread().interrupt();
                real.write(ByteBuffer.allocate(1)); // the real channel closes and throws ClosedByInterruptException
                throw new AssertionError("an interrupted FileChannel wrote");
            }
            return new IOException("injected failure after " + written + " bytes");
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            if (budget == 0 && src.hasRemaining()) {
                throw fail(real.position());
            }
            int n = (int) Math.min(budget, src.remaining());
            ByteBuffer part = src.slice().limit(n);
            while (part.hasRemaining()) {
                real.write(part);
            }
            src.position(src.position() + n);
            budget -= n;
            return n;
        }

        @Override
        public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
            long total = 0;
            for (int i = offset; i < offset + length; i++) {
                total += write(srcs[i]);
            }
            return total;
        }

        @Override
        public void force(boolean metaData) throws IOException {
            throw fail(real.position());
        }

        @Override
        public int read(ByteBuffer dst) throws IOException {
            return real.read(dst);
        }

        @Override
        public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
            return real.read(dsts, offset, length);
        }

        @Override
        public long position() throws IOException {
            return real.position();
        }

        @Override
        public FileChannel position(long newPosition) throws IOException {
            real.position(newPosition);
            return this;
        }

        @Override
        public long size() throws IOException {
            return real.size();
        }

        @Override
        public FileChannel truncate(long size) throws IOException {
            real.truncate(size);
            return this;
        }

        @Override
        public long transferTo(long position, long count, WritableByteChannel target) {
            throw new UnsupportedOperationException("not used by Checkpoint.save");
        }

        @Override
        public long transferFrom(ReadableByteChannel src, long position, long count) {
            throw new UnsupportedOperationException("not used by Checkpoint.save");
        }

        @Override
        public int read(ByteBuffer dst, long position) throws IOException {
            return real.read(dst, position);
        }

        @Override
        public int write(ByteBuffer src, long position) {
            throw new UnsupportedOperationException("not used by Checkpoint.save");
        }

        @Override
        public MappedByteBuffer map(MapMode mode, long position, long size) {
            throw new UnsupportedOperationException("not used by Checkpoint.save");
        }

        @Override
        public FileLock lock(long position, long size, boolean shared) {
            throw new UnsupportedOperationException("not used by Checkpoint.save");
        }

        @Override
        public FileLock tryLock(long position, long size, boolean shared) {
            throw new UnsupportedOperationException("not used by Checkpoint.save");
        }

        @Override
        protected void implCloseChannel() throws IOException {
            real.close();
        }
    }
}
