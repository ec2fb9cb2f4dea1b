package dev.nabla.cpu;

import dev.nabla.backend.WindowGeometry;
import java.util.Arrays;

/**
 * FLOAT32 im2col and col2im without index arrays: a column-matrix row {@code (c, i, j)} of one image is
 * {@code outH} runs of {@code outW} elements, each a slice of one input row (contiguous at stride 1, one
 * {@code System.arraycopy}) with zeros where the window hangs into the padding. The other dtypes take the SPI's
 * default (a gather and a scatter-add through index arrays).
 */
final class WindowKernels {
    private WindowKernels() {
    }

    /** The first output column {@code ox} whose input column {@code ox·stride + j − padLeft} is {@code >= 0}. */
    private static int firstInside(WindowGeometry g, int j) {
        int before = g.padLeft() - j;
        return before <= 0 ? 0 : Math.min(g.outW(), (before + g.stride() - 1) / g.stride());
    }

    /** One past the last output column whose input column is {@code < width}. */
    private static int endInside(WindowGeometry g, int j) {
        int last = g.width() - 1 + g.padLeft() - j;          // ox·stride <= last
        return last < 0 ? 0 : Math.min(g.outW(), last / g.stride() + 1);
    }

    static void im2col(WindowGeometry g, float[] x, float[] cols) {
        int plane = g.outH() * g.outW();
        int items = (int) g.rows() * g.images();
        int columns = (int) g.columns();
        int kk = g.kernelH() * g.kernelW();
        Parallel.range(items, Math.max(1, Parallel.ELEMENTWISE_GRAIN / Math.max(1, plane)), (lo, hi) -> {
            for (int t = lo; t < hi; t++) {
                int row = t / g.images();
                int n = t % g.images();
                int c = row / kk;
                int i = row % kk / g.kernelW();
                int j = row % g.kernelW();
                int ox0 = firstInside(g, j);
                int ox1 = Math.max(ox0, endInside(g, j));
                int src0 = (n * g.channels() + c) * g.height() * g.width();
                int at = row * columns + n * plane;
                for (int oy = 0; oy < g.outH(); oy++, at += g.outW()) {
                    int y = oy * g.stride() + i - g.padTop();
                    if (y < 0 || y >= g.height()) {
                        zero(cols, at, at + g.outW());
                        continue;
                    }
                    zero(cols, at, at + ox0);
                    int from = src0 + y * g.width() + ox0 * g.stride() + j - g.padLeft();
                    if (g.stride() == 1 && ox1 > ox0) {
                        if (VectorSupport.AVAILABLE) {
                            RunLanes.copy(x, from, cols, at + ox0, ox1 - ox0);
                        } else {
                            System.arraycopy(x, from, cols, at + ox0, ox1 - ox0);
                        }
                    } else {
                        for (int ox = ox0; ox < ox1; ox++, from += g.stride()) {
                            cols[at + ox] = x[from];
                        }
                    }
                    zero(cols, at + ox1, at + g.outW());
                }
            }
        });
    }

    /** The padding's zeros: runs of one or two elements mostly, where a call of {@code Arrays.fill} cost more. */
    private static void zero(float[] a, int from, int to) {
        for (int k = from; k < to; k++) {
            a[k] = 0f;
        }
    }

