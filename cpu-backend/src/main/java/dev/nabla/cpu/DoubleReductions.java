package dev.nabla.cpu;

import dev.nabla.backend.ReduceOp;
import java.util.Arrays;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vectorized SUM, MAX and MIN of FLOAT64 {@code (outer, n, inner)} into {@code (outer, inner)}: the twin of
 * {@link FloatReductions} without its blocking, since double lanes accumulate accurately enough on their own.
 */
final class DoubleReductions {
    private static final VectorSpecies<Double> D = DoubleLanes.D;
    /** Columns one task reduces when {@code inner > 1}. */
    private static final int COLUMN_TILE = 1024;

    private DoubleReductions() {
    }

    static void reduce(ReduceOp op, double[] x, int outer, int n, int inner, double[] y) {
        if (n == 0) {
            Arrays.fill(y, 0, outer * inner, 0);
        } else if (inner == 1) {
            contiguous(op, x, outer, n, y);
        } else {
            acrossRows(op, x, outer, n, inner, y);
        }
    }

    private static void contiguous(ReduceOp op, double[] x, int outer, int n, double[] y) {
        int pieces = Math.min(Parallel.THREADS, n / Parallel.ELEMENTWISE_GRAIN);
        if (outer >= Parallel.THREADS || pieces <= 1) {
            Parallel.range(outer, Math.max(1, Parallel.ELEMENTWISE_GRAIN / n), (lo, hi) -> {
                for (int r = lo; r < hi; r++) {
                    y[r] = span(op, x, r * n, n);
                }
            });
            return;
        }
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
                result = op == ReduceOp.SUM ? result + partial[p]
                        : op == ReduceOp.MAX ? Math.max(result, partial[p]) : Math.min(result, partial[p]);
            }
            y[r] = result;
        }
    }

    /** The reduction of {@code x[from, from + len)}, len > 0. */
    static double span(ReduceOp op, double[] x, int from, int len) {
        return op == ReduceOp.SUM ? sum(x, from, len) : extreme(op == ReduceOp.MAX, x, from, len);
    }

    private static double sum(double[] x, int from, int len) {
        int step = D.length();
        DoubleVector a0 = DoubleVector.zero(D);
        DoubleVector a1 = DoubleVector.zero(D);
        DoubleVector a2 = DoubleVector.zero(D);
        DoubleVector a3 = DoubleVector.zero(D);
        int i = from;
        for (int bound = from + (len / (4 * step)) * 4 * step; i < bound; i += 4 * step) {
            a0 = a0.add(DoubleVector.fromArray(D, x, i));
            a1 = a1.add(DoubleVector.fromArray(D, x, i + step));
            a2 = a2.add(DoubleVector.fromArray(D, x, i + 2 * step));
            a3 = a3.add(DoubleVector.fromArray(D, x, i + 3 * step));
        }
        for (int bound = from + D.loopBound(len); i < bound; i += step) {
            a0 = a0.add(DoubleVector.fromArray(D, x, i));
        }
        double s = a0.add(a1).add(a2.add(a3)).reduceLanes(VectorOperators.ADD);
        for (int end = from + len; i < end; i++) {
            s += x[i];
        }
        return s;
    }

    /** Max or min with Math.max/min semantics: NaN wins, and +0 is above -0. */
    private static double extreme(boolean max, double[] x, int from, int len) {
        int i = from;
        double best = x[from];
        if (len >= D.length()) {
            DoubleVector acc = DoubleVector.fromArray(D, x, from);
            for (int bound = from + D.loopBound(len); i < bound; i += D.length()) {
                DoubleVector v = DoubleVector.fromArray(D, x, i);
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
    private static void acrossRows(ReduceOp op, double[] x, int outer, int n, int inner, double[] y) {
        int tilesPerRow = (inner + COLUMN_TILE - 1) / COLUMN_TILE;
        int tasks = outer * tilesPerRow;
        long workPerTask = (long) n * Math.min(inner, COLUMN_TILE);
        int grain = (int) Math.max(1, Parallel.ELEMENTWISE_GRAIN / workPerTask);
        Parallel.range(tasks, grain, (lo, hi) -> {
            for (int t = lo; t < hi; t++) {
                int o = t / tilesPerRow;
                int c0 = (t % tilesPerRow) * COLUMN_TILE;
                int w = Math.min(COLUMN_TILE, inner - c0);
                foldRows(op, x, o * n * inner + c0, inner, n, y, o * inner + c0, w);
            }
        });
    }

    /** {@code dst[d + j] = op over k < n of x[base + k·stride + j]} for {@code j < w}. */
    private static void foldRows(ReduceOp op, double[] x, int base, int stride, int n, double[] dst, int d, int w) {
        System.arraycopy(x, base, dst, d, w);
        int bound = D.loopBound(w);
        for (int k = 1; k < n; k++) {
            int row = base + k * stride;
            int j = 0;
            for (; j < bound; j += D.length()) {
                DoubleVector acc = DoubleVector.fromArray(D, dst, d + j);
                DoubleVector v = DoubleVector.fromArray(D, x, row + j);
                (switch (op) {
                    case SUM -> acc.add(v);
                    case MAX -> acc.max(v);
                    default -> acc.min(v);
                }).intoArray(dst, d + j);
            }
            for (; j < w; j++) {
                double v = x[row + j];
                dst[d + j] = switch (op) {
                    case SUM -> dst[d + j] + v;
                    case MAX -> Math.max(dst[d + j], v);
                    default -> Math.min(dst[d + j], v);
                };
            }
        }
    }
}
