package dev.nabla.cpu;

import dev.nabla.backend.ReduceOp;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vectorized SUM, MAX and MIN of FLOAT32 {@code (outer, n, inner)} into {@code (outer, inner)}.
 *
 * <p>NOTE: float sums are blocked: each block of {@link #SUM_BLOCK} elements (or {@link #ROWS_PER_BLOCK} rows) is
 * summed in float across many vector lanes, so every lane adds only a few dozen values, and the block sums are
 * added in double. A plain float running sum stops growing at 2^24 (adding 1 to 16777216 rounds back) and drifts
 * by about n·2^-24 relative; this stays within a few float ulps of the double-precision sum.
 */
final class FloatReductions {
    private static final VectorSpecies<Float> F = FloatLanes.F;
    static final int SUM_BLOCK = 4096;
    static final int ROWS_PER_BLOCK = 64;
    /** Columns one task reduces when {@code inner > 1}: its float and double accumulators stay in L1. */
    private static final int COLUMN_TILE = 1024;

    private FloatReductions() {
    }

    static void reduce(ReduceOp op, float[] x, int outer, int n, int inner, float[] y) {
        if (n == 0) {
            Arrays.fill(y, 0, outer * inner, 0f);
        } else if (inner == 1) {
            contiguous(op, x, outer, n, y);
        } else {
            acrossRows(op, x, outer, n, inner, y);
        }
    }

    private static void contiguous(ReduceOp op, float[] x, int outer, int n, float[] y) {
        int pieces = Math.min(Parallel.THREADS, n / Parallel.ELEMENTWISE_GRAIN);
        if (outer >= Parallel.THREADS || pieces <= 1) {
            Parallel.range(outer, Math.max(1, Parallel.ELEMENTWISE_GRAIN / n), (lo, hi) -> {
                for (int r = lo; r < hi; r++) {
                    y[r] = (float) span(op, x, r * n, n);
                }
            });
            return;
        }
        // few long rows: split each row across the threads, then combine the pieces in a fixed order
        double[] partial = new double[pieces];
        for (int r = 0; r < outer; r++) {
            int base = r * n;
            Parallel.chunks(pieces, pieces, (lo, hi) -> {
                for (int p = lo; p < hi; p++) {
                    int from = (int) ((long) n * p / pieces);
                    int to = (int) ((long) n * (p + 1) / pieces);
                    partial[p] = span(op, x, base + from, to - from);
                }
            });
            double result = partial[0];
            for (int p = 1; p < pieces; p++) {
                result = combine(op, result, partial[p]);
            }
            y[r] = (float) result;
        }
    }

    private static double combine(ReduceOp op, double a, double b) {
        return switch (op) {
            case SUM -> a + b;
            case MAX -> Math.max(a, b);
            case MIN -> Math.min(a, b);
            case ARGMAX -> throw new IllegalArgumentException("argmax is not combined");
        };
    }

    /** The reduction of {@code x[from, from + len)}, len > 0. */
    static double span(ReduceOp op, float[] x, int from, int len) {
        return op == ReduceOp.SUM ? sum(x, from, len) : extreme(op == ReduceOp.MAX, x, from, len);
    }

    private static double sum(float[] x, int from, int len) {
        double total = 0;
        for (int start = from, end = from + len; start < end; start += SUM_BLOCK) {
            total += blockSum(x, start, Math.min(SUM_BLOCK, end - start));
        }
        return total;
    }

    /** Float sum of at most SUM_BLOCK elements over four vector accumulators (each lane adds few values). */
    private static float blockSum(float[] x, int from, int len) {
        int step = F.length();
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = FloatVector.zero(F);
        FloatVector a2 = FloatVector.zero(F);
        FloatVector a3 = FloatVector.zero(F);
        int i = from;
        for (int bound = from + (len / (4 * step)) * 4 * step; i < bound; i += 4 * step) {
            a0 = a0.add(FloatVector.fromArray(F, x, i));
            a1 = a1.add(FloatVector.fromArray(F, x, i + step));
            a2 = a2.add(FloatVector.fromArray(F, x, i + 2 * step));
            a3 = a3.add(FloatVector.fromArray(F, x, i + 3 * step));
        }
        for (int bound = from + F.loopBound(len); i < bound; i += step) {
            a0 = a0.add(FloatVector.fromArray(F, x, i));
        }
        float s = a0.add(a1).add(a2.add(a3)).reduceLanes(VectorOperators.ADD);
        for (int end = from + len; i < end; i++) {
            s += x[i];
        }
        return s;
    }

    /** Max or min with Math.max/min semantics: NaN wins, and +0 is above -0. */
    private static double extreme(boolean max, float[] x, int from, int len) {
        int i = from;
        float best = x[from];
        if (len >= F.length()) {
            FloatVector acc = FloatVector.fromArray(F, x, from);
            for (int bound = from + F.loopBound(len); i < bound; i += F.length()) {
                FloatVector v = FloatVector.fromArray(F, x, i);
                acc = max ? acc.max(v) : acc.min(v);
            }
            best = acc.reduceLanes(max ? VectorOperators.MAX : VectorOperators.MIN);
        }
        for (int end = from + len; i < end; i++) {
            best = max ? Math.max(best, x[i]) : Math.min(best, x[i]);
        }
        return best;
    }

    /** inner > 1: vector ops across whole rows, one task per (outer index, column tile). */
    private static void acrossRows(ReduceOp op, float[] x, int outer, int n, int inner, float[] y) {
        int tilesPerRow = (inner + COLUMN_TILE - 1) / COLUMN_TILE;
        int tasks = outer * tilesPerRow;
        long workPerTask = (long) n * Math.min(inner, COLUMN_TILE);
        int grain = (int) Math.max(1, Parallel.ELEMENTWISE_GRAIN / workPerTask);
        Parallel.range(tasks, grain, (lo, hi) -> {
            int width = Math.min(inner, COLUMN_TILE);
            float[] block = new float[width];
            double[] total = op == ReduceOp.SUM ? new double[width] : null;
            for (int t = lo; t < hi; t++) {
                int o = t / tilesPerRow;
                int c0 = (t % tilesPerRow) * COLUMN_TILE;
                int w = Math.min(COLUMN_TILE, inner - c0);
                int base = o * n * inner + c0;
                if (op == ReduceOp.SUM) {
                    Arrays.fill(total, 0, w, 0);
                    for (int k0 = 0; k0 < n; k0 += ROWS_PER_BLOCK) {
                        foldRows(op, x, base, inner, k0, Math.min(n, k0 + ROWS_PER_BLOCK), block, 0, w);
                        for (int j = 0; j < w; j++) {
                            total[j] += block[j];
                        }
                    }
                    for (int j = 0; j < w; j++) {
                        y[o * inner + c0 + j] = (float) total[j];
                    }
                } else {
                    foldRows(op, x, base, inner, 0, n, y, o * inner + c0, w);
                }
            }
        });
    }

    /** {@code dst[d + j] = op over k in [k0, k1) of x[base + k·stride + j]} for {@code j < w}. */
    private static void foldRows(ReduceOp op, float[] x, int base, int stride, int k0, int k1, float[] dst, int d,
            int w) {
        System.arraycopy(x, base + k0 * stride, dst, d, w);
        int bound = F.loopBound(w);
        for (int k = k0 + 1; k < k1; k++) {
            int row = base + k * stride;
            int j = 0;
            for (; j < bound; j += F.length()) {
                FloatVector acc = FloatVector.fromArray(F, dst, d + j);
                FloatVector v = FloatVector.fromArray(F, x, row + j);
                (switch (op) {
                    case SUM -> acc.add(v);
                    case MAX -> acc.max(v);
                    default -> acc.min(v);
                }).intoArray(dst, d + j);
            }
            for (; j < w; j++) {
                float v = x[row + j];
                dst[d + j] = switch (op) {
                    case SUM -> dst[d + j] + v;
                    case MAX -> Math.max(dst[d + j], v);
                    default -> Math.min(dst[d + j], v);
                };
            }
        }
    }
}
