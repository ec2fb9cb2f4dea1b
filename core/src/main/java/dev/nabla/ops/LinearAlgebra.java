package dev.nabla.ops;

import dev.nabla.Shape;
import dev.nabla.Tensor;
import dev.nabla.autograd.Recorder;
import dev.nabla.backend.Backend;
import dev.nabla.internal.TensorAccess;
import java.util.Arrays;

/** Batched matrix multiplication with optional transposed operands. */
public final class LinearAlgebra {
    private LinearAlgebra() {
    }

    /**
     * {@code op(a) @ op(b)} where {@code op} transposes the last two axes when its flag is set; batch dimensions
     * broadcast. The flags let gradients use transposed operands without copying them.
     */
    public static Tensor matmul(Tensor a, Tensor b, boolean transposeA, boolean transposeB) {
        String op = "matmul";
        Checks.sameDeviceAndDtype(op, a, b);
        Checks.notBool(op, a);
        if (a.rank() < 2 || b.rank() < 2) {
            throw new IllegalArgumentException(op + ": operands need rank >= 2, got " + a.shape() + " @ "
                    + b.shape());
        }
        long m = a.shape().dim(transposeA ? -1 : -2);
        long k = a.shape().dim(transposeA ? -2 : -1);
        long kb = b.shape().dim(transposeB ? -1 : -2);
        long n = b.shape().dim(transposeB ? -2 : -1);
        if (k != kb) {
            throw new IllegalArgumentException(op + ": inner dimensions differ: " + a.shape()
                    + (transposeA ? "ᵀ" : "") + " @ " + b.shape() + (transposeB ? "ᵀ" : "") + " (" + k + " vs "
                    + kb + ")");
        }
        Shape aBatch = Shape.of(Arrays.copyOf(a.shape().dims(), a.rank() - 2));
        Shape bBatch = Shape.of(Arrays.copyOf(b.shape().dims(), b.rank() - 2));
        Shape batch = Broadcasting.shape(op, aBatch, bBatch);
        long[] outDims = Arrays.copyOf(batch.dims(), batch.rank() + 2);
        outDims[batch.rank()] = m;
        outDims[batch.rank() + 1] = n;
        Backend backend = TensorAccess.backend(a);
        Tensor out = Creation.empty(op, backend, a.dtype(), Shape.of(outDims));
        backend.matmul(TensorAccess.buffer(a, op), batchStrides(aBatch, batch, m * k), transposeA, TensorAccess.buffer(b, op),
                batchStrides(bBatch, batch, k * n), transposeB, TensorAccess.buffer(out, op), batch.dims(), m, k, n);
        if (a.dtype().isFloating()) {
            Recorder.record(op, new Tensor[] {a, b}, out, (g, needed) -> {
                // with C = op(A) op(B): dA and dB below are the four transpose cases of dC op(B)^T and op(A)^T dC
                Tensor ga = null;
                Tensor gb = null;
                if (needed[0]) {
                    ga = transposeA ? matmul(b, g, transposeB, true) : matmul(g, b, false, !transposeB);
                }
                if (needed[1]) {
                    gb = transposeB ? matmul(g, a, true, transposeA) : matmul(a, g, !transposeA, false);
                }
                return new Tensor[] {
                    ga == null ? null : Broadcasting.sumToShape(ga, a.shape()),
                    gb == null ? null : Broadcasting.sumToShape(gb, b.shape())
                };
            });
        }
        return out;
    }

    private static long[] batchStrides(Shape own, Shape batch, long matrixSize) {
        long[] s = Broadcasting.strides(own, batch);
        for (int i = 0; i < s.length; i++) {
            s[i] *= matrixSize;
        }
        return s;
    }
}