    /**
     * Each (image, channel) plane is summed by one task, its terms in the order of the rows {@code (i, j)}: the
     * order of the SPI default's scatter-add, so both give the same bits.
     */
    static void col2im(WindowGeometry g, float[] cols, float[] x) {
        int plane = g.outH() * g.outW();
        int planes = g.images() * g.channels();
        int columns = (int) g.columns();
        int imageSize = g.height() * g.width();
        int work = (int) Math.min(Integer.MAX_VALUE, (long) g.kernelH() * g.kernelW() * plane);
        Parallel.range(planes, Math.max(1, Parallel.ELEMENTWISE_GRAIN / Math.max(1, work)), (lo, hi) -> {
            for (int p = lo; p < hi; p++) {
                int n = p / g.channels();
                int c = p % g.channels();
                int dst0 = p * imageSize;
                Arrays.fill(x, dst0, dst0 + imageSize, 0f);
                for (int i = 0; i < g.kernelH(); i++) {
                    for (int j = 0; j < g.kernelW(); j++) {
                        int ox0 = firstInside(g, j);
                        int ox1 = endInside(g, j);
                        int row = (c * g.kernelH() + i) * g.kernelW() + j;
                        int at = row * columns + n * plane;
                        for (int oy = 0; oy < g.outH(); oy++, at += g.outW()) {
                            int y = oy * g.stride() + i - g.padTop();
                            if (y < 0 || y >= g.height()) {
                                continue;
                            }
                            int to = dst0 + y * g.width() + ox0 * g.stride() + j - g.padLeft();
                            if (g.stride() == 1 && VectorSupport.AVAILABLE) {
                                RunLanes.add(cols, at + ox0, x, to, ox1 - ox0);
                            } else if (g.stride() == 1) {
                                addRun(x, to, cols, at + ox0, ox1 - ox0);
                            } else {
                                for (int ox = ox0; ox < ox1; ox++, to += g.stride()) {
                                    x[to] += cols[at + ox];
                                }
                            }
                        }
                    }
                }
            }
        });
    }

    /**
     * Each window's first maximum (NaN first) as a flat index into {@code x}, in the row order (c, i, j) of its
     * im2col column, as the SPI default's ARGMAX meets them. The geometry has no padding. Windows are taken
     * {@link PoolLanes} lanes at a time where the Vector API is present (a gather per window element), the rest one
     * by one ({@link #firstMaximum}).
     */
    /** Windows whose first elements one task lists at a time (a multiple of every vector length). */
    private static final int ORIGIN_CHUNK = 1024;

    static void maxPoolIndices(WindowGeometry g, float[] x, int[] indices) {
        int columns = (int) g.columns();
        int[] offsets = new int[(int) g.rows()];
        for (int c = 0, r = 0; c < g.channels(); c++) {
            for (int i = 0; i < g.kernelH(); i++) {
                for (int j = 0; j < g.kernelW(); j++) {
                    offsets[r++] = (c * g.height() + i) * g.width() + j;
                }
            }
        }
        int plane = g.outH() * g.outW();
        int imageSize = g.channels() * g.height() * g.width();
        Parallel.range(columns, Math.max(1, Parallel.ELEMENTWISE_GRAIN / offsets.length), (lo, hi) -> {
            // each window's first element, walked by (n, oy, ox) from the range's first window (no division per
            // window), a chunk at a time into one small array
            int[] origins = new int[Math.min(ORIGIN_CHUNK, hi - lo)];
            int n = lo / plane;
            int oy = lo % plane / g.outW();
            int ox = lo % g.outW();
            for (int from = lo; from < hi; from += origins.length) {
                int count = Math.min(origins.length, hi - from);
                for (int q = 0; q < count; q++) {
                    origins[q] = n * imageSize + (oy * g.width() + ox) * g.stride();
                    if (++ox == g.outW()) {
                        ox = 0;
                        if (++oy == g.outH()) {
                            oy = 0;
                            n++;
                        }
                    }
                }
                int done = VectorSupport.AVAILABLE ? PoolLanes.maxPoolIndices(x, offsets, origins, count, indices,
                        from) : 0;
                for (int q = done; q < count; q++) {
                    indices[from + q] = firstMaximum(x, offsets, origins[q]);
                }
            }
        });
    }

    /** The window at {@code origin}'s first maximum: the maximum first (Math.max: NaN wins), then where it is. */
    static int firstMaximum(float[] x, int[] offsets, int origin) {
        float max = x[origin + offsets[0]];
        for (int r = 1; r < offsets.length; r++) {
            max = Math.max(max, x[origin + offsets[r]]);
        }
        int r = 0;
        while (!isMaximum(x[origin + offsets[r]], max)) {
            r++;
        }
        return origin + offsets[r];
    }

    /** Equal to a maximum that is a number, or a NaN where the maximum is NaN. */
    private static boolean isMaximum(float v, float max) {
        return v == max || v != v;
    }

    /** {@code x[to + k] += cols[from + k]}: one add per element, so C2 may vectorize it without changing a bit. */
    private static void addRun(float[] x, int to, float[] cols, int from, int length) {
        for (int k = 0; k < length; k++) {
            x[to + k] += cols[from + k];
        }
    }
}
