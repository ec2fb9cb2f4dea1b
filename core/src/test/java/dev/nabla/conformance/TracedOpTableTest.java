package dev.nabla.conformance;

import static org.junit.jupiter.api.Assertions.fail;

import dev.nabla.DType;
import dev.nabla.Device;
import dev.nabla.Tensor;
import dev.nabla.check.GradientChecker;
import dev.nabla.graph.GraphFunction;
import dev.nabla.graph.TracedFunction;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Random;

/**
 * Every op-table row through a traced function: the replayed graph gives the eager result bit for bit, on new
 * values of the same shapes too (no retrace), and GradientChecker's gradients through the traced function agree
 * with central differences.
 */
class TracedOpTableTest {
    @OnEachDevice
    void tracedEqualsEagerBitForBitForEveryRow(Device d) {
        List<String> failures = new ArrayList<>();
        for (OpInfo<?> row : OpTable.ROWS) {
            failures.addAll(compare(d, row));
        }
        if (!failures.isEmpty()) {
            fail(failures.size() + " traced/eager mismatch(es):\n" + String.join("\n", failures));
        }
    }

    private static <A> List<String> compare(Device d, OpInfo<A> row) {
        List<String> failures = new ArrayList<>();
        List<OpCase<A>> cases = row.cases().draw(new Random(row.name().hashCode()));
        Random values = new Random(~row.name().hashCode());
        for (DType t : row.dtypes().stream().sorted(Comparator.comparing(Enum::ordinal)).toList()) {
            for (OpCase<A> c : cases) {
                String where = row.name() + " " + t + " " + c;
                try {
                    TracedFunction f = GraphFunction.of(row.name(), c.shapes().size(),
                            in -> row.call().apply(List.of(in), c.args()));
                    for (int call = 0; call < (drawsEachCall(c) ? 1 : 3); call++) {
                        List<Tensor> in = new ArrayList<>();
                        for (int i = 0; i < c.shapes().size(); i++) {
                            in.add(DeviceTensors.random(d, t, c.shapes().get(i), row.domain(), values, i).tensor());
                        }
                        double[] eager = bits(row.call().apply(in, c.args()), in);
                        double[] traced = bits(f.call(in.toArray(new Tensor[0])), in);
                        if (!Arrays.equals(eager, traced)) {
                            failures.add(where + " call " + call + ": traced " + Arrays.toString(traced) + ", eager "
                                    + Arrays.toString(eager));
                        }
                    }
                    if (f.traceCount() != 1) {
                        failures.add(where + ": traced " + f.traceCount() + " times for one signature");
                    }
                } catch (RuntimeException | AssertionError e) {
                    failures.add(where + ": threw " + e + " at "
                            + Arrays.stream(e.getStackTrace()).limit(6).map(StackTraceElement::toString).toList());
                }
            }
        }
        return failures;
    }

    /**
     * Dropout in training draws from an Rng the row makes on each call; a traced function keeps drawing from the one
     * made while it traced, so every replay takes new numbers (a stateful generator, as in TF) and only the tracing
     * call can equal an eager call.
     */
    private static boolean drawsEachCall(OpCase<?> c) {
        String args = String.valueOf(c.args());
        return args.contains("training") && !args.contains("rate=0.0");
    }

    /** The values with NaNs made canonical (a NaN's payload is not part of an op's meaning). */
    private static double[] bits(Tensor t, List<Tensor> inputs) {
        double[] v = t.toDoubleArray();
        if (inputs.stream().noneMatch(i -> i == t)) {
            t.close();              // an op may hand back its input (dropout at rate 0)
        }
        return v;
    }

    @OnEachDevice
    void gradientsThroughTracedFunctionsMatchCentralDifferences(Device d) {
        List<String> failures = new ArrayList<>();
        for (OpInfo<?> row : OpTable.ROWS) {
            if (row.differentiable()) {
                failures.addAll(gradient(d, row));
            }
        }
        if (!failures.isEmpty()) {
            fail(failures.size() + " gradient failure(s) through traced functions:\n" + String.join("\n", failures));
        }
    }

    private static <A> List<String> gradient(Device d, OpInfo<A> row) {
        List<String> failures = new ArrayList<>();
        Random values = new Random(31 * row.name().hashCode());
        for (OpCase<A> c : row.cases().draw(new Random(row.name().hashCode()))) {
            if (drawsEachCall(c)) {
                continue;
            }
            List<Tensor> in = new ArrayList<>();
            for (int i = 0; i < c.shapes().size(); i++) {
                in.add(DeviceTensors.random(d, DType.FLOAT64, c.shapes().get(i), row.domain(), values, i).tensor());
            }
            TracedFunction f = GraphFunction.of(row.name(), in.size(), x -> row.call().apply(List.of(x), c.args()));
            try {
                GradientChecker.check(x -> f.call(x.toArray(new Tensor[0])), in).assertWithin(row.gradientTolerance());
            } catch (RuntimeException | AssertionError e) {
                failures.add(row.name() + " " + c + ": " + e);
            }
        }
        return failures;
    }

