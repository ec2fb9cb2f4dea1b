package dev.nabla.cuda;

import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUstream;

/**
 * JCuda handles whose raw addresses we need: kernels and cuBLAS take device pointers and streams as plain 64-bit
 * values, and JCuda exposes the address only to subclasses.
 */
final class DevicePointer extends CUdeviceptr {
    /** The device address this pointer holds (0 before {@code cuMemAlloc} filled it). */
    long address() {
        return getNativePointer() + getByteOffset();
    }

    /** A stream whose {@code CUstream} handle value can be handed to cuBLAS. */
    static final class Stream extends CUstream {
        long address() {
            return getNativePointer();
        }
    }
}
