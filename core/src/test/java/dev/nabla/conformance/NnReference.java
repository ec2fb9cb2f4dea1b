package dev.nabla.conformance;

import dev.nabla.backend.Philox;
import dev.nabla.backend.WindowGeometry;

/**
 * Scalar references of the neural-network functions and layers (dev.nabla.nn), written from their definitions as
 * plain loops over {@link HostTensor}s: direct convolution (no im2col), window loops for pooling, the cross-entropy
 * sums, batch statistics.
 */
final class NnReference {
    private NnReference() {
    }

    /** Output size and leading padding of one spatial axis: TF's "valid" and "same" rules. */
    private record Axis(int out, int before) {
        /**
         * valid: out = floor((in - k) / s) + 1, no padding; same: out = ceil(in / s), total padding
         * max((out - 1) s + k - in, 0) of which floor(total / 2) before (the odd one after, as TF).
         */
        static Axis of(long in, long k, int s, String padding) {
            if (padding.equals("valid")) {
                return new Axis((int) ((in - k) / s + 1), 0);
            }
            int out = (int) ((in + s - 1) / s);
            long total = Math.max((out - 1) * (long) s + k - in, 0);
            return new Axis(out, (int) (total / 2));
        }
    }

    /**
     * y[n, o, i, j] = b[o] + sum_{c, p, q} x[n, c, i s + p - top, j s + q - left] k[o, c, p, q], x read as 0
     * outside the image; x (N, C, H, W), k (O, C, KH, KW), b (O,) or null.
     */
    static HostTensor conv2d(HostTensor x, HostTensor k, HostTensor b, int stride, String padding) {
        long[] xs = x.shape();
        long[] ks = k.shape();
        Axis rows = Axis.of(xs[2], ks[2], stride, padding);
        Axis cols = Axis.of(xs[3], ks[3], stride, padding);
        return HostTensor.generate(new long[] {xs[0], ks[0], rows.out(), cols.out()}, idx -> {
            long n = idx[0];
            long o = idx[1];
            double acc = b == null ? 0 : b.at(o);
            for (long c = 0; c < xs[1]; c++) {
                for (long p = 0; p < ks[2]; p++) {
                    for (long q = 0; q < ks[3]; q++) {
                        long r = idx[2] * stride + p - rows.before();
                        long s = idx[3] * stride + q - cols.before();
                        if (r >= 0 && r < xs[2] && s >= 0 && s < xs[3]) {
                            acc += x.at(n, c, r, s) * k.at(o, c, p, q);
                        }
                    }
                }
            }
            return acc;
        });
    }

    /**
     * im2col by its definition: cols[(c KH + i) KW + j, (n OH + oy) OW + ox] = x[n, c, oy s + i - top, ox s + j - left],
     * zero outside the image.
     */
    static HostTensor im2col(HostTensor x, WindowGeometry g) {
        return HostTensor.generate(new long[] {g.rows(), g.columns()}, idx -> {
            long c = idx[0] / ((long) g.kernelH() * g.kernelW());
            long i = idx[0] / g.kernelW() % g.kernelH();
            long j = idx[0] % g.kernelW();
            long n = idx[1] / ((long) g.outH() * g.outW());
            long y = idx[1] / g.outW() % g.outH() * g.stride() + i - g.padTop();
            long z = idx[1] % g.outW() * g.stride() + j - g.padLeft();
            return y >= 0 && y < g.height() && z >= 0 && z < g.width() ? x.at(n, c, y, z) : 0;
        });
    }

    /**
     * Max pooling's choice by its definition: per window (column of {@link #im2col}), the flat NCHW index of its
     * first maximum in row order, where a NaN is the maximum and the first NaN wins; written as a search for the
     * largest value that remembers the first position reaching it.
     */
    static HostTensor maxPoolIndices(HostTensor x, WindowGeometry g) {
        return HostTensor.generate(new long[] {g.columns()}, idx -> {
            long n = idx[0] / ((long) g.outH() * g.outW());
            long y0 = idx[0] / g.outW() % g.outH() * g.stride();
            long z0 = idx[0] % g.outW() * g.stride();
            long best = -1;
            double bv = 0;
            for (long c = 0; c < g.channels(); c++) {
                for (long i = 0; i < g.kernelH(); i++) {
                    for (long j = 0; j < g.kernelW(); j++) {
                        double v = x.at(n, c, y0 + i, z0 + j);
                        boolean firstNaN = Double.isNaN(v) && !Double.isNaN(bv);
                        if (best < 0 || firstNaN || (!Double.isNaN(bv) && v > bv)) {
                            bv = v;
                            best = ((n * g.channels() + c) * g.height() + y0 + i) * g.width() + z0 + j;
                        }
                    }
                }
            }
            return best;
        });
    }

