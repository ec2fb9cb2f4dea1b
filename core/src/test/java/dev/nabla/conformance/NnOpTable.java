package dev.nabla.conformance;

import static dev.nabla.conformance.OpInfo.Family.NN;
import static dev.nabla.conformance.OpInfo.op;

import dev.nabla.DType;
import dev.nabla.Rng;
import dev.nabla.Tensor;
import dev.nabla.conformance.OpArgs.Conv;
import dev.nabla.nn.AvgPool2d;
import dev.nabla.ops.Convolution;
import dev.nabla.nn.BatchNorm;
import dev.nabla.nn.Conv2d;
import dev.nabla.nn.Dense;
import dev.nabla.nn.Dropout;
import dev.nabla.nn.Flatten;
import dev.nabla.nn.Functional;
import dev.nabla.nn.MaxPool2d;
import dev.nabla.nn.Layer;
import dev.nabla.nn.Relu;
import dev.nabla.nn.Sequential;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The op table's rows for dev.nabla.nn: {@link Functional}'s functions and the layers' {@code forward}, with the
 * references of {@link NnReference}. Layers whose variables are FLOAT32 (Conv2d, Dense, BatchNorm) get their
 * values from the row's inputs through {@code loadStateDict} and are checked forward in FLOAT32 only (the gradient
 * checker needs FLOAT64; their math is the rows of the functions they call); the others are checked like any op.
 */
final class NnOpTable {
    private NnOpTable() {
    }

    private static final Set<DType> FLOAT32 = Set.of(DType.FLOAT32);

