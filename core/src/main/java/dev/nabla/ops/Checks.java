package dev.nabla.ops;

import dev.nabla.DType;
import dev.nabla.Tensor;

/** Argument checks shared by the ops; every message names the op. */
final class Checks {
    private Checks() {
    }

    /** Both tensors open, on one device, of one dtype. */
    static void sameDeviceAndDtype(String op, Tensor a, Tensor b) {
        a.storage(op);
        b.storage(op);
        sameDevice(op, a, b);
        if (a.dtype() != b.dtype()) {
            throw new IllegalArgumentException(op + ": dtype mismatch: " + a.dtype() + " " + a.shape() + " vs "
                    + b.dtype() + " " + b.shape() + " (cast one with to(DType))");
        }
    }

    static void sameDevice(String op, Tensor a, Tensor b) {
        if (!a.device().equals(b.device())) {
            throw new IllegalArgumentException(op + ": tensors are on different devices: " + a.device() + " "
                    + a.shape() + " and " + b.device() + " " + b.shape());
        }
    }

    static void floating(String op, Tensor t) {
        if (!t.dtype().isFloating()) {
            throw new IllegalArgumentException(op + ": expected a float32 or float64 tensor, got " + t.dtype() + " "
                    + t.shape());
        }
    }

    static void notBool(String op, Tensor t) {
        if (t.dtype() == DType.BOOL) {
            throw new IllegalArgumentException(op + ": not defined for bool tensors " + t.shape());
        }
    }

    static void dtype(String op, String what, Tensor t, DType expected) {
        if (t.dtype() != expected) {
            throw new IllegalArgumentException(op + ": " + what + " must be " + expected + ", got " + t.dtype() + " "
                    + t.shape());
        }
    }

    /** A checked int size for host arrays and index math. */
    static int intSize(String op, long size) {
        if (size > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException(op + ": " + size + " elements exceed the 2^31 limit of one tensor");
        }
        return (int) size;
    }
}