    /** Max pooling's values by their definition: each window's element at its {@link #maxPoolIndices}. */
    static HostTensor maxPool(HostTensor x, WindowGeometry g) {
        double[] chosen = maxPoolIndices(x, g).data();
        return HostTensor.generate(new long[] {g.columns()}, idx -> x.data()[(int) chosen[(int) idx[0]]]);
    }

    /**
     * The indices max pooling chooses in a fixed pseudo-random image of {@code g} of small integers (ties, and with
     * overlapping windows one element chosen by several): the indices of the maxPoolGradient rows.
     */
    static int[] maxPoolIndicesOfSomeImage(WindowGeometry g) {
        java.util.Random r = new java.util.Random(g.hashCode());
        double[] v = new double[(int) g.inputSize()];
        for (int i = 0; i < v.length; i++) {
            v[i] = r.nextInt(4);
        }
        double[] chosen = maxPoolIndices(new HostTensor(inputShape(g), v), g).data();
        int[] out = new int[chosen.length];
        for (int q = 0; q < out.length; q++) {
            out[q] = (int) chosen[q];
        }
        return out;
    }

    /** Max pooling's gradient by its definition: zeros of the image with {@code grad[q]} added at {@code indices[q]}. */
    static HostTensor maxPoolGradient(HostTensor grad, int[] indices, WindowGeometry g) {
        double[] x = new double[(int) g.inputSize()];
        for (int q = 0; q < indices.length; q++) {
            x[indices[q]] += grad.data()[q];
        }
        return new HostTensor(inputShape(g), x);
    }

    private static long[] inputShape(WindowGeometry g) {
        return new long[] {g.images(), g.channels(), g.height(), g.width()};
    }

    /** col2im as the transpose of {@link #im2col}: every input element sums the column entries that read it. */
    static HostTensor col2im(HostTensor cols, WindowGeometry g) {
        return col2im(cols, g, false);
    }

    /**
     * {@link #col2im}, its terms added from zero in the order of their rows, each sum rounded to float32 when
     * {@code float32}: the order the backend interface specifies, so the CPU's result is these bits.
     */
    static HostTensor col2im(HostTensor cols, WindowGeometry g, boolean float32) {
        return HostTensor.generate(new long[] {g.images(), g.channels(), g.height(), g.width()}, idx -> {
            double sum = 0;
            for (long i = 0; i < g.kernelH(); i++) {
                for (long j = 0; j < g.kernelW(); j++) {
                    long dy = idx[2] + g.padTop() - i;
                    long dz = idx[3] + g.padLeft() - j;
                    if (dy < 0 || dz < 0 || dy % g.stride() != 0 || dz % g.stride() != 0) {
                        continue;
                    }
                    long oy = dy / g.stride();
                    long oz = dz / g.stride();
                    if (oy < g.outH() && oz < g.outW()) {
                        long row = (idx[1] * g.kernelH() + i) * g.kernelW() + j;
                        sum += cols.at(row, (idx[0] * g.outH() + oy) * g.outW() + oz);
                        sum = float32 ? (float) sum : sum;
                    }
                }
            }
            return sum;
        });
    }

    /**
     * "valid" pooling of x (N, C, H, W) over size x size windows moving by stride: out = floor((in - size) / stride)
     * + 1 per axis, y[n, c, i, j] = max (or mean) of x[n, c, i stride + p, j stride + q] over 0 <= p, q < size.
     */
    static HostTensor pool(HostTensor x, int size, int stride, boolean max) {
        long[] xs = x.shape();
        long oh = (xs[2] - size) / stride + 1;
        long ow = (xs[3] - size) / stride + 1;
        return HostTensor.generate(new long[] {xs[0], xs[1], oh, ow}, idx -> {
            double best = Double.NEGATIVE_INFINITY;
            double sum = 0;
            for (int p = 0; p < size; p++) {
                for (int q = 0; q < size; q++) {
                    double v = x.at(idx[0], idx[1], idx[2] * stride + p, idx[3] * stride + q);
                    best = Math.max(best, v);
                    sum += v;
                }
            }
            return max ? best : sum / (size * size);
        });
    }

