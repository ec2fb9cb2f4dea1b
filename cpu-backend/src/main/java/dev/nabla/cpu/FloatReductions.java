package dev.nabla.cpu;

import dev.nabla.backend.ReduceOp;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vectorized SUM, MAX and MIN of FLOAT32 {@code (outer, n, inner)} into {@code (outer, inner)}. Sums add in
 * {@link SumOrder}'s order: in float across 64 lanes per block (so each lane adds only a few dozen values) and in
 * double across blocks, so they stay within a few float ulps of the exact sum and their bits depend on nothing but
 * the data.
 */
final class FloatReductions {
    /** Sums, maxima and minima read each value once: {@link VectorWidth#STREAMING}'s width. */
    private static final VectorSpecies<Float> F = VectorSpecies.of(float.class, VectorWidth.STREAMING);
    /**
     * Blocks {@link #streamSums} reads side by side: its sixteen accumulators cover {@code 16 * F.length()} lanes,
     * two blocks' rows at 256 bits, four at 512; zero (the single-block path) where they cover less than a row.
     */
    private static final int STREAMS = 16 * F.length() >= SumOrder.LANES ? 16 * F.length() / SumOrder.LANES : 0;

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
        if (op == ReduceOp.SUM) {
            contiguousSum(x, outer, n, y);
            return;
        }
        int pieces = Math.min(Parallel.THREADS, n / Parallel.ELEMENTWISE_GRAIN);
        if (outer >= Parallel.THREADS || pieces <= 1) {
            Parallel.range(outer, Math.max(1, Parallel.ELEMENTWISE_GRAIN / n), (lo, hi) -> {
                for (int r = lo; r < hi; r++) {
                    y[r] = (float) extreme(op == ReduceOp.MAX, x, r * n, n);
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
            y[r] = (float) result;
        }
    }

    /**
     * Row sums in {@link SumOrder}'s order: the blocks of every row are summed in parallel (any split gives the same
     * block sums), then each row adds its block sums in sequence.
     */
    private static void contiguousSum(float[] x, int outer, int n, float[] y) {
        int blocks = (n + SumOrder.BLOCK - 1) / SumOrder.BLOCK;
        if (blocks == 1) {
            Parallel.range(outer, Math.max(1, Parallel.ELEMENTWISE_GRAIN / n), (lo, hi) -> {
                float[] lanes = new float[SumOrder.LANES];
                for (int r = lo; r < hi; r++) {
                    y[r] = blockSum(x, r * n, n, lanes);
                }
            });
            return;
        }
        float[] sums = new float[outer * blocks];
        Parallel.range(outer * blocks, Math.max(1, Parallel.ELEMENTWISE_GRAIN / SumOrder.BLOCK),
                (lo, hi) -> blockSums(x, n, blocks, lo, hi, sums));
        for (int r = 0; r < outer; r++) {
            double total = 0;
            for (int b = 0; b < blocks; b++) {
                total += sums[r * blocks + b];
            }
            y[r] = (float) total;
        }
    }

    /**
     * {@code sums[t]} for the blocks {@code t} in {@code [lo, hi)} (block {@code t % blocks} of row
     * {@code t / blocks}). Where the vectors allow, the range is cut into {@link #STREAMS} equal parts read side by
     * side, so that the prefetcher keeps that many streams in flight: 2^24 floats on two threads took 2.96 ms against
     * 3.56 one block after the other (two streams, AVX2 Zen 3) and 0.77 ms against 0.92 (four streams, AVX-512 Zen 5;
     * two there 0.85; medians of 200-300). Adjacent blocks as the group were slower (3.13 ms on Zen 3). The block sums
     * are the same either way.
     */
    private static void blockSums(float[] x, int n, int blocks, int lo, int hi, float[] sums) {
        float[] lanes = new float[Math.max(1, STREAMS) * SumOrder.LANES];
        int part = STREAMS == 0 ? 0 : (hi - lo) / STREAMS;
        int[] at = new int[STREAMS];
        for (int t = lo; t < lo + part; t++) {
            boolean whole = true;
            for (int k = 0; k < STREAMS; k++) {
                int u = t + k * part;
                int from = (u % blocks) * SumOrder.BLOCK;
                at[k] = (u / blocks) * n + from;
                whole &= n - from >= SumOrder.BLOCK;
            }
            if (whole) {
                streamSums(x, at, lanes);
            }
            for (int k = 0; k < STREAMS; k++) {
                int u = t + k * part;
                sums[u] = whole ? fold(lanes, k * SumOrder.LANES) : blockSum(x, n, blocks, u, lanes);
            }
        }
        for (int t = lo + STREAMS * part; t < hi; t++) {
            sums[t] = blockSum(x, n, blocks, t, lanes);
        }
    }

    /** {@link #blockSum} of block {@code t % blocks} of row {@code t / blocks} (rows of {@code n}). */
    private static float blockSum(float[] x, int n, int blocks, int t, float[] lanes) {
        int from = (t % blocks) * SumOrder.BLOCK;
        return blockSum(x, (t / blocks) * n + from, Math.min(SumOrder.BLOCK, n - from), lanes);
    }

    /**
     * The lanes of the {@link #STREAMS} whole blocks starting at {@code at[k]}, each added row by row exactly as
     * {@link #blockSum} adds them, block {@code k}'s into {@code lanes[k LANES, (k + 1) LANES)}. Sixteen vectors of
     * lanes, four runs of four: run {@code j} covers lanes {@code [4 j l, 4 (j + 1) l)} of the group, that is block
     * {@code 4 j l / LANES} from its lane {@code 4 j l % LANES} (at 512 bits each run is a block's whole row, at 256
     * half a row).
     */
    private static void streamSums(float[] x, int[] at, float[] lanes) {
        int l = F.length();
        int p = at[0];
        int q = runStart(at, 1);
        int u = runStart(at, 2);
        int v = runStart(at, 3);
        FloatVector s0 = FloatVector.zero(F);
        FloatVector s1 = FloatVector.zero(F);
        FloatVector s2 = FloatVector.zero(F);
        FloatVector s3 = FloatVector.zero(F);
        FloatVector t0 = FloatVector.zero(F);
        FloatVector t1 = FloatVector.zero(F);
        FloatVector t2 = FloatVector.zero(F);
        FloatVector t3 = FloatVector.zero(F);
        FloatVector u0 = FloatVector.zero(F);
        FloatVector u1 = FloatVector.zero(F);
        FloatVector u2 = FloatVector.zero(F);
        FloatVector u3 = FloatVector.zero(F);
        FloatVector v0 = FloatVector.zero(F);
        FloatVector v1 = FloatVector.zero(F);
        FloatVector v2 = FloatVector.zero(F);
        FloatVector v3 = FloatVector.zero(F);
        for (int o = 0; o < SumOrder.BLOCK; o += SumOrder.LANES) {
            s0 = s0.add(FloatVector.fromArray(F, x, p + o));
            s1 = s1.add(FloatVector.fromArray(F, x, p + o + l));
            s2 = s2.add(FloatVector.fromArray(F, x, p + o + 2 * l));
            s3 = s3.add(FloatVector.fromArray(F, x, p + o + 3 * l));
            t0 = t0.add(FloatVector.fromArray(F, x, q + o));
            t1 = t1.add(FloatVector.fromArray(F, x, q + o + l));
            t2 = t2.add(FloatVector.fromArray(F, x, q + o + 2 * l));
            t3 = t3.add(FloatVector.fromArray(F, x, q + o + 3 * l));
            u0 = u0.add(FloatVector.fromArray(F, x, u + o));
            u1 = u1.add(FloatVector.fromArray(F, x, u + o + l));
            u2 = u2.add(FloatVector.fromArray(F, x, u + o + 2 * l));
            u3 = u3.add(FloatVector.fromArray(F, x, u + o + 3 * l));
            v0 = v0.add(FloatVector.fromArray(F, x, v + o));
            v1 = v1.add(FloatVector.fromArray(F, x, v + o + l));
            v2 = v2.add(FloatVector.fromArray(F, x, v + o + 2 * l));
            v3 = v3.add(FloatVector.fromArray(F, x, v + o + 3 * l));
        }
        s0.intoArray(lanes, 0);
        s1.intoArray(lanes, l);
        s2.intoArray(lanes, 2 * l);
        s3.intoArray(lanes, 3 * l);
        t0.intoArray(lanes, 4 * l);
        t1.intoArray(lanes, 5 * l);
        t2.intoArray(lanes, 6 * l);
        t3.intoArray(lanes, 7 * l);
        u0.intoArray(lanes, 8 * l);
        u1.intoArray(lanes, 9 * l);
        u2.intoArray(lanes, 10 * l);
        u3.intoArray(lanes, 11 * l);
        v0.intoArray(lanes, 12 * l);
        v1.intoArray(lanes, 13 * l);
        v2.intoArray(lanes, 14 * l);
        v3.intoArray(lanes, 15 * l);
    }

    /** Where {@link #streamSums}' run {@code j} starts: in block {@code 4 j l / LANES}, at lane {@code 4 j l % LANES}. */
    private static int runStart(int[] at, int j) {
        int lane = 4 * j * F.length();
        return at[lane / SumOrder.LANES] + lane % SumOrder.LANES;
    }

    /** {@link SumOrder}'s pairwise fold of {@code lanes[offset, offset + LANES)}. */
    private static float fold(float[] lanes, int offset) {
        for (int width = SumOrder.LANES / 2; width > 0; width /= 2) {
            for (int j = 0; j < width; j++) {
                lanes[offset + j] += lanes[offset + j + width];
            }
        }
        return lanes[offset];
    }

    /**
     * The sum of {@code x[from, from + len)}, {@code 0 < len <= BLOCK}, in {@link SumOrder}'s order: element
     * {@code i} goes to lane {@code i mod LANES}, so a vector of any width adds whole lanes in the same order as
     * the definition; {@code lanes} is scratch.
     */
    static float blockSum(float[] x, int from, int len, float[] lanes) {
        if (len < SumOrder.LANES) {
            return shortBlockSum(x, from, len, lanes);
        }
        int rows = len / SumOrder.LANES;
        int l = F.length();
        if (8 * l <= SumOrder.LANES) {
            // eight vectors a row where they fit in the lanes (256 bits and narrower): at 256 bits a group then
            // reads whole 64-float rows, a stream the prefetcher follows; four a group (half a row, then a 128-byte
            // gap) summed 2^24 floats in 8.5 ms against 5.9 (one thread, AVX2 Zen 3, 6 runs each; a plain loop 5.8)
            for (int g = 0; g < SumOrder.LANES; g += 8 * l) {
                FloatVector s0 = FloatVector.zero(F);
                FloatVector s1 = FloatVector.zero(F);
                FloatVector s2 = FloatVector.zero(F);
                FloatVector s3 = FloatVector.zero(F);
                FloatVector s4 = FloatVector.zero(F);
                FloatVector s5 = FloatVector.zero(F);
                FloatVector s6 = FloatVector.zero(F);
                FloatVector s7 = FloatVector.zero(F);
                for (int r = 0, at = from + g; r < rows; r++, at += SumOrder.LANES) {
                    s0 = s0.add(FloatVector.fromArray(F, x, at));
                    s1 = s1.add(FloatVector.fromArray(F, x, at + l));
                    s2 = s2.add(FloatVector.fromArray(F, x, at + 2 * l));
                    s3 = s3.add(FloatVector.fromArray(F, x, at + 3 * l));
                    s4 = s4.add(FloatVector.fromArray(F, x, at + 4 * l));
                    s5 = s5.add(FloatVector.fromArray(F, x, at + 5 * l));
                    s6 = s6.add(FloatVector.fromArray(F, x, at + 6 * l));
                    s7 = s7.add(FloatVector.fromArray(F, x, at + 7 * l));
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
                FloatVector s0 = FloatVector.zero(F);
                FloatVector s1 = FloatVector.zero(F);
                FloatVector s2 = FloatVector.zero(F);
                FloatVector s3 = FloatVector.zero(F);
                for (int r = 0, at = from + g; r < rows; r++, at += SumOrder.LANES) {
                    s0 = s0.add(FloatVector.fromArray(F, x, at));
                    s1 = s1.add(FloatVector.fromArray(F, x, at + l));
                    s2 = s2.add(FloatVector.fromArray(F, x, at + 2 * l));
                    s3 = s3.add(FloatVector.fromArray(F, x, at + 3 * l));
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
                    FloatVector.fromArray(F, lanes, k).add(FloatVector.fromArray(F, x, at + k)).intoArray(lanes, k);
                }
            }
        }
        for (int j = 0, at = from + rows * SumOrder.LANES; j < len % SumOrder.LANES; j++) {
            lanes[j] += x[at + j];
        }
        return fold(lanes, 0);
    }

    /**
     * {@link #blockSum} of fewer than {@code LANES} elements (a softmax's row of 10): one element per lane, and the
     * fold adds only lanes that hold one. The others are +0, and adding +0 leaves any lane as it is (a lane is never
     * -0: it starts at +0), so this is the same sum without the 63 adds and the vector set-up of a full block.
     */
    private static float shortBlockSum(float[] x, int from, int len, float[] lanes) {
        for (int j = 0; j < len; j++) {
            lanes[j] = 0f + x[from + j];
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
        int tilesPerRow = (inner + ColumnTiles.MAX_WIDTH - 1) / ColumnTiles.MAX_WIDTH;
        if (op == ReduceOp.SUM && (long) outer * tilesPerRow < Parallel.THREADS && n >= 2 * SumOrder.ROWS
                && (long) outer * n * inner >= 2L * Parallel.ELEMENTWISE_GRAIN) {
            sumByRowRuns(x, outer, n, inner, y);
            return;
        }
        ColumnTiles tiles = ColumnTiles.of(outer, n, inner);
        Parallel.range(tiles.tasks(outer), tiles.grain(), (lo, hi) -> {
            float[] block = new float[tiles.width()];
            double[] total = op == ReduceOp.SUM ? new double[tiles.width()] : null;
            for (int t = lo; t < hi; t++) {
                int o = t / tiles.perRow();
                int c0 = (t % tiles.perRow()) * tiles.width();
                int w = Math.min(tiles.width(), inner - c0);
                int base = o * n * inner + c0;
                if (op == ReduceOp.SUM) {
                    Arrays.fill(total, 0, w, 0);
                    for (int k0 = 0; k0 < n; k0 += SumOrder.ROWS) {
                        foldRows(op, x, base, inner, k0, Math.min(n, k0 + SumOrder.ROWS), block, 0, w);
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

    /**
     * A SUM over the rows of few, wide outputs (a bias gradient: W6's db sums a 1024 × 1024 matrix over its rows):
     * the threads split the rows, a run of {@link SumOrder#ROWS} at a time, each run summed in float into a partial
     * row of its own, and the partial rows are then added in order per column in double, which is the order of
     * {@link SumOrder} (the bits of a split by columns). Split by columns, each thread read half its rows from
     * lines the other thread had just written (an element-wise op splits the same matrix by rows): W6's scoped step
     * ran in phases of 0.38 and 1.2-1.4 ms on two threads, 0.55-0.60 on one.
     */
    private static void sumByRowRuns(float[] x, int outer, int n, int inner, float[] y) {
        int runs = (n + SumOrder.ROWS - 1) / SumOrder.ROWS;
        float[] partial = new float[outer * runs * inner];
        int grain = (int) Math.max(1, Parallel.ELEMENTWISE_GRAIN / ((long) SumOrder.ROWS * inner));
        Parallel.range(outer * runs, grain, (lo, hi) -> {
            for (int t = lo; t < hi; t++) {
                int o = t / runs;
                int k0 = (t % runs) * SumOrder.ROWS;
                for (int c0 = 0; c0 < inner; c0 += ColumnTiles.MAX_WIDTH) {
                    foldRows(ReduceOp.SUM, x, o * n * inner + c0, inner, k0, Math.min(n, k0 + SumOrder.ROWS),
                            partial, t * inner + c0, Math.min(ColumnTiles.MAX_WIDTH, inner - c0));
                }
            }
        });
        double[] total = new double[inner];
        for (int o = 0; o < outer; o++) {
            Arrays.fill(total, 0);
            for (int r = 0; r < runs; r++) {
                int at = (o * runs + r) * inner;
                for (int j = 0; j < inner; j++) {
                    total[j] += partial[at + j];
                }
            }
            for (int j = 0; j < inner; j++) {
                y[o * inner + j] = (float) total[j];
            }
        }
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
