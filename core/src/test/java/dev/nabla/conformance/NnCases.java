package dev.nabla.conformance;

import dev.nabla.backend.WindowGeometry;
import dev.nabla.conformance.OpArgs.Conv;
import dev.nabla.conformance.OpArgs.Drop;
import dev.nabla.conformance.OpArgs.Labels;
import dev.nabla.conformance.OpArgs.Norm;
import dev.nabla.conformance.OpArgs.Pool;
import dev.nabla.conformance.OpArgs.Targets;
import dev.nabla.conformance.OpInfo.CaseGenerator;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * The cases of the neural-network rows (dev.nabla.nn): fixed edge cases (empty batches, 1 x 1 images and kernels,
 * kernels larger than the image under "same", strides past the kernel) followed by random NCHW shapes and
 * arguments. Images stay small (at most 2 x 3 x 6 x 6) so that the gradient checks' Jacobians stay cheap.
 */
final class NnCases {
    private static final int RANDOM_CASES = 8;

    private NnCases() {
    }

    private static long[] s(long... dims) {
        return dims;
    }

    /** Batch sizes: 1 or 2, sometimes 0. */
    private static long batch(Random r) {
        double p = r.nextDouble();
        return p < 0.1 ? 0 : p < 0.55 ? 1 : 2;
    }

    /** Two inputs of one shape (meanSquaredError does not broadcast). */
    static CaseGenerator<Void> samePair() {
        return r -> {
            List<OpCase<Void>> cases = new ArrayList<>(List.of(OpCase.of(null, s(), s()),
                    OpCase.of(null, s(1), s(1)), OpCase.of(null, s(0), s(0)), OpCase.of(null, s(3, 4), s(3, 4)),
                    OpCase.of(null, s(2, 0, 3), s(2, 0, 3))));
            for (int i = 0; i < RANDOM_CASES; i++) {
                long[] shape = ShapeCases.shape(r, 0, 3, true);
                cases.add(OpCase.of(null, shape, shape.clone()));
            }
            return cases;
        };
    }

    /** x (N, C, H, W), kernel (O, C, KH, KW) and, in some cases, bias (O,). */
    static CaseGenerator<Conv> conv2d() {
        return r -> {
            List<OpCase<Conv>> cases = new ArrayList<>(List.of(
                    OpCase.of(new Conv(1, "valid"), s(1, 1, 3, 3), s(1, 1, 3, 3), s(1)),
                    OpCase.of(new Conv(2, "same"), s(2, 3, 5, 4), s(2, 3, 3, 2)),
                    OpCase.of(new Conv(1, "same"), s(1, 2, 4, 5), s(3, 2, 2, 3), s(3)),
                    OpCase.of(new Conv(1, "valid"), s(0, 2, 3, 3), s(2, 2, 2, 2), s(2)),
                    OpCase.of(new Conv(1, "same"), s(1, 1, 1, 1), s(1, 1, 1, 1), s(1)),
                    OpCase.of(new Conv(3, "valid"), s(2, 1, 5, 5), s(1, 1, 3, 3), s(1)),
                    // a kernel larger than the image: "same" pads it (2 before, ... TF's rule)
                    OpCase.of(new Conv(1, "same"), s(1, 1, 2, 3), s(2, 1, 3, 3), s(2)),
                    OpCase.of(new Conv(2, "same"), s(1, 2, 6, 6), s(1, 2, 3, 3)),
                    // no input channels (the bias alone) and no output channels
                    OpCase.of(new Conv(1, "valid"), s(1, 0, 3, 3), s(2, 0, 2, 2), s(2)),
                    OpCase.of(new Conv(1, "same"), s(2, 2, 3, 3), s(0, 2, 2, 2))));
            for (int i = 0; i < RANDOM_CASES; i++) {
                long n = batch(r);
                long c = 1 + r.nextInt(3);
                long o = 1 + r.nextInt(3);
                long kh = 1 + r.nextInt(3);
                long kw = 1 + r.nextInt(3);
                String padding = r.nextBoolean() ? "valid" : "same";
                long minH = padding.equals("valid") ? kh : 1;
                long minW = padding.equals("valid") ? kw : 1;
                long h = minH + r.nextInt((int) (6 - minH) + 1);
                long w = minW + r.nextInt((int) (6 - minW) + 1);
                Conv args = new Conv(1 + r.nextInt(3), padding);
                cases.add(r.nextBoolean() ? OpCase.of(args, s(n, c, h, w), s(o, c, kh, kw), s(o))
                        : OpCase.of(args, s(n, c, h, w), s(o, c, kh, kw)));
            }
            return cases;
        };
    }