    /**
     * Mean cross-entropy of logits z (B, K) against target rows t: L = (1/B) sum_b sum_c t[b, c] (lse_b - z[b, c]),
     * lse_b = m_b + log sum_c e^(z[b, c] - m_b), m_b = max_c z[b, c] (= -log softmax(z_b)_c weighted by t).
     */
    static HostTensor crossEntropy(HostTensor z, double[] targets) {
        int rows = (int) z.shape()[0];
        int classes = (int) z.shape()[1];
        double total = 0;
        for (int b = 0; b < rows; b++) {
            double m = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < classes; c++) {
                m = Math.max(m, z.at(b, c));
            }
            double s = 0;
            for (int c = 0; c < classes; c++) {
                s += Math.exp(z.at(b, c) - m);
            }
            double lse = m + Math.log(s);
            for (int c = 0; c < classes; c++) {
                total += targets[b * classes + c] * (lse - z.at(b, c));
            }
        }
        return new HostTensor(new long[0], new double[] {total / rows});
    }

    /** One-hot rows of INT32 labels, as the targets of {@link #crossEntropy}. */
    static double[] oneHotRows(int[] labels, int classes) {
        double[] t = new double[labels.length * classes];
        for (int b = 0; b < labels.length; b++) {
            t[b * classes + labels[b]] = 1;
        }
        return t;
    }

    /**
     * Batch normalization over axis 1 of x (N, C, ...): y = (x - mu_c) / sqrt(var_c + eps) gamma_c + beta_c, with
     * mu and the biased variance var over every axis but 1 (training), or the given running statistics (evaluation).
     */
    static HostTensor batchNorm(HostTensor x, HostTensor gamma, HostTensor beta, HostTensor runningMean,
            HostTensor runningVariance, boolean training, double epsilon) {
        int channels = (int) x.shape()[1];
        double[] mu = new double[channels];
        double[] var = new double[channels];
        if (training) {
            int[] count = new int[channels];
            for (int i = 0; i < x.data().length; i++) {
                int c = (int) HostTensor.multiIndex(i, x.shape())[1];
                mu[c] += x.data()[i];
                count[c]++;
            }
            for (int c = 0; c < channels; c++) {
                mu[c] /= count[c];
            }
            for (int i = 0; i < x.data().length; i++) {
                int c = (int) HostTensor.multiIndex(i, x.shape())[1];
                var[c] += (x.data()[i] - mu[c]) * (x.data()[i] - mu[c]) / count[c];
            }
        } else {
            for (int c = 0; c < channels; c++) {
                mu[c] = runningMean.at(c);
                var[c] = runningVariance.at(c);
            }
        }
        return HostTensor.generate(x.shape(), i -> {
            int c = (int) i[1];
            return (x.at(i) - mu[c]) / Math.sqrt(var[c] + epsilon) * gamma.at(c) + beta.at(c);
        });
    }

    /**
     * Inverted dropout in training: y_i = x_i / (1 - rate) where u_i >= rate, else 0. u_i is element i of a fresh
     * Rng(seed)'s uniform stream: word i mod 4 of the Philox4x32-10 block for counter i / 4 (the generator's
     * definition, pinned to the backends by RandomTest), its top 24 bits w as (w + 1/2) 2^-24.
     */
    static HostTensor dropout(HostTensor x, double rate, long seed) {
        double[] out = new double[x.data().length];
        for (int i = 0; i < out.length; i++) {
            int word = Philox.block(seed, i / 4)[i % 4];
            double u = ((word >>> 8) + 0.5) / (1 << 24);
            out[i] = u >= rate ? x.data()[i] / (1 - rate) : 0;
        }
        return new HostTensor(x.shape().clone(), out);
    }
}
