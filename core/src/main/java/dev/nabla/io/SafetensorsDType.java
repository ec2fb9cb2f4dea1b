package dev.nabla.io;

import dev.nabla.DType;
import dev.nabla.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** The safetensors dtype codes Nabla reads and writes, and their little-endian encodings. */
enum SafetensorsDType {
    F32(DType.FLOAT32),
    F64(DType.FLOAT64),
    I32(DType.INT32),
    BOOL(DType.BOOL);

    private final DType dtype;

    SafetensorsDType(DType dtype) {
        this.dtype = dtype;
    }

    DType dtype() {
        return dtype;
    }

    String code() {
        return name();
    }

    static SafetensorsDType of(DType t) {
        for (SafetensorsDType s : values()) {
            if (s.dtype == t) {
                return s;
            }
        }
        throw new IllegalArgumentException("no safetensors code for " + t);
    }

    /** Null for a code Nabla does not read. */
    static SafetensorsDType fromCode(String code) {
        for (SafetensorsDType s : values()) {
            if (s.name().equals(code)) {
                return s;
            }
        }
        return null;
    }

    /** The tensor's elements, little-endian, ready to write. */
    ByteBuffer encode(Tensor t) {
        int n = Math.toIntExact(t.size());
        ByteBuffer b = ByteBuffer.allocate(n * dtype.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
        switch (this) {
            case F32 -> b.asFloatBuffer().put(t.toFloatArray());
            case F64 -> b.asDoubleBuffer().put(t.toDoubleArray());
            case I32 -> b.asIntBuffer().put(t.toIntArray());
            case BOOL -> {
                for (int v : t.toIntArray()) {
                    b.put((byte) (v != 0 ? 1 : 0));
                }
                b.rewind();
            }
        }
        return b;
    }

    /** A host array ({@code float[]}, {@code double[]}, {@code int[]}, {@code boolean[]}) of {@code n} elements. */
    Object decode(ByteBuffer b, long n) {
        int count = Math.toIntExact(n);
        return switch (this) {
            case F32 -> {
                float[] a = new float[count];
                b.asFloatBuffer().get(a);
                yield a;
            }
            case F64 -> {
                double[] a = new double[count];
                b.asDoubleBuffer().get(a);
                yield a;
            }
            case I32 -> {
                int[] a = new int[count];
                b.asIntBuffer().get(a);
                yield a;
            }
            case BOOL -> {
                boolean[] a = new boolean[count];
                for (int i = 0; i < count; i++) {
                    a[i] = b.get(i) != 0;
                }
                yield a;
            }
        };
    }
}
