package dev.nabla.summary;

import dev.nabla.summary.proto.HistogramProto;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * TensorFlow's default histogram: bucket edges ±1e-12·1.1^k up to 1e20 and ±DBL_MAX around 0, a value counted in the
 * first bucket whose limit exceeds it, and runs of empty buckets collapsed into one, as TF's {@code Histogram}
 * encodes them; unlike TF, the empty runs at either end are dropped (see {@link #of}).
 */
final class Histograms {
    private static final double[] LIMITS = limits();

    private Histograms() {
    }

    private static double[] limits() {
        List<Double> pos = new ArrayList<>();
        // repeated multiplication, not 1e-12 * pow(1.1, k): TF builds the edges this way and the last bits differ
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

    /**
     * The histogram of {@code values}. TensorBoard draws bucket i from limit i-1 to limit i, the first from
     * {@code min} and the last to {@code max}; TF's leading and trailing empty runs would become buckets whose left
     * edge lies right of their right edge (older TensorBoards draw them so), hence they are left out here. An empty
     * array gives {@code num} 0 and no buckets.
     *
     * @throws IllegalArgumentException for NaN or infinite values, as TF's histogram summary op refuses them: they
     *     have no bucket, and min/max/sum would hide the finite distribution
     */
    static HistogramProto of(String tag, double[] values) {
        double[] counts = new double[LIMITS.length];
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        double sum = 0;
        double sumSquares = 0;
        for (int k = 0; k < values.length; k++) {
            double v = values[k];
            if (!Double.isFinite(v)) {
                throw new IllegalArgumentException("SummaryWriter.histogram: '" + tag + "' holds " + v
                        + " at flat index " + k + "; a histogram needs finite values");
            }
            // NOTE: binarySearch orders -0.0 below 0.0 and TF's operator< does not, so -0.0 is searched as 0.0
            int i = Arrays.binarySearch(LIMITS, v == 0 ? 0.0 : v);
            // the first limit strictly greater than v; DBL_MAX itself stays in the last bucket
            int bucket = i >= 0 ? i + 1 : -i - 1;
            counts[Math.min(bucket, counts.length - 1)]++;
            min = Math.min(min, v);
            max = Math.max(max, v);
            sum += v;
            sumSquares += v * v;
        }
        HistogramProto.Builder h = HistogramProto.newBuilder().setNum(values.length).setSum(sum)
                .setSumSquares(sumSquares).setMin(values.length == 0 ? 0 : min).setMax(values.length == 0 ? 0 : max);
        int first = 0;
        while (first < counts.length && counts[first] == 0) {
            first++;
        }
        int last = counts.length - 1;
        while (last >= first && counts[last] == 0) {
            last--;
        }
        for (int i = first; i <= last;) {
            double end = LIMITS[i];
            double count = counts[i++];
            if (count == 0) {
                // an inner run of empty buckets becomes one, ending where the next filled bucket starts
                while (counts[i] == 0) {
                    end = LIMITS[i++];
                }
            }
            h.addBucketLimit(end).addBucket(count);
        }
        return h.build();
    }
}
