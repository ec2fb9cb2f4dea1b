package dev.nabla.io;

import dev.nabla.DType;
import java.util.Set;

/**
 * The safetensors element types Nabla reads, with their size in the file and the {@link DType} they load as.
 * F16 and BF16 have no Nabla dtype yet; they widen exactly to FLOAT32, which is how PyTorch and Hugging Face
 * checkpoints usually arrive.
 */
enum StoredType {
    F32(4, DType.FLOAT32),
    F64(8, DType.FLOAT64),
    I32(4, DType.INT32),
    BOOL(1, DType.BOOL),
    F16(2, DType.FLOAT32),
    BF16(2, DType.FLOAT32);

    /** Types the safetensors specification defines that Nabla cannot load (no matching dtype, or no exact one). */
    static final Set<String> UNSUPPORTED = Set.of("U8", "I8", "I16", "U16", "U32", "I64", "U64", "C64", "F8_E5M2",
            "F8_E4M3", "F8_E8M0", "F6_E2M3", "F6_E3M2", "F4");

    final int byteSize;
    final DType dtype;

    StoredType(int byteSize, DType dtype) {
        this.byteSize = byteSize;
        this.dtype = dtype;
    }

    /** The type a tensor of {@code t} is saved as. */
    static StoredType of(DType t) {
        return switch (t) {
            case FLOAT32 -> F32;
            case FLOAT64 -> F64;
            case INT32 -> I32;
            case BOOL -> BOOL;
        };
    }

    /** The type named {@code name} in a header, or null when Nabla does not read it. */
    static StoredType parse(String name) {
        for (StoredType t : values()) {
            if (t.name().equals(name)) {
                return t;
            }
        }
        return null;
    }
}
