package dev.nabla.summary;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;

/**
 * TFRecord framing: {@code uint64 length, uint32 masked_crc32c(length), payload, uint32 masked_crc32c(payload)}, all
 * little-endian, as TensorFlow's record writer and TensorBoard's reader expect.
 */
final class RecordWriter {
    private static final int MASK_DELTA = 0xa282ead8;
    private final OutputStream out;

    RecordWriter(OutputStream out) {
        this.out = out;
    }

    /** TensorFlow's masked CRC32C: rotated right by 15 bits plus a constant, so CRCs of CRCs stay well mixed. */
    static int maskedCrc(byte[] data, int offset, int length) {
        CRC32C crc = new CRC32C();
        crc.update(data, offset, length);
        int c = (int) crc.getValue();
        return ((c >>> 15) | (c << 17)) + MASK_DELTA;
    }

    void write(byte[] payload) throws IOException {
        ByteBuffer header = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
        header.putLong(payload.length);
        header.putInt(maskedCrc(header.array(), 0, 8));
        ByteBuffer footer = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
        footer.putInt(maskedCrc(payload, 0, payload.length));
        out.write(header.array());
        out.write(payload);
        out.write(footer.array());
    }
}