    /**
     * A tape around a replayed call records one node whose gradient is the traced backward: for every differentiable
     * row, in FLOAT32 and FLOAT64, its gradients (of the sum of the result times a fixed weight, so that every output
     * element matters differently) equal the eager tape's bit for bit.
     */
    @OnEachDevice
    void tapeGradientsThroughReplayedCallsEqualTheEagerOnesBitForBit(Device d) {
        List<String> failures = new ArrayList<>();
        for (OpInfo<?> row : OpTable.ROWS) {
            if (row.differentiable()) {
                failures.addAll(tapeGradients(d, row));
            }
        }
        if (!failures.isEmpty()) {
            fail(failures.size() + " traced/eager gradient mismatch(es):\n" + String.join("\n", failures));
        }
    }

    private static <A> List<String> tapeGradients(Device d, OpInfo<A> row) {
        List<String> failures = new ArrayList<>();
        List<OpCase<A>> cases = row.cases().draw(new Random(row.name().hashCode()));
        Random values = new Random(17 * row.name().hashCode());
        for (DType t : List.of(DType.FLOAT32, DType.FLOAT64)) {
            if (!row.dtypes().contains(t)) {
                continue;
            }
            for (OpCase<A> c : cases) {
                if (drawsEachCall(c)) {
                    continue;
                }
                String where = row.name() + " " + t + " " + c;
                try {
                    java.util.function.Function<List<Tensor>, Tensor> body = in -> {
                        Tensor y = row.call().apply(in, c.args());
                        // weights 1, 2, 3... over the result's elements: an unweighted sum hides swapped gradients
                        Tensor w = Tensor.arange(y.device(), (int) y.size()).to(y.dtype()).add(1).reshape(y.shape().dims());
                        return y.mul(w).sum();
                    };
                    GraphFunction f = GraphFunction.of(row.name(), c.shapes().size(), x -> body.apply(List.of(x)));
                    for (int call = 0; call < 3; call++) {
                        List<Tensor> in = new ArrayList<>();
                        for (int i = 0; i < c.shapes().size(); i++) {
                            in.add(DeviceTensors.random(d, t, c.shapes().get(i), row.domain(), values, i).tensor());
                        }
                        List<double[]> eager = tapeGradients(body, in);
                        List<double[]> traced = tapeGradients(x -> f.call(x.toArray(new Tensor[0])), in);
                        for (int i = 0; i < eager.size(); i++) {
                            if (!sameGradient(row, t, eager.get(i), traced.get(i))) {
                                failures.add(where + " call " + call + " gradient " + i + ": traced "
                                        + Arrays.toString(traced.get(i)) + ", eager " + Arrays.toString(eager.get(i)));
                            }
                        }
                    }
                } catch (RuntimeException | AssertionError e) {
                    failures.add(where + ": threw " + e + " at "
                            + Arrays.stream(e.getStackTrace()).limit(6).map(StackTraceElement::toString).toList());
                }
            }
        }
        return failures;
    }

    /**
     * Rows whose customGradient's forward reads a value made in the body (the cross entropies' one-hot targets): the
     * user's rule may hold the trace's tensors, so a replay under a tape records the body's own ops (ARCHITECTURE.md,
     * Graphs); their gradient is the same function by the ordinary rules, equal to the rule's up to rounding.
     */
    private static final java.util.Set<String> BODY_OPS_REPLACE_THE_RULE =
            java.util.Set.of("softmaxCrossEntropy", "softmaxCrossEntropyWithProbabilities");

    private static boolean sameGradient(OpInfo<?> row, DType t, double[] eager, double[] traced) {
        if (!BODY_OPS_REPLACE_THE_RULE.contains(row.name()) || eager == null || traced == null
                || eager.length != traced.length) {
            return Arrays.equals(eager, traced);
        }
        double tolerance = t == DType.FLOAT32 ? row.float32Tolerance() : row.float64Tolerance();
        for (int i = 0; i < eager.length; i++) {
            if (!(Math.abs(eager[i] - traced[i]) <= tolerance * Math.max(1, Math.abs(eager[i])))) {
                return false;
            }
        }
        return true;
    }

    private static List<double[]> tapeGradients(java.util.function.Function<List<Tensor>, Tensor> body,
            List<Tensor> in) {
        try (dev.nabla.GradientTape tape = new dev.nabla.GradientTape()) {
            tape.watch(in.toArray(new Tensor[0]));
            Tensor y = body.apply(in);
            List<double[]> r = new ArrayList<>();
            for (Tensor g : tape.gradient(y, in)) {
                r.add(g == null ? null : g.toDoubleArray());
            }
            return r;
        }
    }
}