    static final List<OpInfo<?>> ROWS = List.of(
            // ---- Functional --------------------------------------------------------------------------------
            op("conv2d", NN, 3, NnCases.conv2d(),
                    (in, a) -> Functional.conv2d(in.get(0), in.get(1), in.size() > 2 ? in.get(2) : null, a.stride(),
                            a.padding()),
                    (in, a) -> NnReference.conv2d(in.get(0), in.get(1), in.size() > 2 ? in.get(2) : null, a.stride(),
                            a.padding()))
                    .withTolerances(1e-4, 1e-12).withLargeCases(NnCases.largeConv2d()).covering("Functional.conv2d"),
            // distinct values: no ties inside a window, where max has no derivative
            op("maxPool2d", NN, 1, NnCases.pools(), (in, a) -> Functional.maxPool2d(in.get(0), a.size(), a.stride()),
                    (in, a) -> NnReference.pool(in.get(0), a.size(), a.stride(), true)).withDomain(Domain.DISTINCT)
                    .withDtypes(OpInfo.NUMERIC).withLargeCases(NnCases.largePools()).covering("Functional.maxPool2d"),
            op("avgPool2d", NN, 1, NnCases.pools(), (in, a) -> Functional.avgPool2d(in.get(0), a.size(), a.stride()),
                    (in, a) -> NnReference.pool(in.get(0), a.size(), a.stride(), false))
                    .withTolerances(5e-5, 1e-12).withLargeCases(NnCases.largePools()).covering("Functional.avgPool2d"),
            // internal (dev.nabla.ops): the sliding windows under conv2d and pooling, and their adjoint
            op("im2col", NN, 1, NnCases.windows(false), (in, a) -> Convolution.im2col(in.get(0), a.geometry()),
                    (in, a) -> NnReference.im2col(in.get(0), a.geometry())).withDtypes(OpInfo.NUMERIC)
                    .covering("Convolution.im2col"),
            // small integers tie often: the first maximum (NaN: WindowPrimitivesTest)
            op("maxPoolIndices", NN, 1, NnCases.unpaddedWindows(),
                    (in, a) -> Convolution.maxPoolIndices(in.get(0), a.geometry()),
                    (in, a) -> NnReference.maxPoolIndices(in.get(0), a.geometry())).withDomain(Domain.SMALL_INTEGERS)
                    .withDtypes(OpInfo.NUMERIC).withResultType(t -> DType.INT32).withoutGradient()
                    .covering("Convolution.maxPoolIndices"),
            // the gather under maxPool2d, with its own gradient rule (distinct values: no ties inside a window)
            op("maxPool", NN, 1, NnCases.unpaddedWindows(),
                    (in, a) -> Convolution.maxPool(in.get(0), Convolution.maxPoolIndices(in.get(0), a.geometry()),
                            a.geometry()),
                    (in, a) -> NnReference.maxPool(in.get(0), a.geometry())).withDomain(Domain.DISTINCT)
                    .withDtypes(OpInfo.NUMERIC).covering("Convolution.maxPool"),
            op("maxPoolGradient", NN, 1, NnCases.poolGradients(),
                    (in, a) -> Convolution.maxPoolGradient(in.get(0), Tensor.of(in.get(0).device(),
                            NnReference.maxPoolIndicesOfSomeImage(a.geometry()), a.geometry().columns()),
                            a.geometry()),
                    (in, a) -> NnReference.maxPoolGradient(in.get(0),
                            NnReference.maxPoolIndicesOfSomeImage(a.geometry()), a.geometry()))
                    .withDtypes(OpInfo.NUMERIC).withTolerances(1e-5, 1e-12).covering("Convolution.maxPoolGradient"),
            op("col2im", NN, 1, NnCases.windows(true), (in, a) -> Convolution.col2im(in.get(0), a.geometry()),
                    (in, a) -> NnReference.col2im(in.get(0), a.geometry())).withDtypes(OpInfo.NUMERIC)
                    .withTolerances(1e-5, 1e-12).covering("Convolution.col2im"),
            op("softmaxCrossEntropy", NN, 1, NnCases.labels(),
                    (in, a) -> Functional.softmaxCrossEntropy(in.get(0), Tensor.of(in.get(0).device(), a.labels())),
                    (in, a) -> NnReference.crossEntropy(in.get(0),
                            NnReference.oneHotRows(a.labels(), (int) in.get(0).shape()[1])))
                    .withTolerances(5e-5, 1e-12).covering("Functional.softmaxCrossEntropy"),
            // the targets are data (no gradient), so they come with the case, in the logits' dtype
            op("softmaxCrossEntropyWithProbabilities", NN, 1, NnCases.targets(), (in, a) -> {
                Tensor z = in.get(0);
                Tensor t = DeviceTensors.of(z.device(), z.dtype(), z.shape().dims(), a.values());
                return a.dispatch() ? Functional.softmaxCrossEntropy(z, t)
                        : Functional.softmaxCrossEntropyWithProbabilities(z, t);
            }, (in, a) -> NnReference.crossEntropy(in.get(0), a.values())).withTolerances(5e-5, 1e-12)
                    .covering("Functional.softmaxCrossEntropyWithProbabilities"),
            // mean over all elements of (p - t)^2; NaN (0/0) for empty tensors
            op("meanSquaredError", NN, 2, NnCases.samePair(),
                    (in, a) -> Functional.meanSquaredError(in.get(0), in.get(1)), (in, a) -> {
                        double[] p = in.get(0).data();
                        double[] t = in.get(1).data();
                        double s = 0;
                        for (int i = 0; i < p.length; i++) {
                            s += (p[i] - t[i]) * (p[i] - t[i]);
                        }
                        return new HostTensor(new long[0], new double[] {s / p.length});
                    }).withTolerances(5e-5, 1e-12).covering("Functional.meanSquaredError"),
            // a fresh Rng(seed) per call, so the gradient checker's repeated calls see one mask
            op("dropout", NN, 1, NnCases.dropout(),
                    (in, a) -> Functional.dropout(in.get(0), a.rate(), Rng.seeded(a.seed()), a.training()),
                    (in, a) -> a.training() && a.rate() > 0 ? NnReference.dropout(in.get(0), a.rate(), a.seed())
                            : in.get(0)).covering("Functional.dropout"),

            // ---- layers --------------------------------------------------------------------------------
            op("Conv2d.forward", NN, 3, squareKernelsWithBias(), (in, a) -> {
                long[] k = in.get(1).shape().dims();
                Conv2d layer = new Conv2d((int) k[1], (int) k[0], (int) k[2], a.stride(), a.padding(), Rng.seeded(0),
                        in.get(0).device());
                return load(layer, Map.of("kernel", in.get(1), "bias", in.get(2))).forward(in.get(0));
            }, (in, a) -> NnReference.conv2d(in.get(0), in.get(1), in.get(2), a.stride(), a.padding()))
                    .withDtypes(FLOAT32).withTolerances(1e-4, 0).withoutGradient().covering("Conv2d.forward"),
            // x @ kernel + bias: out[..., j] = b[j] + sum_i x[..., i] k[i, j]
            op("Dense.forward", NN, 3, NnCases.dense(), (in, a) -> {
                long[] k = in.get(1).shape().dims();
                Dense layer = new Dense((int) k[0], (int) k[1], Rng.seeded(0), in.get(0).device());
                return load(layer, Map.of("kernel", in.get(1), "bias", in.get(2))).forward(in.get(0));
            }, (in, a) -> HostTensor.broadcast(Reference.matmul(in.get(0), in.get(1)), in.get(2), Double::sum))
                    .withDtypes(FLOAT32).withTolerances(5e-5, 0).withoutGradient().covering("Dense.forward"),
            op("MaxPool2d.forward", NN, 1, NnCases.pools(),
                    (in, a) -> (a.defaultStride() ? new MaxPool2d(a.size()) : new MaxPool2d(a.size(), a.stride()))
                            .forward(in.get(0)),
                    (in, a) -> NnReference.pool(in.get(0), a.size(), a.stride(), true)).withDomain(Domain.DISTINCT)
                    .covering("MaxPool2d.forward"),
            op("AvgPool2d.forward", NN, 1, NnCases.pools(),
                    (in, a) -> (a.defaultStride() ? new AvgPool2d(a.size()) : new AvgPool2d(a.size(), a.stride()))
                            .forward(in.get(0)),
                    (in, a) -> NnReference.pool(in.get(0), a.size(), a.stride(), false)).withTolerances(5e-5, 1e-12)
                    .covering("AvgPool2d.forward"),
            // (N, d1, d2, ...) -> (N, d1 d2 ...), the values in row-major order unchanged
            op("Flatten.forward", NN, 1, NnCases.batched(), (in, a) -> new Flatten().forward(in.get(0)), (in, a) -> {
                long[] s = in.get(0).shape();
                long rest = 1;
                for (int i = 1; i < s.length; i++) {
                    rest *= s[i];
                }
                return in.get(0).withShape(s[0], rest);
            }).withDtypes(OpInfo.NUMERIC).covering("Flatten.forward"),
            op("Relu.forward", NN, 1, ShapeCases.single(), (in, a) -> new Relu().forward(in.get(0)),
                    (in, a) -> in.get(0).map(x -> x > 0 ? x : 0)).withDomain(Domain.NONZERO)
                    .withDtypes(OpInfo.NUMERIC).covering("Relu.forward"),
            op("Dropout.forward", NN, 1, NnCases.dropout(), (in, a) -> {
                Dropout layer = new Dropout(a.rate(), Rng.seeded(a.seed()));
                if (!a.training()) {
                    layer.eval();
                }
                return layer.forward(in.get(0));
            }, (in, a) -> a.training() && a.rate() > 0 ? NnReference.dropout(in.get(0), a.rate(), a.seed())
                    : in.get(0)).covering("Dropout.forward"),
            batchNorm(true),
            batchNorm(false),
            // a composition: max-pool 2 x 2 by 1, relu, flatten
            op("Sequential.forward", NN, 1, NnCases.images(),
                    (in, a) -> new Sequential(new MaxPool2d(2, 1), new Relu(), new Flatten()).forward(in.get(0)),
                    (in, a) -> {
                        HostTensor p = NnReference.pool(in.get(0), 2, 1, true).map(x -> x > 0 ? x : 0);
                        long[] s = p.shape();
                        return p.withShape(s[0], s[1] * s[2] * s[3]);
                    }).withDomain(Domain.DISTINCT).covering("Sequential.forward"));

