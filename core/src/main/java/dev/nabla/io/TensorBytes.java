package dev.nabla.io;

import dev.nabla.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;

/**
 * Moves tensor elements between host arrays and a file, little-endian and row-major, through one reusable direct
 * buffer: bulk puts and gets on typed views, so a large tensor costs a few memcpy-like passes rather than a
 * method call per element, and never needs a byte array as large as itself.
 */
final class TensorBytes {
    /** A multiple of every element size; large enough that a write is not dominated by system-call overhead. */
    private static final int CHUNK = 1 << 20;
    private final ByteBuffer buf = ByteBuffer.allocateDirect(CHUNK).order(ByteOrder.LITTLE_ENDIAN);

    /** Appends the elements of {@code t} at the channel's position. */
    void write(FileChannel ch, Tensor t, StoredType type) throws IOException {
        Object host = switch (type) {
            case F32 -> t.toFloatArray();
            case F64 -> t.toDoubleArray();
            case I32, BOOL -> t.toIntArray();
            case F16, BF16 -> throw new IllegalStateException("Nabla never writes " + type);
        };
        int n = java.lang.reflect.Array.getLength(host);
        int perChunk = CHUNK / type.byteSize;
        for (int off = 0; off < n; off += perChunk) {
            int count = Math.min(perChunk, n - off);
            buf.clear();
            switch (type) {
                case F32 -> buf.asFloatBuffer().put((float[]) host, off, count);
                case F64 -> buf.asDoubleBuffer().put((double[]) host, off, count);
                case I32 -> buf.asIntBuffer().put((int[]) host, off, count);
                case BOOL -> {
                    int[] bits = (int[]) host;
                    for (int i = 0; i < count; i++) {
                        buf.put(i, (byte) (bits[off + i] != 0 ? 1 : 0));
                    }
                }
                default -> throw new IllegalStateException("Nabla never writes " + type);
            }
            buf.limit(count * type.byteSize);
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
        }
    }

    /** The elements of {@code e} as a host array of its load dtype: float[], double[], int[] or boolean[]. */
    Object read(Path file, FileChannel ch, long dataStart, SafetensorsHeader.Entry e) throws IOException {
        int n = (int) e.elements();
        Object host = switch (e.type().dtype) {
            case FLOAT32 -> new float[n];
            case FLOAT64 -> new double[n];
            case INT32 -> new int[n];
            case BOOL -> new boolean[n];
        };
        int size = e.type().byteSize;
        int perChunk = CHUNK / size;
        long position = dataStart + e.begin();
        for (int off = 0; off < n; off += perChunk) {
            int count = Math.min(perChunk, n - off);
            buf.clear().limit(count * size);
            while (buf.hasRemaining()) {
                if (ch.read(buf, position + buf.position()) < 0) {
                    throw new CheckpointFormatException(file, "tensor '" + e.name() + "': the file ends at byte "
                            + (position + buf.position()) + " (truncated while loading?)");
                }
            }
            buf.flip();
            decode(file, e, host, off, count);
            position += (long) count * size;
        }
        return host;
    }

    private void decode(Path file, SafetensorsHeader.Entry e, Object host, int off, int count)
            throws CheckpointFormatException {
        switch (e.type()) {
            case F32 -> buf.asFloatBuffer().get((float[]) host, off, count);
            case F64 -> buf.asDoubleBuffer().get((double[]) host, off, count);
            case I32 -> buf.asIntBuffer().get((int[]) host, off, count);
            case F16 -> {
                float[] out = (float[]) host;
                for (int i = 0; i < count; i++) {
                    out[off + i] = Float.float16ToFloat(buf.getShort(2 * i)); // exact: every half is a float
                }
            }
            case BF16 -> {
                float[] out = (float[]) host;
                for (int i = 0; i < count; i++) {
                    // bfloat16 is the top half of a float32, so widening is a shift
                    out[off + i] = Float.intBitsToFloat((buf.getShort(2 * i) & 0xFFFF) << 16);
                }
            }
            case BOOL -> {
                boolean[] out = (boolean[]) host;
                for (int i = 0; i < count; i++) {
                    byte b = buf.get(i);
                    // NOTE: PyTorch and NumPy write bools as exactly 0 or 1; any other byte means corrupt data
                    if (b != 0 && b != 1) {
                        throw new CheckpointFormatException(file, "BOOL tensor '" + e.name() + "' holds byte " + b
                                + " at element " + (off + i) + " (booleans are 0 or 1)");
                    }
                    out[off + i] = b == 1;
                }
            }
        }
    }
}
