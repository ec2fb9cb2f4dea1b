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
                        Arrays.fill(cols, at, at + g.outW(), 0f);
                        continue;
                    }
                    Arrays.fill(cols, at, at + ox0, 0f);
                    int from = src0 + y * g.width() + ox0 * g.stride() + j - g.padLeft();
                    if (g.stride() == 1 && ox1 > ox0) {
                        System.arraycopy(x, from, cols, at + ox0, ox1 - ox0);
                    } else {
                        for (int ox = ox0; ox < ox1; ox++, from += g.stride()) {
                            cols[at + ox] = x[from];
                        }
                    }
                    Arrays.fill(cols, at + ox1, at + g.outW(), 0f);
                }
            }
        });
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
                            for (int ox = ox0; ox < ox1; ox++, to += g.stride()) {
                                x[to] += cols[at + ox];
                            }
                        }
                    }
                }
            }
        });
    }

    /**
     * The position in its plane of the window's first maximum of {@code x} (NaN counts as the maximum, as ARGMAX):
     * window {@code (oy, ox)} of the plane starting at {@code base}.
     */
    private static int argmax(WindowGeometry g, float[] x, int base, int oy, int ox) {
        int at = (oy * g.stride()) * g.width() + ox * g.stride();
        int best = at;
        float bv = x[base + at];
        for (int i = 0; i < g.kernelH() && !Float.isNaN(bv); i++) {
            for (int j = 0; j < g.kernelW(); j++) {
                int p = at + i * g.width() + j;
                float v = x[base + p];
                if (v > bv || Float.isNaN(v)) {
                    bv = v;
                    best = p;
                    if (Float.isNaN(v)) {
                        break;
                    }
                }
            }
        }
        return best;
    }

    static void maxPoolGather(WindowGeometry g, float[] x, float[] values, float[] out) {
        int windows = g.outH() * g.outW();
        int imageSize = g.height() * g.width();
        int grain = Math.max(1, Parallel.ELEMENTWISE_GRAIN / Math.max(1, windows * g.kernelH() * g.kernelW()));
        Parallel.range(g.images(), grain, (lo, hi) -> {
            for (int p = lo; p < hi; p++) {
                int base = p * imageSize;
                int at = p * windows;
                for (int oy = 0; oy < g.outH(); oy++) {
                    for (int ox = 0; ox < g.outW(); ox++) {
                        out[at++] = values[base + argmax(g, x, base, oy, ox)];
                    }
                }
            }
        });
    }

    /**
     * Per plane: the windows' maxima first, then the gradients added in the order of the rows {@code (i, j)} (the
     * position inside the window), as col2im adds them.
     */
    static void maxPoolScatter(WindowGeometry g, float[] x, float[] grads, float[] out) {
        int windows = g.outH() * g.outW();
        int imageSize = g.height() * g.width();
        boolean overlapping = g.stride() < g.kernelH() || g.stride() < g.kernelW();
        int grain = Math.max(1, Parallel.ELEMENTWISE_GRAIN / Math.max(1, windows * g.kernelH() * g.kernelW()));
        Parallel.range(g.images(), grain, (lo, hi) -> {
            int[] best = new int[windows];
            for (int p = lo; p < hi; p++) {
                int base = p * imageSize;
                int at = p * windows;
                Arrays.fill(out, base, base + imageSize, 0f);
                for (int oy = 0, w = 0; oy < g.outH(); oy++) {
                    for (int ox = 0; ox < g.outW(); ox++, w++) {
                        best[w] = argmax(g, x, base, oy, ox);
                    }
                }
                if (!overlapping) {
                    // each element is in one window at most: one term per element
                    for (int w = 0; w < windows; w++) {
                        out[base + best[w]] = 0f + grads[at + w];
                    }
                    continue;
                }
                for (int i = 0; i < g.kernelH(); i++) {
                    for (int j = 0; j < g.kernelW(); j++) {
                        for (int oy = 0, w = 0; oy < g.outH(); oy++) {
                            for (int ox = 0; ox < g.outW(); ox++, w++) {
                                int p0 = (oy * g.stride() + i) * g.width() + ox * g.stride() + j;
                                if (best[w] == p0) {
                                    out[base + p0] += grads[at + w];
                                }
                            }
                        }
                    }
                }
            }
        });
    }
}