    private static OpInfo<OpArgs.Norm> batchNorm(boolean training) {
        return op("BatchNorm.forward(" + (training ? "training" : "evaluation") + ")", NN, 5,
                NnCases.batchNorm(training), (in, a) -> {
                    BatchNorm layer = new BatchNorm((int) in.get(0).shape().dims()[1], 0.9, a.epsilon(),
                            in.get(0).device());
                    load(layer, Map.of("gamma", in.get(1), "beta", in.get(2), "moving_mean", in.get(3),
                            "moving_variance", in.get(4)));
                    if (!a.training()) {
                        layer.eval();
                    }
                    return layer.forward(in.get(0));
                }, (in, a) -> NnReference.batchNorm(in.get(0), in.get(1), in.get(2), in.get(3), in.get(4),
                        a.training(), a.epsilon()))
                // the running variance is positive
                .withDomain(Domain.perInput(Domain.REAL, Domain.REAL, Domain.REAL, Domain.REAL, Domain.POSITIVE))
                .withDtypes(FLOAT32).withTolerances(2e-4, 0).withoutGradient().covering("BatchNorm.forward");
    }

    private static <M extends Layer> M load(M layer, Map<String, Tensor> state) {
        layer.loadStateDict(state);
        return layer;
    }

    /**
     * conv2d's cases with square kernels (KH x KH, the image widened for "valid") and always a bias; without those
     * of no channels, which the layer's constructor refuses.
     */
    private static OpInfo.CaseGenerator<Conv> squareKernelsWithBias() {
        return r -> {
            List<OpCase<Conv>> out = new ArrayList<>();
            for (OpCase<Conv> c : NnCases.conv2d().draw(r)) {
                long[] x = c.shapes().get(0).clone();
                long[] k = c.shapes().get(1).clone();
                if (k[0] == 0 || k[1] == 0) {
                    continue;
                }
                k[3] = k[2];
                if (c.args().padding().equals("valid")) {
                    x[3] = Math.max(x[3], k[3]);
                }
                out.add(OpCase.of(c.args(), x, k, new long[] {k[0]}));
            }
            return out;
        };
    }
}
