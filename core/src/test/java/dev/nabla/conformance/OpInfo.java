package dev.nabla.conformance;

import dev.nabla.DType;
import dev.nabla.Tensor;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * A row of the {@link OpTable} (in the spirit of PyTorch's OpInfo): everything the conformance suite needs to
 * test one op. Start a row with {@link #op} and adjust the defaults with the {@code with...} methods.
 *
 * @param name             what failures call the op, e.g. {@code "sum"} or {@code "add(double)"}
 * @param family           the test class that runs the row
 * @param arity            the number of tensor inputs
 * @param cases            random and edge-case shapes and arguments, drawn from a seeded Random
 * @param call             how to call the op on device tensors
 * @param reference        the plain scalar reference on host doubles, written in the test
 * @param domain           where input values come from
 * @param dtypes           the input dtypes the forward check runs
 * @param resultType       the result dtype for an input dtype
 * @param float32Tolerance forward tolerance for FLOAT32 (|actual - expected| <= tol * max(1, |expected|))
 * @param float64Tolerance forward tolerance for FLOAT64
 * @param gradientTolerance GradientChecker's relative tolerance; negative: the op has no gradient to check
 * @param largeCases       a few shapes big enough for a backend's vectorized and parallel paths (forward only),
 *                         or null
 * @param api              the public method(s) the row covers for {@link OpCoverageTest}: {@code "Owner.method"}
 *                         (every overload) or {@code "Owner.method(ParamType, ...)"} (one); null: {@code "Tensor."}
 *                         and the name up to its first parenthesis
 * @param <A>              the type of the op's non-tensor arguments
 */
record OpInfo<A>(String name, Family family, int arity, CaseGenerator<A> cases, Call<A> call, Reference<A> reference,
        Domain domain, Set<DType> dtypes, UnaryOperator<DType> resultType, double float32Tolerance,
        double float64Tolerance, double gradientTolerance, CaseGenerator<A> largeCases, String api) {

    /** Which test class runs a row. */
    enum Family { UNARY, BINARY, COMPARISON, REDUCTION, LINEAR_ALGEBRA, SHAPE, INDEXING, CAST, NN }

    /** Draws the cases of a row. */
    @FunctionalInterface
    interface CaseGenerator<A> {
        List<OpCase<A>> draw(Random r);
    }

    /** Calls the op on tensors. */
    @FunctionalInterface
    interface Call<A> {
        Tensor apply(List<Tensor> inputs, A args);
    }

    /** Computes the expected result on the host. */
    @FunctionalInterface
    interface Reference<A> {
        HostTensor apply(List<HostTensor> inputs, A args);
    }

    static final Set<DType> FLOATS = Set.of(DType.FLOAT32, DType.FLOAT64);
    static final Set<DType> NUMERIC = Set.of(DType.FLOAT32, DType.FLOAT64, DType.INT32);

    /** A differentiable float op on REAL inputs with the default tolerances. */
    static <A> OpInfo<A> op(String name, Family family, int arity, CaseGenerator<A> cases, Call<A> call,
            Reference<A> reference) {
        return new OpInfo<>(name, family, arity, cases, call, reference, Domain.REAL, FLOATS, t -> t, 2e-5, 1e-12,
                1e-6, null, null);
    }

    OpInfo<A> withDomain(Domain d) {
        return new OpInfo<>(name, family, arity, cases, call, reference, d, dtypes, resultType, float32Tolerance,
                float64Tolerance, gradientTolerance, largeCases, api);
    }

    OpInfo<A> withReference(Reference<A> r) {
        return new OpInfo<>(name, family, arity, cases, call, r, domain, dtypes, resultType, float32Tolerance,
                float64Tolerance, gradientTolerance, largeCases, api);
    }

    OpInfo<A> withLargeCases(CaseGenerator<A> large) {
        return new OpInfo<>(name, family, arity, cases, call, reference, domain, dtypes, resultType,
                float32Tolerance, float64Tolerance, gradientTolerance, large, api);
    }

    OpInfo<A> withDtypes(Set<DType> t) {
        return new OpInfo<>(name, family, arity, cases, call, reference, domain, t, resultType, float32Tolerance,
                float64Tolerance, gradientTolerance, largeCases, api);
    }

    OpInfo<A> withResultType(UnaryOperator<DType> r) {
        return new OpInfo<>(name, family, arity, cases, call, reference, domain, dtypes, r, float32Tolerance,
                float64Tolerance, gradientTolerance, largeCases, api);
    }

    OpInfo<A> withTolerances(double float32, double float64) {
        return new OpInfo<>(name, family, arity, cases, call, reference, domain, dtypes, resultType, float32,
                float64, gradientTolerance, largeCases, api);
    }

    /** The public method(s) the row covers: see {@code api} above. */
    OpInfo<A> covering(String method) {
        return new OpInfo<>(name, family, arity, cases, call, reference, domain, dtypes, resultType,
                float32Tolerance, float64Tolerance, gradientTolerance, largeCases, method);
    }

    String apiKey() {
        return api != null ? api : "Tensor." + name.replaceFirst("\\(.*", "");
    }

    OpInfo<A> withGradientTolerance(double tol) {
        return new OpInfo<>(name, family, arity, cases, call, reference, domain, dtypes, resultType,
                float32Tolerance, float64Tolerance, tol, largeCases, api);
    }

    /** A row whose op carries no gradient (comparisons, argmax, integer results). */
    OpInfo<A> withoutGradient() {
        return new OpInfo<>(name, family, arity, cases, call, reference, domain, dtypes, resultType,
                float32Tolerance, float64Tolerance, -1, largeCases, api);
    }

    boolean differentiable() {
        return gradientTolerance >= 0;
    }

    double forwardTolerance(DType t) {
        return switch (t) {
            case FLOAT32 -> float32Tolerance;
            case FLOAT64 -> float64Tolerance;
            default -> 0;
        };
    }

    @Override
    public String toString() {
        return name;
    }
}
