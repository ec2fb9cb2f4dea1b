package dev.nabla.conformance;

import dev.nabla.conformance.OpArgs.Condition;
import dev.nabla.conformance.OpArgs.Gather;
import java.util.Arrays;
import java.util.List;

/**
 * Scalar references of the ops that move elements around (matmul, permute, slice, gather, concat...), written as
 * index arithmetic over {@link HostTensor}s.
 */
final class Reference {
    private Reference() {
    }

    /** Axes mapped into [0, rank); null means all. */
    static int[] normalize(int[] axes, int rank) {
        if (axes == null) {
            return HostTensor.range(rank);
        }
        return Arrays.stream(axes).map(a -> a < 0 ? a + rank : a).toArray();
    }

    /** C[batch, i, j] = sum_p A[batch, i, p] B[batch, p, j], batch dimensions broadcasting. */
    static HostTensor matmul(HostTensor a, HostTensor b) {
        long[] as = a.shape();
        long[] bs = b.shape();
        long m = as[as.length - 2];
        long k = as[as.length - 1];
        long n = bs[bs.length - 1];
        long[] batch = HostTensor.broadcastShape(Arrays.copyOf(as, as.length - 2), Arrays.copyOf(bs, bs.length - 2));
        long[] out = Arrays.copyOf(batch, batch.length + 2);
        out[batch.length] = m;
        out[batch.length + 1] = n;
        long[] aBatch = Arrays.copyOf(as, as.length - 2);
        long[] bBatch = Arrays.copyOf(bs, bs.length - 2);
        return HostTensor.generate(out, idx -> {
            long[] bi = Arrays.copyOf(idx, batch.length);
            long aFlat = HostTensor.flatIndex(broadcastIndex(aBatch, bi), aBatch);
            long bFlat = HostTensor.flatIndex(broadcastIndex(bBatch, bi), bBatch);
            double acc = 0;
            for (long p = 0; p < k; p++) {
                acc += a.data()[(int) (aFlat * m * k + idx[batch.length] * k + p)]
                        * b.data()[(int) (bFlat * k * n + p * n + idx[batch.length + 1])];
            }
            return acc;
        });
    }

    /** The index into an array of {@code own} shape that a broadcast index {@code outIndex} reads. */
    private static long[] broadcastIndex(long[] own, long[] outIndex) {
        long[] r = new long[own.length];
        int lead = outIndex.length - own.length;
        for (int i = 0; i < own.length; i++) {
            r[i] = own[i] == 1 ? 0 : outIndex[lead + i];
        }
        return r;
    }

    static int[] swapLastTwo(int rank) {
        int[] p = HostTensor.range(rank);
        p[rank - 2] = rank - 1;
        p[rank - 1] = rank - 2;
        return p;
    }

    /** out[i_0, ..] = x[j] with j[perm[k]] = i_k. */
    static HostTensor permute(HostTensor x, int[] perm) {
        int[] p = normalize(perm, x.rank());
        long[] out = new long[p.length];
        for (int k = 0; k < p.length; k++) {
            out[k] = x.shape()[p[k]];
        }
        return HostTensor.generate(out, i -> {
            long[] j = new long[p.length];
            for (int k = 0; k < p.length; k++) {
                j[p[k]] = i[k];
            }
            return x.at(j);
        });
    }

    /** The dimensions with a -1 replaced by what makes {@code size} elements. */
    static long[] resolveMinusOne(long[] dims, long size) {
        long known = 1;
        int unknown = -1;
        for (int i = 0; i < dims.length; i++) {
            if (dims[i] == -1) {
                unknown = i;
            } else {
                known *= dims[i];
            }
        }
        long[] out = dims.clone();
        if (unknown >= 0) {
            out[unknown] = size / known;
        }
        return out;
    }

    static HostTensor expandDims(HostTensor x, int axis) {
        int a = axis < 0 ? axis + x.rank() + 1 : axis;
        long[] out = new long[x.rank() + 1];
        for (int i = 0, j = 0; i < out.length; i++) {
            out[i] = i == a ? 1 : x.shape()[j++];
        }
        return x.withShape(out);
    }

    static HostTensor squeeze(HostTensor x, int[] axes) {
        boolean[] drop = new boolean[x.rank()];
        for (int a : normalize(axes, x.rank())) {
            drop[a] = true;
        }
        if (axes.length == 0) {
            for (int i = 0; i < x.rank(); i++) {
                drop[i] = x.shape()[i] == 1;
            }
        }
        return x.withShape(Arrays.stream(HostTensor.range(x.rank())).filter(i -> !drop[i])
                .mapToLong(i -> x.shape()[i]).toArray());
    }

    static HostTensor slice(HostTensor x, long[] begin, long[] size) {
        long[] out = new long[x.rank()];
        for (int i = 0; i < out.length; i++) {
            out[i] = size[i] == -1 ? x.shape()[i] - begin[i] : size[i];
        }
        return HostTensor.generate(out, i -> {
            long[] j = new long[i.length];
            for (int k = 0; k < i.length; k++) {
                j[k] = i[k] + begin[k];
            }
            return x.at(j);
        });
    }