    /** Past a GEMM block and the parallel grain (forward only). */
    static CaseGenerator<Conv> largeConv2d() {
        return r -> List.of(OpCase.of(new Conv(1, "same"), s(2, 3, 17, 19), s(8, 3, 3, 3), s(8)),
                OpCase.of(new Conv(2, "valid"), s(3, 4, 20, 16), s(5, 4, 5, 4)));
    }

    /** x (N, C, H, W) with H, W >= size; size and stride 1..3 (strides past the window too). */
    static CaseGenerator<Pool> pools() {
        return r -> {
            List<OpCase<Pool>> cases = new ArrayList<>(List.of(OpCase.of(new Pool(2, 2, true), s(1, 1, 4, 4)),
                    OpCase.of(new Pool(2, 1, false), s(2, 3, 3, 4)), OpCase.of(new Pool(1, 1, true), s(1, 2, 1, 1)),
                    OpCase.of(new Pool(3, 3, true), s(1, 1, 3, 3)), OpCase.of(new Pool(2, 2, true), s(0, 2, 4, 4)),
                    OpCase.of(new Pool(2, 3, false), s(1, 2, 5, 6)), OpCase.of(new Pool(2, 2, true), s(2, 1, 5, 3))));
            for (int i = 0; i < RANDOM_CASES; i++) {
                int size = 1 + r.nextInt(3);
                boolean defaultStride = r.nextBoolean();
                int stride = defaultStride ? size : 1 + r.nextInt(3);
                long h = size + r.nextInt(7 - size);
                long w = size + r.nextInt(7 - size);
                cases.add(OpCase.of(new Pool(size, stride, defaultStride), s(batch(r), 1 + r.nextInt(3), h, w)));
            }
            return cases;
        };
    }

    /**
     * Window geometries for im2col (the case's input is the image) or, with {@code columns}, col2im (the input is
     * the column matrix): strides 1 to 3, padding from none to more than the kernel needs on each side, kernels of
     * 1 x 1 to 3 x 3 (not square too), one channel or several, images of one row or column, empty batches.
     */
    static CaseGenerator<OpArgs.Windows> windows(boolean columns) {
        return r -> {
            List<WindowGeometry> geometries = new ArrayList<>(List.of(
                    new WindowGeometry(1, 1, 3, 3, 3, 3, 1, 1, 1, 3, 3),       // "same", one channel
                    new WindowGeometry(2, 2, 4, 5, 2, 3, 2, 0, 0, 2, 2),       // "valid", stride 2
                    new WindowGeometry(1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1),       // 1 x 1 everything
                    new WindowGeometry(2, 1, 1, 4, 1, 3, 1, 0, 1, 1, 4),       // one row, padding left only
                    new WindowGeometry(0, 2, 3, 3, 2, 2, 1, 0, 0, 2, 2),       // no images
                    new WindowGeometry(1, 3, 5, 5, 3, 3, 2, 1, 1, 3, 3)));     // "same" at stride 2
            for (int i = 0; i < RANDOM_CASES; i++) {
                int kh = 1 + r.nextInt(3);
                int kw = 1 + r.nextInt(3);
                int stride = 1 + r.nextInt(3);
                int h = 1 + r.nextInt(6);
                int w = 1 + r.nextInt(6);
                int top = r.nextInt(kh);
                int left = r.nextInt(kw);
                int bottom = r.nextInt(kh);
                int right = r.nextInt(kw);
                int outH = (h + top + bottom - kh) / stride + 1;
                int outW = (w + left + right - kw) / stride + 1;
                if (h + top + bottom < kh || w + left + right < kw) {
                    continue;
                }
                geometries.add(new WindowGeometry((int) batch(r), 1 + r.nextInt(3), h, w, kh, kw, stride, top, left,
                        outH, outW));
            }
            List<OpCase<OpArgs.Windows>> cases = new ArrayList<>();
            for (WindowGeometry g : geometries) {
                cases.add(OpCase.of(new OpArgs.Windows(g), columns ? s(g.rows(), g.columns())
                        : s(g.images(), g.channels(), g.height(), g.width())));
            }
            return cases;
        };
    }

