package dev.nabla.cpu;

import dev.nabla.backend.BinaryOp;
import dev.nabla.backend.ReduceOp;
import dev.nabla.backend.UnaryOp;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector API fast paths. Each method returns false when its case does not apply, and the caller falls back to the
 * generic scalar loop.
 */
final class VectorKernels {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    private VectorKernels() {
    }

    static String describeSpecies() {
        return F.toString();
    }

    static boolean unary(UnaryOp op, CpuBuffer x, CpuBuffer y) {
        return false;
    }

    static boolean binary(BinaryOp op, CpuBuffer a, long[] as, CpuBuffer b, long[] bs, CpuBuffer out, long[] shape) {
        return false;
    }

    static boolean reduce(ReduceOp op, CpuBuffer x, long outer, long n, long inner, CpuBuffer y) {
        return false;
    }
}
