package dev.nabla.cpu;

import dev.nabla.backend.BinaryOp;
import dev.nabla.backend.WindowGeometry;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicBoolean;

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

    /**
     * Stride 1 with the output the input's size ("same"): each column-matrix row of an image is then the image
     * shifted by {@code (i - padTop, j - padLeft)}, one contiguous run whose wrapped columns are the padding, rather
     * than {@code outH} runs of a row each.
     */
    private static boolean shiftsWholeImage(WindowGeometry g) {
        return g.stride() == 1 && g.outH() == g.height() && g.outW() == g.width();
    }

    /**
     * The contiguous stretch of one column-matrix row (of one image) that a shifted image covers: from its first
     * element inside the image ({@code start}) to one past its last ({@code end}), the shift from column-matrix index
     * to image index, and the inside columns {@code [lo, hi)}; empty ({@code start >= end}) when the window element
     * never meets the image.
     */
    private record Shifted(int start, int end, int shift, int lo, int hi) {
        static Shifted of(WindowGeometry g, int i, int j) {
            int di = i - g.padTop();
            int dj = j - g.padLeft();
            int width = g.width();
            int y0 = Math.max(0, -di);
            int y1 = Math.min(g.height(), g.height() - di);
            int lo = Math.max(0, -dj);
            int hi = Math.min(width, width - dj);
            if (y0 >= y1 || lo >= hi) {
                return new Shifted(0, 0, 0, 0, 0);
            }
            return new Shifted(y0 * width + lo, (y1 - 1) * width + hi, di * width + dj, lo, hi);
        }

        /** The stretch of every window element (i, j), in row order. */
        static Shifted[] all(WindowGeometry g) {
            Shifted[] shifts = new Shifted[g.kernelH() * g.kernelW()];
            for (int e = 0; e < shifts.length; e++) {
                shifts[e] = of(g, e / g.kernelW(), e % g.kernelW());
            }
            return shifts;
        }

        boolean inside(int k, int width) {
            int column = k % width;
            return column >= lo && column < hi;
        }
    }

    /** Each stretch's table of inside columns for the vector kernels; null entries without the Vector API. */
    private static int[][] insideColumns(Shifted[] shifts, int width) {
        int[][] inside = new int[shifts.length][];
        for (int e = 0; e < shifts.length && VectorSupport.AVAILABLE; e++) {
            inside[e] = RunLanes.insideColumns(width, shifts[e].lo(), shifts[e].hi());
        }
        return inside;
    }

    static void im2col(WindowGeometry g, float[] x, float[] cols) {
        if (shiftsWholeImage(g)) {
            im2colShifted(g, x, cols);
            return;
        }
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

    private static void im2colShifted(WindowGeometry g, float[] x, float[] cols) {
        int plane = g.height() * g.width();
        int width = g.width();
        int columns = (int) g.columns();
        int kk = g.kernelH() * g.kernelW();
        Shifted[] shifts = Shifted.all(g);
        int[][] inside = insideColumns(shifts, width);
        // split by images, so each thread writes the columns that its part of the next GEMM reads (see
        // Parallel.Claims); within a part, row by row, so consecutive planes are contiguous
        int rows = (int) g.rows();
        int images = g.images();
        Parallel.range(images, Math.max(1, Parallel.ELEMENTWISE_GRAIN / Math.max(1, plane * rows)), (n0, n1) -> {
            for (int t = 0; t < rows * (n1 - n0); t++) {
                int row = t / (n1 - n0);
                int n = n0 + t % (n1 - n0);
                Shifted s = shifts[row % kk];
                int at = row * columns + n * plane;
                int src = (n * g.channels() + row / kk) * plane + s.shift();
                int start = Math.min(s.start(), s.end());
                zero(cols, at, at + start);
                int k = start;
                if (VectorSupport.AVAILABLE && s.end() > start) {
                    k += RunLanes.copyInside(x, src + start, cols, at + start, s.end() - start, inside[row % kk], width,
                            start % width);
                }
                for (; k < s.end(); k++) {
                    cols[at + k] = s.inside(k, width) ? x[src + k] : 0f;
                }
                zero(cols, at + Math.max(k, start), at + plane);
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
     * Each (image, channel) plane is summed on its own, its terms in the order of the rows {@code (i, j)}: the
     * order of the SPI default's scatter-add, so both give the same bits. The threads split the images, so each
     * reads the columns that its part of the GEMM before wrote (see Parallel.Claims); within its images it goes
     * channel by channel, each channel's images in order, so it reads the channel's {@code kernelH·kernelW}
     * column-matrix rows front to back (image by image, they would be as many streams as the matrix has rows, 144
     * in MNIST's second layer, which the prefetchers cannot follow: col2im took twice as long).
     */
    static void col2im(WindowGeometry g, float[] cols, float[] x) {
        if (shiftsWholeImage(g)) {
            col2imShifted(g, cols, x);
            return;
        }
        int plane = g.outH() * g.outW();
        int columns = (int) g.columns();
        int imageSize = g.height() * g.width();
        int work = (int) Math.min(Integer.MAX_VALUE, (long) g.kernelH() * g.kernelW() * plane * g.channels());
        Parallel.range(g.images(), Math.max(1, Parallel.ELEMENTWISE_GRAIN / Math.max(1, work)), (n0, n1) -> {
            for (int t = 0; t < g.channels() * (n1 - n0); t++) {
                int c = t / (n1 - n0);
                int n = n0 + t % (n1 - n0);
                int dst0 = (n * g.channels() + c) * imageSize;
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

    /** {@link #col2im} of shifted images ({@link #shiftsWholeImage}): the same terms in the same order. */
    private static void col2imShifted(WindowGeometry g, float[] cols, float[] x) {
        int plane = g.height() * g.width();
        int width = g.width();
        int columns = (int) g.columns();
        int kk = g.kernelH() * g.kernelW();
        Shifted[] shifts = Shifted.all(g);
        int[][] inside = insideColumns(shifts, width);
        int work = (int) Math.min(Integer.MAX_VALUE, (long) kk * plane * g.channels());
        Parallel.range(g.images(), Math.max(1, Parallel.ELEMENTWISE_GRAIN / Math.max(1, work)), (n0, n1) -> {
            for (int t = 0; t < g.channels() * (n1 - n0); t++) {
                int c = t / (n1 - n0);
                int n = n0 + t % (n1 - n0);
                int dst0 = (n * g.channels() + c) * plane;
                Arrays.fill(x, dst0, dst0 + plane, 0f);
                for (int e = 0; e < kk; e++) {
                    Shifted s = shifts[e];
                    int at = (c * kk + e) * columns + n * plane;
                    int dst = dst0 + s.shift();
                    int k = s.start();
                    if (VectorSupport.AVAILABLE && s.end() > k) {
                        k += RunLanes.addInside(cols, at + k, x, dst + k, s.end() - k, inside[e], width, k % width);
                    }
                    for (; k < s.end(); k++) {
                        if (s.inside(k, width)) {
                            x[dst + k] += cols[at + k];
                        }
                    }
                }
            }
        });
    }

    /** Masked window gradients {@link #maxPoolGradient} keeps in scratch at a time: 8 KiB, within L1. */
    private static final int MASKED_CHUNK = 2048;

    /**
     * Max pooling's gradient an image at a time: the image's part of {@code x} is zeroed and each of its windows'
     * gradient added at the window's index, in window order, while the image is in L1 (the scatter-add into zeros
     * that the SPI's default runs filled all of {@code x} first, then added into it: two passes over MNIST's 3.2 MB
     * first pooling input, on one thread). Returns false, having written part of {@code x}, if an index lies
     * outside its window's image: the caller then runs the default, which checks the indices and adds across images.
     * With {@code pooled} (the forward's pooled values; Vector API only), the window gradients of a few images at a
     * time ({@link #MASKED_CHUNK} values) are first masked into scratch with {@code relu_gradient(pooled, grad)}'s
     * own row loop ({@link FloatLanes#row}: its bits, and no branch per window), so the masked gradient never goes to
     * memory. (A row call per image cost more than the pass it saved for W7's second pooling: 7 × 7 windows.)
     */
    static boolean maxPoolGradient(WindowGeometry g, float[] pooled, float[] grad, int[] indices, float[] x) {
        int imageSize = g.channels() * g.height() * g.width();
        int windows = g.outH() * g.outW();
        boolean mask = pooled != null && windows > 0;
        int group = mask ? Math.max(1, MASKED_CHUNK / windows) : 1;
        AtomicBoolean foreign = new AtomicBoolean();
        Parallel.range(g.images(), Math.max(1, Parallel.ELEMENTWISE_GRAIN / Math.max(1, imageSize)), (lo, hi) -> {
            float[] masked = mask ? new float[group * windows] : null;
            for (int n0 = lo; n0 < hi; n0 += group) {
                int n1 = Math.min(hi, n0 + group);
                float[] terms = grad;
                int shift = 0;
                if (mask) {
                    FloatLanes.row(BinaryOp.RELU_GRADIENT, pooled, n0 * windows, false, grad, n0 * windows, false,
                            masked, null, 0, (n1 - n0) * windows);
                    terms = masked;
                    shift = n0 * windows;
                }
                for (int n = n0; n < n1; n++) {
                    int first = n * imageSize;
                    Arrays.fill(x, first, first + imageSize, 0f);
                    for (int q = n * windows; q < (n + 1) * windows; q++) {
                        int at = indices[q];
                        if (at < first || at >= first + imageSize) {
                            foreign.set(true);
                            return;
                        }
                        x[at] += terms[q - shift];
                    }
                }
            }
        });
        return !foreign.get();
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
        if (VectorSupport.AVAILABLE && g.channels() == 1 && g.kernelH() == 2 && g.kernelW() == 2 && g.stride() == 2) {
            maxPoolPairedRows(g, x, indices);
            return;
        }
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

    /**
     * 2 × 2 windows at stride 2 over single-channel planes (as maxPool2d pools), a row of windows at a time: whole
     * vectors of windows ({@link PoolLanes#pairedRows}) stored unmasked, a vector that runs past its row spilling
     * into the next row's windows (computed after it); the last vector of a task's rows, and one whose loads would
     * leave {@code x}, one window at a time.
     */
    private static void maxPoolPairedRows(WindowGeometry g, float[] x, int[] indices) {
        int lanes = FloatLanes.SPECIES.length();
        int width = g.width();
        int outW = g.outW();
        int rows = g.images() * g.outH();
        int[] offsets = {0, 1, width, width + 1};
        Parallel.range(rows, Math.max(1, Parallel.ELEMENTWISE_GRAIN / (4 * outW)), (lo, hi) -> {
            int end = hi * outW;
            for (int r = lo; r < hi; r++) {
                int rowTop = (r / g.outH()) * g.height() * width + 2 * (r % g.outH()) * width;
                int at = r * outW;
                int ox = 0;
                for (; ox < outW; ox += lanes) {
                    int top = rowTop + 2 * ox;
                    if (at + ox + lanes > end || top + width + 2 * lanes > x.length) {
                        break;
                    }
                    PoolLanes.pairedRows(x, top, width, indices, at + ox);
                }
                for (; ox < outW; ox++) {
                    indices[at + ox] = firstMaximum(x, offsets, rowTop + 2 * ox);
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