    /** {@link #windows} without padding, the geometries max pooling's indices accept. */
    static CaseGenerator<OpArgs.Windows> unpaddedWindows() {
        return r -> windows(false).draw(r).stream().filter(c -> {
            WindowGeometry g = c.args().geometry();
            return g.padTop() == 0 && g.padLeft() == 0 && (g.outH() - 1) * g.stride() + g.kernelH() <= g.height()
                    && (g.outW() - 1) * g.stride() + g.kernelW() <= g.width();
        }).toList();
    }

    /** {@link #unpaddedWindows}' geometries with a gradient per window as the input (max pooling's gradient). */
    static CaseGenerator<OpArgs.Windows> poolGradients() {
        return r -> unpaddedWindows().draw(r).stream()
                .map(c -> OpCase.of(c.args(), s(c.args().geometry().columns()))).toList();
    }

    /** Large planes and many channels (forward only). */
    static CaseGenerator<Pool> largePools() {
        return r -> List.of(OpCase.of(new Pool(2, 2, true), s(4, 16, 28, 28)),
                OpCase.of(new Pool(3, 1, false), s(2, 5, 31, 17)));
    }

    /** Logits (B, K), K >= 1, with a label in [0, K) per row; B may be 0 (the mean is then NaN). */
    static CaseGenerator<Labels> labels() {
        return r -> {
            List<OpCase<Labels>> cases = new ArrayList<>(List.of(OpCase.of(new Labels(new int[] {0}), s(1, 1)),
                    OpCase.of(new Labels(new int[] {2, 0, 2}), s(3, 3)), OpCase.of(new Labels(new int[0]), s(0, 4)),
                    OpCase.of(new Labels(new int[] {4, 1}), s(2, 5))));
            for (int i = 0; i < RANDOM_CASES; i++) {
                int b = 1 + r.nextInt(4);
                int k = 1 + r.nextInt(5);
                int[] labels = new int[b];
                for (int j = 0; j < b; j++) {
                    labels[j] = r.nextInt(k);
                }
                cases.add(OpCase.of(new Labels(labels), s(b, k)));
            }
            return cases;
        };
    }

    /** Logits (B, K) and target rows: random distributions, one-hot rows, uniform rows. */
    static CaseGenerator<Targets> targets() {
        return r -> {
            List<OpCase<Targets>> cases = new ArrayList<>(List.of(
                    OpCase.of(new Targets(new double[] {1}, false), s(1, 1)),
                    OpCase.of(new Targets(new double[] {0, 1, 0, 0.5, 0.5, 0}, true), s(2, 3)),
                    OpCase.of(new Targets(new double[0], false), s(0, 3))));
            for (int i = 0; i < RANDOM_CASES; i++) {
                int b = 1 + r.nextInt(4);
                int k = 1 + r.nextInt(5);
                double[] t = new double[b * k];
                for (int row = 0; row < b; row++) {
                    double kind = r.nextDouble();
                    double sum = 0;
                    for (int c = 0; c < k; c++) {
                        t[row * k + c] = kind < 0.3 ? 1 : r.nextDouble();
                        sum += t[row * k + c];
                    }
                    int hot = r.nextInt(k);
                    for (int c = 0; c < k; c++) {
                        t[row * k + c] = kind > 0.8 ? (c == hot ? 1 : 0) : t[row * k + c] / sum;
                    }
                }
                cases.add(OpCase.of(new Targets(t, r.nextBoolean()), s(b, k)));
            }
            return cases;
        };
    }

