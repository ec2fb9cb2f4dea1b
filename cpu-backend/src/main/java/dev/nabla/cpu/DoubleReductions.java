package dev.nabla.cpu;

import dev.nabla.backend.ReduceOp;
import java.util.Arrays;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vectorized SUM, MAX and MIN of FLOAT64 {@code (outer, n, inner)} into {@code (outer, inner)}: the twin of
 * {@link FloatReductions}, summing in {@link SumOrder}'s order.
 */
final class DoubleReductions {
    private static final VectorSpecies<Double> D = DoubleLanes.D;

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
        if (op == ReduceOp.SUM) {
            contiguousSum(x, outer, n, y);
            return;
        }
        int pieces = Math.min(Parallel.THREADS, n / Parallel.ELEMENTWISE_GRAIN);
        if (outer >= Parallel.THREADS || pieces <= 1) {
            Parallel.range(outer, Math.max(1, Parallel.ELEMENTWISE_GRAIN / n), (lo, hi) -> {
                for (int r = lo; r < hi; r++) {
                    y[r] = extreme(op == ReduceOp.MAX, x, r * n, n);
                }
            });
            return;
        }
        // few long rows: split each row across the threads (max and min are exact, so the split cannot show)
        double[] partial = new double[pieces];
        for (int r = 0; r < outer; r++) {
            int base = r * n;
            Parallel.chunks(pieces, pieces, (lo, hi) -> {
                for (int p = lo; p < hi; p++) {
                    int from = (int) ((long) n * p / pieces);
                    int to = (int) ((long) n * (p + 1) / pieces);
                    partial[p] = extreme(op == ReduceOp.MAX, x, base + from, to - from);
                }
            });
            double result = partial[0];
            for (int p = 1; p < pieces; p++) {
                result = op == ReduceOp.MAX ? Math.max(result, partial[p]) : Math.min(result, partial[p]);
            }
            y[r] = result;
        }
    }

    /**
     * Row sums in {@link SumOrder}'s order: the blocks of every row are summed in parallel (any split gives the same
     * block sums), then each row adds its block sums in sequence.
     */
    private static void contiguousSum(double[] x, int outer, int n, double[] y) {
        int blocks = (n + SumOrder.BLOCK - 1) / SumOrder.BLOCK;
        if (blocks == 1) {
            Parallel.range(outer, Math.max(1, Parallel.ELEMENTWISE_GRAIN / n), (lo, hi) -> {
                double[] lanes = new double[SumOrder.LANES];
                for (int r = lo; r < hi; r++) {
                    y[r] = blockSum(x, r * n, n, lanes);
                }
            });
            return;
        }
        double[] sums = new double[outer * blocks];
        Parallel.range(outer * blocks, Math.max(1, Parallel.ELEMENTWISE_GRAIN / SumOrder.BLOCK), (lo, hi) -> {
            double[] lanes = new double[SumOrder.LANES];
            for (int t = lo; t < hi; t++) {
                int r = t / blocks;
                int from = (t % blocks) * SumOrder.BLOCK;
                sums[t] = blockSum(x, r * n + from, Math.min(SumOrder.BLOCK, n - from), lanes);
            }
        });
        for (int r = 0; r < outer; r++) {
            double total = 0;
            for (int b = 0; b < blocks; b++) {
                total += sums[r * blocks + b];
            }
            y[r] = total;
        }
    }

    /**
     * The sum of {@code x[from, from + len)}, {@code 0 < len <= BLOCK}, in {@link SumOrder}'s order: element
     * {@code i} goes to lane {@code i mod LANES}, so a vector of any width adds whole lanes in the same order as
     * the definition; {@code lanes} is scratch.
     */
    static double blockSum(double[] x, int from, int len, double[] lanes) {
        if (len < SumOrder.LANES) {
            return shortBlockSum(x, from, len, lanes);
        }
        int rows = len / SumOrder.LANES;
        int l = D.length();
        if (8 * l <= SumOrder.LANES) {
            // eight vectors a row where they fit in the lanes: a group then reads runs of eight vectors, as
            // FloatReductions does (four left gaps between the runs, which the prefetcher followed badly)
            for (int g = 0; g < SumOrder.LANES; g += 8 * l) {
                DoubleVector s0 = DoubleVector.zero(D);
                DoubleVector s1 = DoubleVector.zero(D);
                DoubleVector s2 = DoubleVector.zero(D);
                DoubleVector s3 = DoubleVector.zero(D);
                DoubleVector s4 = DoubleVector.zero(D);
                DoubleVector s5 = DoubleVector.zero(D);
                DoubleVector s6 = DoubleVector.zero(D);
                DoubleVector s7 = DoubleVector.zero(D);
                for (int r = 0, at = from + g; r < rows; r++, at += SumOrder.LANES) {
                    s0 = s0.add(DoubleVector.fromArray(D, x, at));
                    s1 = s1.add(DoubleVector.fromArray(D, x, at + l));
                    s2 = s2.add(DoubleVector.fromArray(D, x, at + 2 * l));
                    s3 = s3.add(DoubleVector.fromArray(D, x, at + 3 * l));
                    s4 = s4.add(DoubleVector.fromArray(D, x, at + 4 * l));
                    s5 = s5.add(DoubleVector.fromArray(D, x, at + 5 * l));
                    s6 = s6.add(DoubleVector.fromArray(D, x, at + 6 * l));
                    s7 = s7.add(DoubleVector.fromArray(D, x, at + 7 * l));
                }
                s0.intoArray(lanes, g);
                s1.intoArray(lanes, g + l);
                s2.intoArray(lanes, g + 2 * l);
                s3.intoArray(lanes, g + 3 * l);
                s4.intoArray(lanes, g + 4 * l);
                s5.intoArray(lanes, g + 5 * l);
                s6.intoArray(lanes, g + 6 * l);
                s7.intoArray(lanes, g + 7 * l);
            }
        } else if (4 * l <= SumOrder.LANES) {
            // NOTE: four lane groups at a time in registers, each running down all rows: the same additions in the
            // same order as lane by lane, without a store and reload of the lanes per row (512-bit floats: one
            // group is a whole row)
            for (int g = 0; g < SumOrder.LANES; g += 4 * l) {
                DoubleVector s0 = DoubleVector.zero(D);
                DoubleVector s1 = DoubleVector.zero(D);
                DoubleVector s2 = DoubleVector.zero(D);
                DoubleVector s3 = DoubleVector.zero(D);
                for (int r = 0, at = from + g; r < rows; r++, at += SumOrder.LANES) {
                    s0 = s0.add(DoubleVector.fromArray(D, x, at));
                    s1 = s1.add(DoubleVector.fromArray(D, x, at + l));
                    s2 = s2.add(DoubleVector.fromArray(D, x, at + 2 * l));
                    s3 = s3.add(DoubleVector.fromArray(D, x, at + 3 * l));
                }
                s0.intoArray(lanes, g);
                s1.intoArray(lanes, g + l);
                s2.intoArray(lanes, g + 2 * l);
                s3.intoArray(lanes, g + 3 * l);
            }
        } else {
            java.util.Arrays.fill(lanes, 0);
            for (int r = 0; r < rows; r++) {
                int at = from + r * SumOrder.LANES;
                for (int k = 0; k < SumOrder.LANES; k += l) {
                    DoubleVector.fromArray(D, lanes, k).add(DoubleVector.fromArray(D, x, at + k)).intoArray(lanes, k);
                }
            }
        }
        for (int j = 0, at = from + rows * SumOrder.LANES; j < len % SumOrder.LANES; j++) {
            lanes[j] += x[at + j];
        }
        for (int width = SumOrder.LANES / 2; width > 0; width /= 2) {
            for (int j = 0; j < width; j++) {
                lanes[j] += lanes[j + width];
            }
        }
        return lanes[0];
    }

    /**
     * {@link #blockSum} of fewer than {@code LANES} elements (a softmax's row of 10): one element per lane, and the
     * fold adds only lanes that hold one. The others are +0, and adding +0 leaves any lane as it is (a lane is never
     * -0: it starts at +0), so this is the same sum without the 63 adds and the vector set-up of a full block.
     */
    private static double shortBlockSum(double[] x, int from, int len, double[] lanes) {
        for (int j = 0; j < len; j++) {
            lanes[j] = 0d + x[from + j];
        }
        int live = len;
        for (int width = SumOrder.LANES / 2; width > 0; width /= 2) {
            for (int j = 0; j < live - width; j++) {
                lanes[j] += lanes[j + width];
            }
            live = Math.min(live, width);
        }
        return lanes[0];
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
        ColumnTiles tiles = ColumnTiles.of(outer, n, inner);
        Parallel.range(tiles.tasks(outer), tiles.grain(), (lo, hi) -> {
            for (int t = lo; t < hi; t++) {
                int o = t / tiles.perRow();
                int c0 = (t % tiles.perRow()) * tiles.width();
                int w = Math.min(tiles.width(), inner - c0);
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
