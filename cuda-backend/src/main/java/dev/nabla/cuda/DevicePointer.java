package dev.nabla.cuda;

import jcuda.driver.CUcontext;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import jcuda.driver.CUstream;

/**
 * JCuda handles whose raw addresses we need: kernels and cuBLAS take device pointers and streams as plain 64-bit
 * values, {@link NativeLaunch} takes functions and contexts, and JCuda exposes the address only to subclasses.
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

    /** A kernel handle that {@link NativeLaunch} can pass by value. */
    static final class Function extends CUfunction {
        long address() {
            return getNativePointer();
        }
    }

    /** A context handle that {@link NativeLaunch} can make current by value. */
    static final class Context extends CUcontext {
        long address() {
            return getNativePointer();
        }
    }
}