    /** x (batch..., in) of rank 2 or 3, kernel (in, out), bias (out,); in, out >= 1, batch dimensions may be 0. */
    static CaseGenerator<Void> dense() {
        return r -> {
            List<OpCase<Void>> cases = new ArrayList<>(List.of(OpCase.of(null, s(1, 1), s(1, 1), s(1)),
                    OpCase.of(null, s(2, 3), s(3, 4), s(4)), OpCase.of(null, s(0, 3), s(3, 2), s(2)),
                    OpCase.of(null, s(2, 2, 3), s(3, 1), s(1))));
            for (int i = 0; i < RANDOM_CASES; i++) {
                long in = 1 + r.nextInt(4);
                long out = 1 + r.nextInt(4);
                long[] lead = ShapeCases.shape(r, 1, 2, true);
                long[] x = java.util.Arrays.copyOf(lead, lead.length + 1);
                x[lead.length] = in;
                cases.add(OpCase.of(null, x, s(in, out), s(out)));
            }
            return cases;
        };
    }

    /** x (N, C, ...) of rank 2..4 and gamma, beta, running mean, running variance (C,). */
    static CaseGenerator<Norm> batchNorm(boolean training) {
        return r -> {
            List<OpCase<Norm>> cases = new ArrayList<>(List.of(
                    OpCase.of(new Norm(training, 1e-3), s(3, 2), s(2), s(2), s(2), s(2)),
                    OpCase.of(new Norm(training, 1e-5), s(2, 3, 2, 2), s(3), s(3), s(3), s(3)),
                    OpCase.of(new Norm(training, 0.1), s(1, 1), s(1), s(1), s(1), s(1)),
                    OpCase.of(new Norm(training, 1e-3), s(4, 2, 3), s(2), s(2), s(2), s(2))));
            for (int i = 0; i < RANDOM_CASES; i++) {
                long[] x = ShapeCases.shape(r, 2, 4, false);
                long c = x[1];
                cases.add(OpCase.of(new Norm(training, r.nextBoolean() ? 1e-3 : 1e-2), x, s(c), s(c), s(c), s(c)));
            }
            return cases;
        };
    }

    /** Any shape; rates 0, 0.25 and 0.5 (exact in float32), in training or evaluation mode. */
    static CaseGenerator<Drop> dropout() {
        return r -> {
            List<OpCase<Drop>> cases = new ArrayList<>(List.of(OpCase.of(new Drop(0.5, true, 1), s(4, 5)),
                    OpCase.of(new Drop(0.25, true, 7), s()), OpCase.of(new Drop(0.5, true, 2), s(0, 3)),
                    OpCase.of(new Drop(0, true, 3), s(3)), OpCase.of(new Drop(0.5, false, 4), s(2, 3))));
            double[] rates = {0, 0.25, 0.5};
            for (int i = 0; i < RANDOM_CASES; i++) {
                cases.add(OpCase.of(new Drop(rates[r.nextInt(3)], r.nextDouble() < 0.75, r.nextInt(1000)),
                        ShapeCases.shape(r, 0, 3, true)));
            }
            return cases;
        };
    }

    /** Images (N, C, H, W) with H, W >= 2. */
    static CaseGenerator<Void> images() {
        return r -> {
            List<OpCase<Void>> cases = new ArrayList<>(List.of(OpCase.of(null, s(1, 1, 2, 2)),
                    OpCase.of(null, s(0, 2, 3, 3)), OpCase.of(null, s(2, 3, 4, 2))));
            for (int i = 0; i < RANDOM_CASES; i++) {
                cases.add(OpCase.of(null, s(batch(r), 1 + r.nextInt(3), 2 + r.nextInt(4), 2 + r.nextInt(4))));
            }
            return cases;
        };
    }

    /** Shapes of rank >= 1 (Flatten needs a batch axis). */
    static CaseGenerator<Void> batched() {
        return r -> {
            List<OpCase<Void>> cases = new ArrayList<>(List.of(OpCase.of(null, s(3)), OpCase.of(null, s(0, 3)),
                    OpCase.of(null, s(2, 0)), OpCase.of(null, s(2, 3, 4)), OpCase.of(null, s(1, 1, 1, 1))));
            for (int i = 0; i < RANDOM_CASES; i++) {
                cases.add(OpCase.of(null, ShapeCases.shape(r, 1, 4, true)));
            }
            return cases;
        };
    }
}
