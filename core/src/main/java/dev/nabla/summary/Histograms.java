package dev.nabla.summary;

import dev.nabla.summary.proto.HistogramProto;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * TensorFlow's default histogram: bucket edges ±1e-12·1.1^k up to 1e20 and ±DBL_MAX around 0, a value counted in the
 * first bucket whose limit exceeds it, and runs of empty buckets collapsed into one, as TF's {@code Histogram}
 * encodes them.
 */
final class Histograms {
    private static final double[] LIMITS = limits();

    private Histograms() {
    }

    private static double[] limits() {
        List<Double> pos = new ArrayList<>();
        for (double v = 1e-12; v < 1e20; v *= 1.1) {
            pos.add(v);
        }
        pos.add(Double.MAX_VALUE);
        double[] all = new double[2 * pos.size() + 1];
        for (int i = 0; i < pos.size(); i++) {
            all[pos.size() - 1 - i] = -pos.get(i);
            all[pos.size() + 1 + i] = pos.get(i);
        }
        all[pos.size()] = 0;
        return all;
    }

    static HistogramProto of(double[] values) {
        double[] counts = new double[LIMITS.length];
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        double sum = 0;
        double sumSquares = 0;
        for (double v : values) {
            int i = Arrays.binarySearch(LIMITS, v);
            // the first limit strictly greater than v
            int bucket = i >= 0 ? i + 1 : -i - 1;
            counts[Math.min(bucket, counts.length - 1)]++;
            min = Math.min(min, v);
            max = Math.max(max, v);
            sum += v;
            sumSquares += v * v;
        }
        HistogramProto.Builder h = HistogramProto.newBuilder().setNum(values.length).setSum(sum)
                .setSumSquares(sumSquares).setMin(values.length == 0 ? 0 : min).setMax(values.length == 0 ? 0 : max);
        for (int i = 0; i < counts.length;) {
            double end = LIMITS[i];
            double count = counts[i++];
            if (count <= 0) {
                while (i < counts.length && counts[i] <= 0) {
                    end = LIMITS[i];
                    count = counts[i++];
                }
            }
            h.addBucketLimit(end).addBucket(count);
        }
        return h.build();
    }
}