    /** Along the axis, element i of the result comes from the input whose running offset covers i. */
    static HostTensor concat(List<HostTensor> xs, int axis) {
        int a = normalize(new int[] {axis}, xs.get(0).rank())[0];
        long[] out = xs.get(0).shape().clone();
        out[a] = xs.stream().mapToLong(x -> x.shape()[a]).sum();
        return HostTensor.generate(out, i -> {
            long[] j = i.clone();
            for (HostTensor x : xs) {
                if (j[a] < x.shape()[a]) {
                    return x.at(j);
                }
                j[a] -= x.shape()[a];
            }
            throw new AssertionError("unreachable");
        });
    }

    /** out[.., k, ..] (k at the new axis) = xs[k][..]. */
    static HostTensor stack(List<HostTensor> xs, int axis) {
        int r = xs.get(0).rank();
        int a = axis < 0 ? axis + r + 1 : axis;
        long[] out = new long[r + 1];
        for (int i = 0, j = 0; i < out.length; i++) {
            out[i] = i == a ? xs.size() : xs.get(0).shape()[j++];
        }
        return HostTensor.generate(out, i -> {
            long[] j = new long[r];
            for (int k = 0, m = 0; k < i.length; k++) {
                if (k != a) {
                    j[m++] = i[k];
                }
            }
            return xs.get((int) i[a]).at(j);
        });
    }

    static HostTensor where(Condition c, HostTensor x, HostTensor y) {
        double[] cv = new double[c.values().length];
        for (int i = 0; i < cv.length; i++) {
            cv[i] = c.values()[i] ? 1 : 0;
        }
        HostTensor cond = new HostTensor(c.shape(), cv);
        long[] out = HostTensor.broadcastShape(c.shape(), x.shape(), y.shape());
        return HostTensor.generate(out, i -> cond.atBroadcast(i) != 0 ? x.atBroadcast(i) : y.atBroadcast(i));
    }

    /** out[pre, idx..., post] = x[pre, indices[idx...], post]. */
    static HostTensor gather(HostTensor x, Gather g) {
        int a = normalize(new int[] {g.axis()}, x.rank())[0];
        long[] xs = x.shape();
        long[] is = g.indicesShape();
        long[] out = new long[xs.length - 1 + is.length];
        System.arraycopy(xs, 0, out, 0, a);
        System.arraycopy(is, 0, out, a, is.length);
        System.arraycopy(xs, a + 1, out, a + is.length, xs.length - a - 1);
        return HostTensor.generate(out, i -> {
            long[] idx = Arrays.copyOfRange(i, a, a + is.length);
            long[] j = new long[xs.length];
            System.arraycopy(i, 0, j, 0, a);
            j[a] = g.indices()[HostTensor.flatIndex(idx, is)];
            System.arraycopy(i, a + is.length, j, a + 1, xs.length - a - 1);
            return x.at(j);
        });
    }

    /** out[..., k] = 1 where label == k, else 0 (labels outside [0, depth) give zero rows). */
    static HostTensor oneHot(HostTensor labels, int depth) {
        long[] out = Arrays.copyOf(labels.shape(), labels.rank() + 1);
        out[labels.rank()] = depth;
        return HostTensor.generate(out, i -> labels.at(Arrays.copyOf(i, labels.rank())) == i[labels.rank()] ? 1 : 0);
    }

    /** out[i] = x[i - begin] where 0 <= i - begin < x.shape on every axis, else 0. */
    static HostTensor pad(HostTensor x, long[] shape, long[] begin) {
        return HostTensor.generate(shape, i -> {
            long[] j = new long[i.length];
            for (int k = 0; k < i.length; k++) {
                j[k] = i[k] - begin[k];
                if (j[k] < 0 || j[k] >= x.shape()[k]) {
                    return 0;
                }
            }
            return x.at(j);
        });
    }

    /**
     * Zeros of the given shape, then for every index position idx of the indices and every pre/post position:
     * out[pre, indices[idx], post] += updates[pre, idx..., post] (the adjoint of gather: repeats add up).
     */
    static HostTensor scatterAdd(HostTensor updates, OpArgs.Scatter s) {
        long[] shape = s.shape();
        int a = normalize(new int[] {s.axis()}, shape.length)[0];
        int idxRank = s.indicesShape().length;
        double[] out = new double[(int) HostTensor.sizeOf(shape)];
        for (int u = 0; u < updates.data().length; u++) {
            long[] ui = HostTensor.multiIndex(u, updates.shape());
            long[] oi = new long[shape.length];
            System.arraycopy(ui, 0, oi, 0, a);
            oi[a] = s.indices()[HostTensor.flatIndex(Arrays.copyOfRange(ui, a, a + idxRank), s.indicesShape())];
            System.arraycopy(ui, a + idxRank, oi, a + 1, shape.length - a - 1);
            out[HostTensor.flatIndex(oi, shape)] += updates.data()[u];
        }
        return new HostTensor(shape.clone(), out);
    }
}
