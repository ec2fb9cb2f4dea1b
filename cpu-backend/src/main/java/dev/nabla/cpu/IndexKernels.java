package dev.nabla.cpu;

import dev.nabla.DType;
import dev.nabla.backend.IndexCheck;

/**
 * Gather and scatter-add over {@code (outer, axisSize, inner)} views. Convolutions gather single elements
 * ({@code inner == 1}) millions of times per batch, so float32 has direct loops; the work splits over {@code outer},
 * whose slices never overlap, so scatter-add needs no atomics.
 */
final class IndexKernels {
    private IndexKernels() {
    }

    /**
     * Throws {@code check}'s error for the first index outside {@code [0, axisSize)}, before anything is written.
     * The common case, every index inside, is one pass for the least and the greatest index, which C2 vectorizes: a
     * loop that stops at the first bad index is not, and checking W7's first max pooling (200,704 choices) took
     * 68 us that way against 7.5 us (single thread, Zen 4), while the worker thread waited.
     */
    static void checkIndices(int[] idx, int count, long axisSize, IndexCheck check) {
        int least = Integer.MAX_VALUE;
        int greatest = Integer.MIN_VALUE;
        for (int j = 0; j < count; j++) {
            least = Math.min(least, idx[j]);
            greatest = Math.max(greatest, idx[j]);
        }
        if (count == 0 || (least >= 0 && greatest < axisSize)) {
            return;
        }
        for (int j = 0; j < count; j++) {
            if (idx[j] < 0 || idx[j] >= axisSize) {
                throw check.error(idx[j], j, axisSize);
            }
        }
    }

    private static int grain(int count, int inner) {
        return Math.max(1, Parallel.ELEMENTWISE_GRAIN / Math.max(1, count * inner));
    }

    static void gather(CpuBuffer s, int outer, int axisSize, int inner, int[] idx, int count, CpuBuffer o) {
        if (s.dtype() == DType.FLOAT32 && inner == 1) {
            float[] src = s.floats();
            float[] dst = o.floats();
            if (outer == 1) {
                // one long list of elements (max pooling's choices): the list is split instead, at a quarter of the
                // element-wise grain, since each element is an index read and a load from elsewhere: W7's first
                // pooling (200,704 choices) took 98-127 us on one thread, 65-107 on two (medians, 8 alternations)
                Parallel.range(count, Parallel.ELEMENTWISE_GRAIN / 4, (lo, hi) -> {
                    for (int j = lo; j < hi; j++) {
                        dst[j] = src[idx[j]];
                    }
                });
                return;
            }
            Parallel.range(outer, grain(count, 1), (lo, hi) -> {
                for (int b = lo; b < hi; b++) {
                    int from = b * axisSize;
                    int to = b * count;
                    for (int j = 0; j < count; j++) {
                        dst[to + j] = src[from + idx[j]];
                    }
                }
            });
            return;
        }
        Object src = s.live();
        Object dst = o.live();
        Parallel.range(outer, grain(count, inner), (lo, hi) -> {
            for (int b = lo; b < hi; b++) {
                for (int j = 0; j < count; j++) {
                    System.arraycopy(src, (b * axisSize + idx[j]) * inner, dst, (b * count + j) * inner, inner);
                }
            }
        });
    }

    static void scatterAdd(CpuBuffer d, int outer, int axisSize, int inner, int[] idx, int count, CpuBuffer s) {
        if (d.dtype() == DType.FLOAT32) {
            float[] dst = d.floats();
            float[] src = s.floats();
            if (inner == 1) {
                // single elements (max pooling's gradient, col2im's default): a loop over one element per index cost
                // several ns of entry and exit each
                Parallel.range(outer, grain(count, 1), (lo, hi) -> {
                    for (int b = lo; b < hi; b++) {
                        int to = b * axisSize;
                        int from = b * count;
                        for (int j = 0; j < count; j++) {
                            dst[to + idx[j]] += src[from + j];
                        }
                    }
                });
                return;
            }
            Parallel.range(outer, grain(count, inner), (lo, hi) -> {
                for (int b = lo; b < hi; b++) {
                    for (int j = 0; j < count; j++) {
                        int to = (b * axisSize + idx[j]) * inner;
                        int from = (b * count + j) * inner;
                        for (int i = 0; i < inner; i++) {
                            dst[to + i] += src[from + i];
                        }
                    }
                }
            });
            return;
        }
        // FLOAT64 and INT32 are rare here (FLOAT32 is col2im's hot loop above): one walk, a per-row body by dtype
        SliceBody add = d.dtype() == DType.INT32 ? intAdd(d.ints(), s.ints(), inner) : (to, from) -> {
            for (int i = 0; i < inner; i++) {
                d.set(to + i, d.get(to + i) + s.get(from + i));
            }
        };
        Parallel.range(outer, grain(count, inner), (lo, hi) -> {
            for (int b = lo; b < hi; b++) {
                for (int j = 0; j < count; j++) {
                    add.run((b * axisSize + idx[j]) * inner, (b * count + j) * inner);
                }
            }
        });
    }

    /** Adds one inner row of the source at {@code from} to the destination at {@code to}. */
    @FunctionalInterface
    private interface SliceBody {
        void run(int to, int from);
    }

    /** INT32 rows add with wrap-around, as CUDA's atomicAdd does (through double they saturated). */
    private static SliceBody intAdd(int[] dst, int[] src, int inner) {
        return (to, from) -> {
            for (int i = 0; i < inner; i++) {
                dst[to + i] += src[from + i];
            }
        };
    }
}
