package dev.nabla.conformance.fuzz;

import static org.junit.jupiter.api.Assertions.fail;

import dev.nabla.DType;
import dev.nabla.Device;
import dev.nabla.GradientTape;
import dev.nabla.Nabla;
import dev.nabla.Rng;
import dev.nabla.Scope;
import dev.nabla.Tensor;
import dev.nabla.Variable;
import dev.nabla.conformance.OnEachDevice;
import dev.nabla.conformance.fuzz.Program.Kind;
import dev.nabla.conformance.fuzz.Program.Step;
import dev.nabla.conformance.fuzz.ProgramGenerator.Generated;
import dev.nabla.graph.GraphFunction;
import dev.nabla.graph.TracedFunction;
import dev.nabla.internal.TensorAccess;
import dev.nabla.nn.Functional;
import dev.nabla.ops.Deferral;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * Differential fuzzing: seeded random programs (see {@link ProgramGenerator}) run on each device and on the float64
 * {@link Reference} interpreter; every intermediate value, every gradient of {@code sum(last float value)} with
 * respect to every float input (through a {@link GradientTape}), and every rejection must agree.
 *
 * <ul>
 *   <li>Forward values: within the reference's per-element bound (exact where the library must be bit-exact;
 *       NaN matches NaN, infinities match in sign, and exact zeros in sign).</li>
 *   <li>Gradients: within the bound of the reference's own reverse mode; elements where the function is not
 *       differentiable (relu/abs at 0, ties of maximum/minimum and of max/min reductions) or not finite are skipped
 *       and counted; a source with no recorded path to the loss must get null.</li>
 *   <li>Invalid programs (the reference rejects a step): that step must throw IllegalArgumentException whose message
 *       starts with the op's name ({@code "add: ..."}), and no step may throw anything else.</li>
 *   <li>Traced (each device): each valid program, as one traced function with its tape, loss and gradients, must
 *       give the eager body's bits when traced and when replayed as an optimized plan.</li>
 *   <li>Deferred (where the backend defers element-wise ops): each valid program again with every element-wise op
 *       deferred, once without a tape, its values read only at the end, and once under a tape with its gradients:
 *       the eager run's bits.</li>
 * </ul>
 *
 * <p>System properties: {@code nabla.fuzz.programs} (default 10,000; the long mode is e.g. 1,000,000),
 * {@code nabla.fuzz.first} (the first program index, default 0), {@code nabla.fuzz.seed} (a number, or
 * {@code random}; default fixed), {@code nabla.fuzz.only} (one program index, printed), {@code nabla.fuzz.failures}
 * (how many failures to describe, default 5), {@code nabla.fuzz.opCounts} (print ops executed by kind),
 * {@code nabla.fuzz.debug} (print the reference's reverse pass, node by node; with {@code nabla.fuzz.only}),
 * {@code nabla.fuzz.traced} (false: skip the traced runs).
 */
class DifferentialFuzzTest {
    static final long DEFAULT_SEED = 20_260_211L;

    /** Counters for the summary line. */
    static final class Stats {
        long programs;
        long ops;
        long invalidDeliberate;
        long invalidNatural;
        long exact;
        long bounded;
        long skipped;
        long gradPrograms;
        long gradExact;
        long gradBounded;
        long gradSkipped;
        long gradNulls;
        /** The largest |actual - reference| / bound over bounded elements: how close a correct result came. */
        double worstRatio;
        double gradWorstRatio;
        String worstWhere = "";
        String gradWorstWhere = "";
        long truncated;
        long traced;
        long deferred;
        long secondPrograms;
        long secondExact;
        long secondBounded;
        long referenceNanos;
        long deviceNanos;
        final Map<String, Integer> kinds = new TreeMap<>();
    }

    @OnEachDevice
    void randomProgramsAgreeWithTheReference(Device device) {
        int programs = Integer.getInteger("nabla.fuzz.programs", 10_000);
        String seedProp = System.getProperty("nabla.fuzz.seed", "").trim();
        long seed = seedProp.isEmpty() ? DEFAULT_SEED
                : seedProp.equals("random") ? System.nanoTime() : Long.parseLong(seedProp);
        Integer only = Integer.getInteger("nabla.fuzz.only");
        int describe = Integer.getInteger("nabla.fuzz.failures", 5);
        boolean cpu = !device.isCuda();
        int first = Integer.getInteger("nabla.fuzz.first", 0);
        int from = only != null ? only : first;
        int to = only != null ? only + 1 : first + programs;

        Stats st = new Stats();
        List<String> failures = new ArrayList<>();
        Map<String, Integer> signatures = new TreeMap<>();
        System.out.printf("fuzz [%s] seed %d: programs %d to %d%n", device, seed, from, to - 1);
        long start = System.nanoTime();
        long lastReport = start;
        for (int i = from; i < to; i++) {
            long t0 = System.nanoTime();
            Generated g = ProgramGenerator.generate(seed, i, cpu);
            long t1 = System.nanoTime();
            st.referenceNanos += t1 - t0;
            if (g.truncated()) {
                st.truncated++;
            }
            if (only != null) {
                System.out.println(g.program());
            }
            Failure f = run(device, g, st);
            st.deviceNanos += System.nanoTime() - t1;
            st.programs++;
            if (f != null) {
                signatures.merge(f.signature, 1, Integer::sum);
                if (failures.size() < describe) {
                    failures.add(f.message + "\n" + g.program());
                    // printed at once too, so that a long run stopped early still shows what it found
                    System.out.println("fuzz FAILURE [" + device + "] " + f.signature + ": " + f.message + "\n"
                            + g.program());
                }
            }
            if (System.nanoTime() - lastReport > 60e9) {
                lastReport = System.nanoTime();
                System.out.printf("fuzz [%s] %d/%d programs, %d ops, %d cut short, %d failing, %.0f s%n", device,
                        st.programs, to - from, st.ops, st.truncated,
                        signatures.values().stream().mapToInt(Integer::intValue).sum(), (lastReport - start) / 1e9);
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        int failing = signatures.values().stream().mapToInt(Integer::intValue).sum();
        System.out.printf("fuzz [%s] seed %d: %d programs in %.1f s (generator and reference %.1f s, device and "
                + "checks %.1f s), %d ops executed, %d invalid programs checked "
                + "(%d on purpose, %d by chance); forward elements: %d exact, %d within bounds, %d skipped "
                + "(uncertain); gradients of %d programs: %d elements exact, %d within bounds, %d skipped "
                + "(not smooth or not finite), %d null gradients checked; second order of %d programs: %d elements "
                + "exact, %d within bounds; %d programs also traced; %d also deferred; %d programs cut short before a "
                + "value over 2^21 "
                + "elements; %d failing%n",
                device, seed, st.programs, seconds, st.referenceNanos / 1e9, st.deviceNanos / 1e9, st.ops, st.invalidDeliberate + st.invalidNatural,
                st.invalidDeliberate, st.invalidNatural, st.exact, st.bounded, st.skipped, st.gradPrograms,
                st.gradExact, st.gradBounded, st.gradSkipped, st.gradNulls, st.secondPrograms, st.secondExact,
                st.secondBounded, st.traced, st.deferred, st.truncated, failing);
        System.out.printf("fuzz [%s] closest approach to a bound (|actual - reference| / bound): forward %.3g (%s), "
                + "gradients %.3g (%s)%n", device, st.worstRatio, st.worstWhere, st.gradWorstRatio,
                st.gradWorstWhere);
        if (Boolean.getBoolean("nabla.fuzz.opCounts")) {
            System.out.println("fuzz ops executed by kind: " + st.kinds);
        }
        if (!signatures.isEmpty()) {
            fail(failing + " of " + st.programs + " programs disagree (seed " + seed + "); by kind: " + signatures
                    + "\n\n" + String.join("\n", failures));
        }
    }

    record Failure(String signature, String message) {
    }

    // ---- running a program on a device -----------------------------------------------------------------------

    private static Failure run(Device d, Generated g, Stats st) {
        Program p = g.program();
        List<Step> steps = p.steps();
        Tensor[] t = new Tensor[steps.size()];
        List<Tensor> made = new ArrayList<>();
        // the outer tape records the program and the inner tape's reverse pass, for the second-order check
        GradientTape outer = g.secondGradients() != null ? new GradientTape() : null;
        GradientTape tape = new GradientTape();
        try {
            for (int i = 0; i < steps.size(); i++) {
                Step s = steps.get(i);
                boolean invalid = i == p.invalidAt();
                try {
                    t[i] = exec(d, s, t);
                    made.add(t[i]);
                    if (s.kind() == Kind.INPUT && t[i].dtype().isFloating()) {
                        tape.watch(t[i]);
                        if (outer != null) {
                            outer.watch(t[i]);
                        }
                    }
                } catch (IllegalArgumentException e) {
                    String msg = String.valueOf(e.getMessage());
                    if (!invalid) {
                        return new Failure(s.kind().api + ": rejected a valid op",
                                "step %" + i + " (" + s.kind().api + ") threw " + e + " but the reference accepts it"
                                        + "\n" + stackTop(e));
                    }
                    if (!msg.startsWith(s.kind().api + ":")) {
                        return new Failure(s.kind().api + ": message does not name the op",
                                "step %" + i + " threw IllegalArgumentException \"" + msg + "\"; its message should "
                                        + "start with \"" + s.kind().api + ":\" (reference: " + p.invalidWhy() + ")");
                    }
                    if (p.deliberate()) {
                        st.invalidDeliberate++;
                    } else {
                        st.invalidNatural++;
                    }
                    return null;
                } catch (RuntimeException | Error e) {
                    rethrowIfFatal(e);
                    return new Failure(s.kind().api + ": threw " + e.getClass().getSimpleName(),
                            "step %" + i + " (" + s.kind().api + ") threw " + e + (invalid ? " instead of "
                                    + "IllegalArgumentException (reference: " + p.invalidWhy() + ")" : "") + "\n"
                                    + stackTop(e));
                }
                if (invalid) {
                    return new Failure(s.kind().api + ": accepted an invalid op",
                            "step %" + i + " returned " + describe(t[i]) + " but should throw "
                                    + "IllegalArgumentException (reference: " + p.invalidWhy() + ")");
                }
                st.ops++;
                st.kinds.merge(s.kind().api, 1, Integer::sum);
                double before = st.worstRatio;
                String c = compare(g.values().get(i), t[i], true, st);
                if (st.worstRatio > before) {
                    st.worstWhere = "program " + p.index() + " step %" + i + " (" + s.kind().api + ") "
                            + st.worstWhere;
                }
                if (c != null) {
                    return new Failure(s.kind().api + ": wrong value", "step %" + i + " (" + s.kind().api + "): " + c
                            + "\n  reference: " + g.values().get(i) + "\n  got:       " + describe(t[i]));
                }
            }
            List<Tensor> firsts = new ArrayList<>();
            Failure f = gradients(g, t, tape, made, firsts, st);
            if (f == null && outer != null) {
                f = secondGradients(g, t, outer, firsts, made, st);
            }
            if (outer != null) {
                outer.close();                  // before the traced run, which it would record
            }
            if (f == null && DEFERRED && t.length > 0 && TensorAccess.backend(t[0]).defersElementwise()) {
                f = deferred(d, g, t, firsts, st);
            }
            return f == null && TRACED ? traced(g, t, st) : f;
        } catch (RuntimeException | Error e) {
            rethrowIfFatal(e);
            return new Failure("harness: " + e.getClass().getSimpleName(), "checking threw " + e + "\n" + stackTop(e));
        } finally {
            tape.close();
            if (outer != null) {
                outer.close();
            }
            for (Tensor x : made) {
                x.close();
            }
        }
    }

    private static Failure gradients(Generated g, Tensor[] t, GradientTape tape, List<Tensor> made,
            List<Tensor> firsts, Stats st) {
        if (g.lossStep() < 0 || g.sources().isEmpty()) {
            return null;
        }
        Tensor loss;
        List<Tensor> grads;
        try {
            loss = t[g.lossStep()].sum();
            made.add(loss);
            grads = tape.gradient(loss, g.sources().stream().map(i -> t[i]).toList());
        } catch (RuntimeException | Error e) {
            rethrowIfFatal(e);
            return new Failure("gradient: threw " + e.getClass().getSimpleName(), "the gradient of sum(%"
                    + g.lossStep() + ") threw " + e + "\n" + stackTop(e));
        }
        st.gradPrograms++;
        firsts.addAll(grads);
        for (int j = 0; j < grads.size(); j++) {
            Tensor got = grads.get(j);
            RefTensor want = g.gradients().get(j);
            int src = g.sources().get(j);
            if (got != null) {
                made.add(got);
            }
            if (want == null || got == null) {
                if ((want == null) != (got == null)) {
                    return new Failure("gradient: null mismatch", "gradient of sum(%" + g.lossStep() + ") by %" + src
                            + ": got " + (got == null ? "null" : describe(got)) + ", expected "
                            + (want == null ? "null (no recorded path)" : want));
                }
                st.gradNulls++;
                continue;
            }
            Stats gs = new Stats();
            String c = compare(want, got, false, gs);
            st.gradExact += gs.exact;
            st.gradBounded += gs.bounded;
            st.gradSkipped += gs.skipped;
            if (gs.worstRatio > st.gradWorstRatio) {
                st.gradWorstRatio = gs.worstRatio;
                st.gradWorstWhere = "program " + g.program().index() + " gradient by %" + src + " " + gs.worstWhere;
            }
            if (c != null) {
                return new Failure("gradient: wrong value", "gradient of sum(%" + g.lossStep() + ") by %" + src
                        + ": " + c + "\n  reference: " + want + "\n  got:       " + describe(got));
            }
        }
        return null;
    }

    /**
     * The gradients, by every source, of the sum of the first-order gradients' sums (each cast to FLOAT64), through
     * the outer tape that recorded the inner tape's reverse pass. Null and zeros are one answer here: whether a rule
     * records a path whose derivative is zero (relu's mask) is the library's choice.
     */
    private static Failure secondGradients(Generated g, Tensor[] t, GradientTape outer, List<Tensor> firsts,
            List<Tensor> made, Stats st) {
        Tensor total = sumOfSums(firsts, made);
        if (total == null) {
            return null;
        }
        List<Tensor> grads;
        try {
            grads = outer.gradient(total, g.sources().stream().map(i -> t[i]).toList());
        } catch (RuntimeException | Error e) {
            rethrowIfFatal(e);
            return new Failure("second order: threw " + e.getClass().getSimpleName(), "the gradient of the "
                    + "gradients' sum threw " + e + "\n" + stackTop(e));
        }
        st.secondPrograms++;
        for (int j = 0; j < grads.size(); j++) {
            Tensor got = grads.get(j);
            RefTensor want = g.secondGradients().get(j);
            int src = g.sources().get(j);
            if (got != null) {
                made.add(got);
            }
            if (want == null && got == null) {
                continue;
            }
            RefTensor source = g.values().get(src);
            if (want == null) {
                want = new RefTensor(source.shape, source.dtype, new double[source.size()],
                        new double[source.size()]);
            }
            if (got == null) {
                got = Tensor.zerosLike(t[src]);
                made.add(got);
            }
            Stats gs = new Stats();
            String c = compare(want, got, false, gs);
            st.secondExact += gs.exact;
            st.secondBounded += gs.bounded;
            if (c != null) {
                return new Failure("second order: wrong value", "gradient of the first-order gradients' sum by %"
                        + src + ": " + c + "\n  reference: " + want + "\n  got:       " + describe(got));
            }
        }
        return null;
    }

    /**
     * The second-order check's loss: the sum of every non-null first-order gradient's sum, each cast to FLOAT64 (the
     * sources' dtypes may differ); null if there is none. Intermediates go to {@code made} when it is not null.
     */
    private static Tensor sumOfSums(List<Tensor> firsts, List<Tensor> made) {
        Tensor total = null;
        for (Tensor first : firsts) {
            if (first != null) {
                Tensor s = first.sum().to(DType.FLOAT64);
                total = total == null ? s : total.add(s);
                if (made != null) {
                    made.add(s);
                    made.add(total);
                }
            }
        }
        return total;
    }

    /** Whether valid programs are also run traced ({@code nabla.fuzz.traced}, default true). */
    private static final boolean TRACED = Boolean.parseBoolean(System.getProperty("nabla.fuzz.traced", "true"));

    /**
     * The program as one traced function (its inputs the program's inputs, its body the same steps, a tape, the loss
     * and its gradients, and under an outer tape the second-order gradients) must give the eager body's bits at the
     * trace and at a replay: its last value, the loss's value and the gradients, in one FLOAT64 vector. The replay
     * runs the optimized plan (dead code, constant folding, CSE, fusion of element-wise chains and reductions, permuted
     * operands, memory planning), so random compositions reach rewrites that the op-by-op tests do not. Traced = eager
     * bit for bit on every device: on CUDA the fused chains are generated PTX (each op rounded, nothing contracted
     * into an FMA, the eager kernels' math library) and the replay a CUDA graph; CI checks that on the emulated
     * driver, which interprets the same PTX.
     */
    private static Failure traced(Generated g, Tensor[] eager, Stats st) {
        Program p = g.program();
        List<Step> steps = p.steps();
        if (steps.isEmpty()) {
            return null;                        // cut short before its first value: nothing to trace
        }
        List<Tensor> inputs = new ArrayList<>();
        for (int i = 0; i < steps.size(); i++) {
            if (steps.get(i).kind() == Kind.INPUT) {
                inputs.add(eager[i]);
            }
        }
        Tensor[] in = inputs.toArray(Tensor[]::new);
        boolean second = g.secondGradients() != null;
        Function<Tensor[], Tensor> body = args -> {
            Tensor[] t = new Tensor[steps.size()];
            // as in the eager run: an outer tape records the inner one's reverse pass for the second order
            try (GradientTape outer = second ? new GradientTape() : null; GradientTape tape = new GradientTape()) {
                for (int i = 0, k = 0; i < steps.size(); i++) {
                    Step s = steps.get(i);
                    t[i] = s.kind() == Kind.INPUT ? args[k++] : exec(null, s, t);
                    if (s.kind() == Kind.INPUT && t[i].dtype().isFloating()) {
                        tape.watch(t[i]);
                        if (outer != null) {
                            outer.watch(t[i]);
                        }
                    }
                }
                List<Tensor> out = new ArrayList<>();
                out.add(t[steps.size() - 1].to(DType.FLOAT64).reshape(-1));
                if (g.lossStep() >= 0 && !g.sources().isEmpty()) {
                    List<Tensor> sources = g.sources().stream().map(i -> t[i]).toList();
                    Tensor loss = t[g.lossStep()].sum();
                    out.add(loss.to(DType.FLOAT64).reshape(-1));
                    List<Tensor> firsts = tape.gradient(loss, sources);
                    Tensor total = outer != null ? sumOfSums(firsts, null) : null;
                    List<Tensor> all = new ArrayList<>(firsts);
                    if (total != null) {
                        all.addAll(outer.gradient(total, sources));
                    }
                    for (Tensor grad : all) {
                        if (grad != null) {
                            out.add(grad.to(DType.FLOAT64).reshape(-1));
                        }
                    }
                }
                return Nabla.concat(out, 0);
            }
        };
        try (Scope scope = Nabla.scope()) {
            double[] want = body.apply(in).toDoubleArray();
            TracedFunction f = GraphFunction.of("fuzz program " + p.index(), in.length, body);
            // a dropout draws from its Rng on every call, so a replay's draws are new ones (as tf.function's are)
            boolean drawsAnew = steps.stream().anyMatch(s -> s.kind() == Kind.DROPOUT && s.dims()[1] != 0
                    && s.constant() > 0);
            for (String call : drawsAnew ? new String[] {"traced"} : new String[] {"traced", "replayed"}) {
                double[] got = f.call(in).toDoubleArray();
                if (!Arrays.equals(want, got)) {
                    int at = Arrays.mismatch(want, got);
                    return new Failure("traced: differs from eager", call + " call: element " + at + " of (last value,"
                            + " loss, gradients) " + (at < got.length ? got[at] : "missing") + ", eager "
                            + (at < want.length ? want[at] : "missing") + "\n" + f.listing());
                }
            }
        } catch (RuntimeException | Error e) {
            rethrowIfFatal(e);
            return new Failure("traced: threw " + e.getClass().getSimpleName(), "the traced program threw " + e + "\n"
                    + stackTop(e));
        }
        st.traced++;
        return null;
    }

    /** Whether valid programs are also run deferred ({@code nabla.fuzz.deferred}, default true). */
    private static final boolean DEFERRED = Boolean.parseBoolean(System.getProperty("nabla.fuzz.deferred", "true"));

    /**
     * The program again, every element-wise op deferred from one element on ({@link Deferral}): once without a tape,
     * its values read only at the end, the last first; once under a tape (where only cheap chains are taken over),
     * with the gradients of the loss. Each value and gradient must be the eager run's bits. Chains are then taken
     * over, broadcast, reshaped, read twice, read by every other kind of op and by gradient rules.
     */
    private static Failure deferred(Device d, Generated g, Tensor[] eager, List<Tensor> eagerGradients, Stats st) {
        List<Step> steps = g.program().steps();
        long previous = Deferral.minElements(1);
        try (Scope scope = Nabla.scope()) {
            Tensor[] t = new Tensor[steps.size()];
            for (int i = 0; i < steps.size(); i++) {
                t[i] = exec(d, steps.get(i), t);
            }
            Failure f = sameBits(steps, eager, t, "deferred");
            if (f != null) {
                return f;
            }
            f = eagerGradients.isEmpty() ? null : deferredUnderATape(d, g, eager, eagerGradients);
            if (f != null) {
                return f;
            }
            f = deferredWithVariables(d, g, eager, eagerGradients);
            if (f != null) {
                return f;
            }
        } catch (RuntimeException | Error e) {
            rethrowIfFatal(e);
            return new Failure("deferred: threw " + e.getClass().getSimpleName(), "the deferred program threw " + e
                    + "\n" + stackTop(e));
        } finally {
            Deferral.minElements(previous);
        }
        st.deferred++;
        return null;
    }

    /** The program under a tape, deferred, with the gradients of its loss: the eager run's bits, or a failure. */
    private static Failure deferredUnderATape(Device d, Generated g, Tensor[] eager, List<Tensor> eagerGradients) {
        List<Step> steps = g.program().steps();
        try (GradientTape tape = new GradientTape()) {
            Tensor[] taped = new Tensor[steps.size()];
            for (int i = 0; i < steps.size(); i++) {
                taped[i] = exec(d, steps.get(i), taped);
                if (steps.get(i).kind() == Kind.INPUT && taped[i].dtype().isFloating()) {
                    tape.watch(taped[i]);
                }
            }
            List<Tensor> grads = tape.gradient(taped[g.lossStep()].sum(),
                    g.sources().stream().map(i -> taped[i]).toList());
            Failure f = sameGradients(g, eagerGradients, grads, "deferred under a tape");
            return f != null ? f : sameBits(steps, eager, taped, "deferred under a tape");
        }
    }

    /**
     * The program deferred with its inputs held in Variables (trainable where floating), under a tape, with the
     * gradients of its loss asked for; then every Variable is assigned other values, and only then are the values and
     * gradients read. They must be the eager run's bits: an op reads a Variable as it is when the op is called, as
     * TF's read of a variable does, however late a deferred op runs (small Variables are copied when the op is
     * called, larger ones make it run at once).
     */
    private static Failure deferredWithVariables(Device d, Generated g, Tensor[] eager, List<Tensor> eagerGradients) {
        List<Step> steps = g.program().steps();
        List<Variable> variables = new ArrayList<>();
        try (GradientTape tape = new GradientTape()) {
            Tensor[] t = new Tensor[steps.size()];
            for (int i = 0; i < steps.size(); i++) {
                Step s = steps.get(i);
                if (s.kind() == Kind.INPUT) {
                    try (Tensor initial = input(d, s)) {
                        Variable v = new Variable(initial, "%" + i, initial.dtype().isFloating());
                        variables.add(v);
                        t[i] = v;
                    }
                } else {
                    t[i] = exec(d, s, t);
                }
            }
            List<Tensor> grads = eagerGradients.isEmpty() ? List.of()
                    : tape.gradient(t[g.lossStep()].sum(), g.sources().stream().map(i -> t[i]).toList());
            for (Variable v : variables) {
                v.assign(Tensor.full(d, 7, v.dtype(), v.shape().dims()));
            }
            Failure f = sameGradients(g, eagerGradients, grads, "deferred with Variables assigned after");
            if (f != null) {
                return f;
            }
            return sameBits(steps, eager, t, "deferred with Variables assigned after");
        } finally {
            variables.forEach(Variable::close);
        }
    }

    /** The first gradient that is not the eager one's bits (or null where it is not), or null. */
    private static Failure sameGradients(Generated g, List<Tensor> eagerGradients, List<Tensor> grads, String mode) {
        for (int j = 0; j < grads.size(); j++) {
            Tensor want = eagerGradients.get(j);
            Tensor got = grads.get(j);
            String where = "gradient by %" + g.sources().get(j);
            if ((want == null) != (got == null)) {
                return new Failure(mode + ": null mismatch", where + ": got " + got + ", eager " + want);
            }
            if (want != null) {
                Failure f = sameBits(where, want, got, mode);
                if (f != null) {
                    return f;
                }
            }
        }
        return null;
    }

    /**
     * The first step, from the last, whose values in {@code got} are not {@code eager}'s bits, or null. A Variable is
     * not compared: its values are the latest assigned (the inputs of the Variables run, and an eval-mode dropout,
     * which returns its input itself, as PyTorch's does).
     */
    private static Failure sameBits(List<Step> steps, Tensor[] eager, Tensor[] got, String mode) {
        for (int i = steps.size() - 1; i >= 0; i--) {
            if (got[i] instanceof Variable) {
                continue;
            }
            Failure f = sameBits("step %" + i + " (" + steps.get(i).kind().api + ")", eager[i], got[i], mode);
            if (f != null) {
                return f;
            }
        }
        return null;
    }

    private static Failure sameBits(String where, Tensor eager, Tensor got, String mode) {
        double[] want = eager.to(DType.FLOAT64).toDoubleArray();
        double[] have = got.to(DType.FLOAT64).toDoubleArray();
        if (Arrays.equals(want, have)) {
            return null;
        }
        int at = Arrays.mismatch(want, have);
        return new Failure(mode + ": differs from eager", where + ": element " + at + " "
                + (at < have.length ? have[at] : "missing") + ", eager " + (at < want.length ? want[at] : "missing"));
    }

    private static Tensor exec(Device d, Step s, Tensor[] t) {
        int[] a = s.args();
        Tensor x = a.length > 0 ? t[a[0]] : null;
        Double c = s.constant();
        return switch (s.kind()) {
            case INPUT -> input(d, s);
            case NEG -> x.neg();
            case ABS -> x.abs();
            case SIGN -> x.sign();
            case EXP -> x.exp();
            case LOG -> x.log();
            case SQRT -> x.sqrt();
            case RSQRT -> x.rsqrt();
            case SQUARE -> x.square();
            case RECIPROCAL -> x.reciprocal();
            case SIN -> x.sin();
            case COS -> x.cos();
            case TANH -> x.tanh();
            case SIGMOID -> x.sigmoid();
            case RELU -> x.relu();
            case ADD -> c != null ? x.add(c) : x.add(t[a[1]]);
            case SUB -> c != null ? x.sub(c) : x.sub(t[a[1]]);
            case MUL -> c != null ? x.mul(c) : x.mul(t[a[1]]);
            case DIV -> c != null ? x.div(c) : x.div(t[a[1]]);
            case POW -> c != null ? x.pow(c) : x.pow(t[a[1]]);
            case MAXIMUM -> c != null ? x.maximum(c) : x.maximum(t[a[1]]);
            case MINIMUM -> c != null ? x.minimum(c) : x.minimum(t[a[1]]);
            case EQ -> c != null ? x.eq(c) : x.eq(t[a[1]]);
            case NE -> c != null ? x.ne(c) : x.ne(t[a[1]]);
            case LT -> c != null ? x.lt(c) : x.lt(t[a[1]]);
            case LE -> c != null ? x.le(c) : x.le(t[a[1]]);
            case GT -> c != null ? x.gt(c) : x.gt(t[a[1]]);
            case GE -> c != null ? x.ge(c) : x.ge(t[a[1]]);
            case WHERE -> Nabla.where(x, t[a[1]], t[a[2]]);
            case SUM -> s.axes() == null ? (s.keepDims() ? x.sum(all(x), true) : x.sum())
                    : s.keepDims() ? x.sum(s.axes(), true) : x.sum(s.axes());
            case MEAN -> s.axes() == null ? (s.keepDims() ? x.mean(all(x), true) : x.mean())
                    : s.keepDims() ? x.mean(s.axes(), true) : x.mean(s.axes());
            case MAX -> s.axes() == null ? (s.keepDims() ? x.max(all(x), true) : x.max())
                    : s.keepDims() ? x.max(s.axes(), true) : x.max(s.axes());
            case MIN -> s.axes() == null ? (s.keepDims() ? x.min(all(x), true) : x.min())
                    : s.keepDims() ? x.min(s.axes(), true) : x.min(s.axes());
            case ARGMAX -> x.argmax(s.axes()[0]);
            case LOG_SUM_EXP -> x.logSumExp(s.axes()[0]);
            case SOFTMAX -> x.softmax(s.axes()[0]);
            case LOG_SOFTMAX -> x.logSoftmax(s.axes()[0]);
            case MATMUL -> x.matmul(t[a[1]]);
            case CONV2D -> Functional.conv2d(x, t[a[1]], a.length > 2 ? t[a[2]] : null, (int) s.dims()[0],
                    s.padding());
            case MAX_POOL2D -> Functional.maxPool2d(x, (int) s.dims()[0], (int) s.dims()[1]);
            case AVG_POOL2D -> Functional.avgPool2d(x, (int) s.dims()[0], (int) s.dims()[1]);
            case RESHAPE -> x.reshape(s.dims());
            case FLATTEN -> x.flatten();
            case TRANSPOSE -> x.transpose();
            case PERMUTE -> x.permute(s.axes());
            case EXPAND_DIMS -> x.expandDims(s.axes()[0]);
            case SQUEEZE -> x.squeeze(s.axes());
            case BROADCAST_TO -> x.broadcastTo(s.dims());
            case SLICE -> x.slice(s.dims(), s.dims2());
            case CONCAT -> Nabla.concat(Arrays.stream(a).mapToObj(i -> t[i]).toList(), s.axes()[0]);
            case STACK -> Nabla.stack(Arrays.stream(a).mapToObj(i -> t[i]).toList(), s.axes()[0]);
            case CAST -> x.to(s.dtype());
            case GATHER -> {
                Tensor r = x.gather(t[a[1]], s.axes()[0]);
                if (d != null && d.isCuda()) {
                    r.toDoubleArray();          // an asynchronous device reports a bad index by the next read
                }
                yield r;
            }
            case PAD -> x.pad(s.dims(), s.dims2());
            case ONE_HOT -> x.oneHot((int) s.dims()[0]);
            case STOP_GRADIENT -> x.stopGradient();
            case GELU -> Functional.gelu(x);
            case MEAN_SQUARED_ERROR -> Functional.meanSquaredError(x, t[a[1]]);
            case SOFTMAX_CROSS_ENTROPY -> Functional.softmaxCrossEntropy(x, t[a[1]]);
            case DROPOUT -> Functional.dropout(x, c, Rng.seeded(s.dims()[0]), s.dims()[1] != 0);
            case CUSTOM_GRADIENT -> custom((int) s.dims()[0], Arrays.stream(a).mapToObj(i -> t[i]).toList());
        };
    }

    /** {@code Nabla.customGradient} with the fuzzer's rule number {@code rule} ({@code Reference.customGradient}). */
    private static Tensor custom(int rule, List<Tensor> in) {
        return switch (rule) {
            case 0 -> Nabla.customGradient(in, v -> v.get(0).tanh(),
                    (v, out, g) -> List.of(g.mul(out.square().neg().add(1))));
            case 1 -> Nabla.customGradient(in, v -> v.get(0).sign(), (v, out, g) -> List.of(g));
            case 2 -> Nabla.customGradient(in, v -> v.get(0).mul(v.get(1)).add(v.get(0)),
                    (v, out, g) -> List.of(g.mul(v.get(1).add(1)), g.mul(v.get(0))));
            case 3 -> Nabla.customGradient(in, v -> v.get(0), (v, out, g) -> List.of(g.mul(2)));
            default -> Nabla.customGradient(in, v -> v.get(0).sub(v.get(1)), (v, out, g) -> Arrays.asList(g, null));
        };
    }

    /** A JVM failure other than a stack overflow (which a deep random program may cause) ends the run. */
    private static void rethrowIfFatal(Throwable e) {
        if (e instanceof VirtualMachineError vme && !(vme instanceof StackOverflowError)) {
            throw vme;
        }
    }

    private static int[] all(Tensor x) {
        int[] a = new int[x.rank()];
        Arrays.setAll(a, i -> i);
        return a;
    }

    private static Tensor input(Device d, Step s) {
        double[] v = s.values();
        long[] shape = s.shape();
        boolean scalar = shape.length == 0;   // no shape means 1-D in Tensor.of, so scalars use Tensor.scalar
        return switch (s.dtype()) {
            case FLOAT32 -> {
                float[] f = new float[v.length];
                for (int i = 0; i < v.length; i++) {
                    f[i] = (float) v[i];
                }
                yield scalar ? Tensor.scalar(d, f[0]) : Tensor.of(d, f, shape);
            }
            case FLOAT64 -> scalar ? Tensor.scalar(d, v[0]) : Tensor.of(d, v.clone(), shape);
            case INT32 -> {
                int[] n = new int[v.length];
                for (int i = 0; i < v.length; i++) {
                    n[i] = (int) v[i];
                }
                yield scalar ? Tensor.scalar(d, n[0]) : Tensor.of(d, n, shape);
            }
            case BOOL -> {
                boolean[] b = new boolean[v.length];
                for (int i = 0; i < v.length; i++) {
                    b[i] = v[i] != 0;
                }
                yield scalar ? Tensor.of(d, b, 1).reshape() : Tensor.of(d, b, shape);
            }
        };
    }

    // ---- comparing -------------------------------------------------------------------------------------------

    /** Null when {@code got} agrees with the reference, else what differs. */
    static String compare(RefTensor want, Tensor got, boolean forward, Stats st) {
        if (!Arrays.equals(got.shape().dims(), want.shape)) {
            return "shape " + got.shape() + ", expected " + Program.fmt(want.shape);
        }
        if (got.dtype() != want.dtype) {
            return "dtype " + got.dtype() + ", expected " + want.dtype;
        }
        double[] x = got.toDoubleArray();
        for (int i = 0; i < x.length; i++) {
            double w = want.v[i];
            double e = want.e[i];
            if (e == Reference.INF) {
                st.skipped++;
                continue;
            }
            boolean ok;
            if (Double.isNaN(w)) {
                ok = Double.isNaN(x[i]);
            } else if (e == 0) {
                // exact: infinities by sign, and in forward values zeros by sign too (1/x would differ)
                ok = x[i] == w && (!forward || w != 0 || Math.copySign(1, x[i]) == Math.copySign(1, w));
            } else {
                ok = Math.abs(x[i] - w) <= e;
                if (Math.abs(x[i] - w) / e > st.worstRatio) {
                    st.worstRatio = Math.abs(x[i] - w) / e;
                    st.worstWhere = "element " + Program.fmt(multiIndex(i, want.shape)) + " " + show(want.dtype, x[i])
                            + " vs " + show(want.dtype, w) + " ± " + e;
                }
            }
            if (e == 0) {
                st.exact++;
            } else {
                st.bounded++;
            }
            if (!ok) {
                return "element " + Program.fmt(multiIndex(i, want.shape)) + " is " + show(want.dtype, x[i])
                        + ", expected " + show(want.dtype, w) + (e == 0 ? " exactly" : " within " + e
                        + " (off by " + Math.abs(x[i] - w) + ")");
            }
        }
        return null;
    }

    private static String show(DType t, double v) {
        return t == DType.FLOAT32 ? Float.toString((float) v) + " (" + v + ")" : Program.number(v);
    }

    private static long[] multiIndex(long flat, long[] shape) {
        long[] idx = new long[shape.length];
        for (int i = shape.length - 1; i >= 0; i--) {
            idx[i] = flat % shape[i];
            flat /= shape[i];
        }
        return idx;
    }

    private static String describe(Tensor t) {
        return Program.dtypeName(t.dtype()) + " " + t.shape() + " "
                + Program.values(t.dtype(), t.toDoubleArray(), 16);
    }

    private static String stackTop(Throwable e) {
        StringBuilder sb = new StringBuilder();
        StackTraceElement[] st = e.getStackTrace();
        for (int i = 0; i < Math.min(8, st.length); i++) {
            sb.append("    at ").append(st[i]).append('\n');
        }
        return sb.toString();
    }
}
