package dev.nabla;

/**
 * Thrown when a device cannot allocate a buffer even after its allocator freed its cache and retried.
 *
 * <pre>{@code
 * try { Tensor big = Tensor.zeros(1L << 40); } catch (OutOfDeviceMemoryException e) { System.err.println(e.getMessage()); }
 * }</pre>
 */
public class OutOfDeviceMemoryException extends RuntimeException {
    private final long requestedBytes;
    private final long availableBytes;

    /** An exception for a request of {@code requestedBytes} when {@code availableBytes} were free. */
    public OutOfDeviceMemoryException(Device device, long requestedBytes, long availableBytes) {
        super("out of memory on " + device + ": requested " + requestedBytes + " bytes, "
                + (availableBytes >= 0 ? availableBytes + " bytes available" : "available size unknown"));
        this.requestedBytes = requestedBytes;
        this.availableBytes = availableBytes;
    }

    /** Bytes the failed allocation asked for. */
    public long requestedBytes() {
        return requestedBytes;
    }

    /** Bytes the device reported free, or -1 when unknown. */
    public long availableBytes() {
        return availableBytes;
    }
}
