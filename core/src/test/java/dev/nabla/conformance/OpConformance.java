package dev.nabla.conformance;

import static org.junit.jupiter.api.Assertions.fail;

import dev.nabla.DType;
import dev.nabla.Device;
import dev.nabla.Shape;
import dev.nabla.Tensor;
import dev.nabla.check.GradientChecker;
import dev.nabla.conformance.OpInfo.Family;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Random;

/**
 * Runs op table rows on a device: the forward result against the row's scalar reference, for every dtype and case,
 * and the gradient against central differences with {@link GradientChecker} (FLOAT64). Failures of all rows and
 * cases are collected, so one run reports every broken op.
 */
final class OpConformance {
    private OpConformance() {
    }

    /** Forward results of a family's rows match their references. */
    static void assertForward(Device d, Family family) {
        report("forward", family, OpTable.family(family).stream().flatMap(row -> forward(d, row).stream()).toList());
    }

    /** Forward results of a family's rows on their large cases (the backend's fast paths) match their references. */
    static void assertForwardOnLargeShapes(Device d, Family family) {
        report("large-shape forward", family, OpTable.family(family).stream().filter(row -> row.largeCases() != null)
                .flatMap(row -> forwardOnLargeCases(d, row).stream()).toList());
    }

    private static <A> List<String> forwardOnLargeCases(Device d, OpInfo<A> row) {
        return forward(d, row, row.largeCases());
    }

    /** Gradients of a family's differentiable rows match central differences. */
    static void assertGradients(Device d, Family family) {
        report("gradient", family, OpTable.family(family).stream().filter(OpInfo::differentiable)
                .flatMap(row -> gradient(d, row).stream()).toList());
    }

    private static void report(String what, Family family, List<String> failures) {
        if (!failures.isEmpty()) {
            fail(failures.size() + " " + what + " failure(s) in " + family + ":\n" + String.join("\n", failures));
        }
    }

    /** The row's cases, from a seed fixed by its name (String.hashCode is specified, so runs repeat). */
    private static <A> List<OpCase<A>> cases(OpInfo<A> row) {
        return row.cases().draw(new Random(row.name().hashCode()));
    }

    static <A> List<String> forward(Device d, OpInfo<A> row) {
        return forward(d, row, row.cases());
    }

    static <A> List<String> forward(Device d, OpInfo<A> row, OpInfo.CaseGenerator<A> generator) {
        List<OpCase<A>> cases = generator.draw(new Random(row.name().hashCode()));
        List<String> failures = new ArrayList<>();
        Random values = new Random(~row.name().hashCode());
        List<DType> dtypes = row.dtypes().stream().sorted(Comparator.comparing(Enum::ordinal)).toList();
        for (DType t : dtypes) {
            for (OpCase<A> c : cases) {
                List<Tensor> in = new ArrayList<>();
                List<HostTensor> host = new ArrayList<>();
                for (int i = 0; i < c.shapes().size(); i++) {
                    DeviceTensors.Input input = DeviceTensors.random(d, t, c.shapes().get(i), row.domain(), values, i);
                    in.add(input.tensor());
                    host.add(input.host());
                }
                String where = row.name() + " " + t + " " + c;
                try (Tensor out = row.call().apply(in, c.args())) {
                    HostTensor expected = row.reference().apply(host, c.args());
                    String mismatch = mismatch(expected, row.resultType().apply(t), out,
                            row.forwardTolerance(row.resultType().apply(t)));
                    if (mismatch != null) {
                        failures.add(where + " inputs " + abbreviated(host.toString()) + ": " + abbreviated(mismatch));
                    }
                } catch (RuntimeException | AssertionError e) {
                    failures.add(where + ": threw " + describe(e));
                } finally {
                    in.forEach(Tensor::close);
                }
            }
        }
        return failures;
    }

    static <A> List<String> gradient(Device d, OpInfo<A> row) {
        List<String> failures = new ArrayList<>();
        Random values = new Random(31 * row.name().hashCode());
        for (OpCase<A> c : cases(row)) {
            List<Tensor> in = new ArrayList<>();
            for (int i = 0; i < c.shapes().size(); i++) {
                in.add(DeviceTensors.random(d, DType.FLOAT64, c.shapes().get(i), row.domain(), values, i).tensor());
            }
            try {
                GradientChecker.check(x -> row.call().apply(x, c.args()), in).assertWithin(row.gradientTolerance());
            } catch (RuntimeException | AssertionError e) {
                failures.add(row.name() + " " + c + " at " + in.stream().map(t -> Arrays.toString(t.toDoubleArray()))
                        .toList() + ": " + describe(e));
            }
        }
        return failures;
    }

    private static String abbreviated(String s) {
        return s.length() <= 600 ? s : s.substring(0, 600) + "...";
    }

    /** The throwable with the frames that locate it (assertion failures speak for themselves). */
    private static String describe(Throwable e) {
        if (e instanceof AssertionError) {
            return e.toString();
        }
        return e + " at " + Arrays.stream(e.getStackTrace()).limit(4).map(StackTraceElement::toString).toList();
    }

    /**
     * Null when {@code actual} has the expected shape and dtype and every element is within
     * {@code tol * max(1, |expected|)} of the reference converted to that dtype (NaN matches NaN); else what differs.
     */
    static String mismatch(HostTensor expected, DType dtype, Tensor actual, double tol) {
        if (!actual.shape().equals(Shape.of(expected.shape()))) {
            return "shape " + actual.shape() + ", expected " + Shape.format(expected.shape());
        }
        if (actual.dtype() != dtype) {
            return "dtype " + actual.dtype() + ", expected " + dtype;
        }
        double[] a = actual.toDoubleArray();
        double[] e = DeviceTensors.representable(dtype, truncateForInt(dtype, expected.data()));
        for (int i = 0; i < a.length; i++) {
            boolean same = a[i] == e[i] || (Double.isNaN(a[i]) && Double.isNaN(e[i]))
                    || Math.abs(a[i] - e[i]) <= tol * Math.max(1, Math.abs(e[i]));
            if (!same) {
                return "element " + i + Arrays.toString(HostTensor.multiIndex(i, expected.shape())) + " is " + a[i]
                        + ", expected " + e[i] + " (actual " + Arrays.toString(a) + ")";
            }
        }
        return null;
    }

    /** INT32 results of real-valued references (division, mean) truncate toward zero, as Java's (int) cast. */
    private static double[] truncateForInt(DType t, double[] v) {
        return t == DType.INT32 ? Arrays.stream(v).map(x -> (int) x).toArray() : v;
    }
}
