package dev.nabla.conformance.fuzz;

import dev.nabla.DType;
import dev.nabla.Device;
import dev.nabla.Tensor;
import dev.nabla.conformance.fuzz.Program.Kind;
import dev.nabla.conformance.fuzz.Program.Step;
import dev.nabla.conformance.fuzz.Reference.Invalid;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Predicate;

/**
 * Makes one random program from (seed, index) and evaluates it on the {@link Reference} as it goes, so that every
 * choice knows the shapes and dtypes before it. Programs have 1 to 20 ops over shapes of rank 0 to 5 (sizes 0 and 1,
 * broadcasting, now and then a dimension past 4096 to cross the CPU's sum blocks and parallel grain), FLOAT32,
 * FLOAT64 and INT32 values mixing ordinary numbers with NaN, ±inf, ±0, subnormals, huge and tiny ones, and integer
 * extremes. About one program in twelve ends with an op made invalid on purpose; random choices make others invalid
 * by themselves now and then (a max over an empty axis). Either way the program stops at its first invalid op.
 */
final class ProgramGenerator {

    /** A generated program with its reference results. */
    /**
     * A program with its reference values, the loss step and gradient sources, the gradients of {@code sum(loss)},
     * and the second-order gradients: of the sum of all first-order gradients' sums (each cast to FLOAT64), or null
     * where no first-order gradient exists.
     */
    record Generated(Program program, List<RefTensor> values, int lossStep, List<Integer> sources,
            List<RefTensor> gradients, List<RefTensor> secondGradients, boolean truncated) {
    }

    /** SplitMix64: small, and the same numbers on every JDK, so a seed replays anywhere. */
    static final class Rng {
        private long state;

        Rng(long seed) {
            state = seed;
        }

        long nextLong() {
            long z = (state += 0x9E3779B97F4A7C15L);
            z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
            z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
            return z ^ (z >>> 31);
        }

        int nextInt(int bound) {
            return (int) Math.floorMod(nextLong() >>> 1, (long) bound);
        }

        int between(int lo, int hi) {
            return lo + nextInt(hi - lo + 1);
        }

        double nextDouble() {
            return (nextLong() >>> 11) * 0x1.0p-53;
        }

        boolean chance(double p) {
            return nextDouble() < p;
        }

        <T> T pick(List<T> xs) {
            return xs.get(nextInt(xs.size()));
        }

        /** An index drawn with the given weights. */
        int weighted(int... w) {
            int total = Arrays.stream(w).sum();
            int r = nextInt(total);
            for (int i = 0; i < w.length; i++) {
                r -= w[i];
                if (r < 0) {
                    return i;
                }
            }
            return w.length - 1;
        }
    }

    private static final Kind[] UNARY = {Kind.NEG, Kind.ABS, Kind.SIGN, Kind.EXP, Kind.LOG, Kind.SQRT, Kind.RSQRT,
        Kind.SQUARE, Kind.RECIPROCAL, Kind.SIN, Kind.COS, Kind.TANH, Kind.SIGMOID, Kind.RELU};
    private static final Kind[] INT_UNARY = {Kind.NEG, Kind.ABS, Kind.SIGN, Kind.SQUARE, Kind.RELU};
    private static final Kind[] FLOAT_ONLY = {Kind.EXP, Kind.LOG, Kind.SQRT, Kind.RSQRT, Kind.RECIPROCAL, Kind.SIN,
        Kind.COS, Kind.TANH, Kind.SIGMOID};
    private static final Kind[] BINARY = {Kind.ADD, Kind.SUB, Kind.MUL, Kind.DIV, Kind.POW, Kind.MAXIMUM,
        Kind.MINIMUM};
    private static final Kind[] COMPARE = {Kind.EQ, Kind.NE, Kind.LT, Kind.LE, Kind.GT, Kind.GE};
    private static final Kind[] REDUCE = {Kind.SUM, Kind.MEAN, Kind.MAX, Kind.MIN};
    private static final Kind[] COMPOSITE = {Kind.LOG_SUM_EXP, Kind.SOFTMAX, Kind.LOG_SOFTMAX};

    private final Rng rnd;
    private final long seed;
    private final int index;
    private final Reference ref;
    private final List<Step> steps = new ArrayList<>();
    private final List<RefTensor> values = new ArrayList<>();
    private final DType mainType;
    private final boolean special;
    private final boolean big;
    private final int cap;

    private ProgramGenerator(long seed, int index, boolean cpu) {
        this.seed = seed;
        this.index = index;
        this.rnd = new Rng(seed * 0x9E3779B97F4A7C15L + index * 0xC2B2AE3D27D4EB4FL + 0x165667B19E3779F9L);
        this.ref = new Reference(cpu);
        this.mainType = switch (rnd.weighted(45, 35, 20)) {
            case 0 -> DType.FLOAT32;
            case 1 -> DType.FLOAT64;
            default -> DType.INT32;
        };
        this.special = rnd.chance(0.6);
        this.big = rnd.chance(0.04);
        this.cap = big ? 12000 : 2048;
    }

    static Generated generate(long seed, int index, boolean cpu) {
        return new ProgramGenerator(seed, index, cpu).run();
    }

    private Generated run() {
        int ops = rnd.between(1, 20);
        int invalidOp = rnd.chance(1.0 / 12) ? rnd.nextInt(ops) : -1;
        int invalidAt = -1;
        boolean truncated = false;
        String why = null;
        boolean deliberate = false;
        for (int op = 0; op < ops; op++) {
            int mark = steps.size();
            try {
                if (op == invalidOp) {
                    invalidOp();
                } else {
                    randomOp();
                }
            } catch (Invalid e) {
                invalidAt = steps.size() - 1;
                why = e.getMessage();
                deliberate = op == invalidOp;
                break;
            } catch (Reference.TooBig e) {
                while (steps.size() > mark) {                   // the program ends before the oversized op
                    steps.remove(steps.size() - 1);
                    values.remove(values.size() - 1);
                }
                truncated = true;
                break;
            }
        }
        Program p = new Program(seed, index, List.copyOf(steps), invalidAt, why, deliberate);
        int loss = -1;
        List<Integer> sources = new ArrayList<>();
        List<RefTensor> grads = List.of();
        List<RefTensor> second = null;
        if (invalidAt < 0) {
            for (int i = steps.size() - 1; i >= 0 && loss < 0; i--) {
                if (values.get(i).floating()) {
                    loss = i;
                }
            }
            for (int i = 0; i < steps.size(); i++) {
                if (steps.get(i).kind() == Kind.INPUT && values.get(i).floating()) {
                    sources.add(i);
                }
            }
            if (loss >= 0 && !sources.isEmpty()) {
                try {
                    RefTensor l = ref.sum(values.get(loss), null, false);
                    List<RefTensor> srcs = sources.stream().map(values::get).toList();
                    grads = ref.gradients(l, srcs, true);
                    RefTensor total = null;
                    for (RefTensor gr : grads) {
                        if (gr != null) {
                            RefTensor s = ref.cast(ref.sum(gr, null, false), DType.FLOAT64);
                            total = total == null ? s : ref.binary(Kind.ADD, total, s);
                        }
                    }
                    second = total == null ? null : ref.gradients(total, srcs);
                } catch (Reference.TooBig e) {
                    loss = -1;                                  // no gradient check then
                    second = null;
                    truncated = true;
                }
            }
        }
        return new Generated(p, values, loss, sources, grads, second, truncated);
    }

    // ---- evaluation ------------------------------------------------------------------------------------------

    /** Appends the step and its reference value; an Invalid propagates after the step is appended. */
    private int add(Step s) {
        steps.add(s);
        values.add(null);
        RefTensor r = eval(s);
        values.set(values.size() - 1, r);
        return values.size() - 1;
    }

    /**
     * The draws dropout makes for {@code x} with {@code Rng.seeded(seed)}: the library's Philox stream (the same on
     * every backend), a random input of the program as far as the reference is concerned; null for a non-float x.
     */
    private static double[] uniforms(RefTensor x, long seed) {
        if (!x.floating()) {
            return null;
        }
        try (Tensor u = dev.nabla.Rng.seeded(seed).uniform(Device.cpu(), 0, 1, x.dtype, x.shape)) {
            return u.toDoubleArray();
        }
    }

    private RefTensor val(int i) {
        return values.get(i);
    }

    private RefTensor eval(Step s) {
        int[] a = s.args();
        Kind k = s.kind();
        if (k == Kind.INPUT) {
            return ref.source(s.dtype(), s.shape(), s.values());
        }
        if (k.isUnary()) {
            return ref.unary(k, val(a[0]));
        }
        if (k.isBinary() || k.isComparison()) {
            RefTensor x = val(a[0]);
            RefTensor y = s.constant() != null ? ref.constant(x.dtype, s.constant()) : val(a[1]);
            return ref.binary(k, x, y);
        }
        return switch (k) {
            case WHERE -> ref.where(val(a[0]), val(a[1]), val(a[2]));
            case SUM -> ref.sum(val(a[0]), s.axes(), s.keepDims());
            case MEAN -> ref.mean(val(a[0]), s.axes(), s.keepDims());
            case MAX, MIN -> ref.extremum(k, val(a[0]), s.axes(), s.keepDims());
            case ARGMAX -> ref.argmax(val(a[0]), s.axes()[0]);
            case LOG_SUM_EXP, SOFTMAX, LOG_SOFTMAX -> ref.axisComposite(k, val(a[0]), s.axes()[0]);
            case MATMUL -> ref.matmul(val(a[0]), val(a[1]));
            case CONV2D -> ref.conv2d(val(a[0]), val(a[1]), a.length > 2 ? val(a[2]) : null, (int) s.dims()[0],
                    s.keepDims());
            case MAX_POOL2D, AVG_POOL2D -> ref.pool(k, val(a[0]), (int) s.dims()[0], (int) s.dims()[1]);
            case RESHAPE -> ref.reshape(val(a[0]), s.dims(), "reshape");
            case FLATTEN -> ref.reshape(val(a[0]), new long[] {-1}, "reshape");
            case TRANSPOSE -> ref.transpose(val(a[0]));
            case PERMUTE -> ref.permute(val(a[0]), s.axes(), "permute");
            case EXPAND_DIMS -> ref.expandDims(val(a[0]), s.axes()[0]);
            case SQUEEZE -> ref.squeeze(val(a[0]), s.axes(), "squeeze");
            case BROADCAST_TO -> ref.broadcastTo(val(a[0]), s.dims());
            case SLICE -> ref.slice(val(a[0]), s.dims(), s.dims2());
            case CONCAT -> ref.concat(Arrays.stream(a).mapToObj(this::val).toList(), s.axes()[0], "concat");
            case STACK -> ref.stack(Arrays.stream(a).mapToObj(this::val).toList(), s.axes()[0]);
            case CAST -> ref.cast(val(a[0]), s.dtype());
            case GATHER -> ref.gather(val(a[0]), val(a[1]), s.axes()[0]);
            case PAD -> ref.pad(val(a[0]), s.dims(), s.dims2());
            case ONE_HOT -> ref.oneHot(val(a[0]), (int) s.dims()[0]);
            case STOP_GRADIENT -> ref.stopGradient(val(a[0]));
            case GELU -> ref.gelu(val(a[0]));
            case MEAN_SQUARED_ERROR -> ref.meanSquaredError(val(a[0]), val(a[1]));
            case SOFTMAX_CROSS_ENTROPY -> ref.softmaxCrossEntropy(val(a[0]), val(a[1]));
            case DROPOUT -> ref.dropout(val(a[0]), s.constant(), s.dims()[1] != 0, uniforms(val(a[0]), s.dims()[0]));
            case CUSTOM_GRADIENT -> ref.customGradient((int) s.dims()[0],
                    Arrays.stream(a).mapToObj(this::val).toArray(RefTensor[]::new));
            default -> throw new IllegalStateException(k.name());
        };
    }

    // ---- values and shapes -----------------------------------------------------------------------------------

    private long[] randomShape() {
        int rank = rnd.weighted(15, 25, 25, 18, 10, 7);
        long[] d = new long[rank];
        for (int i = 0; i < rank; i++) {
            d[i] = randomDim();
        }
        return fit(d);
    }

    private long randomDim() {
        return switch (rnd.weighted(25, 4, 55, 14, big ? 6 : 0)) {
            case 0 -> 1;
            case 1 -> 0;
            case 2 -> rnd.between(2, 5);
            case 3 -> rnd.between(6, 9);
            default -> rnd.between(4090, 9000);
        };
    }

    /** Shrinks dimensions until the shape fits the program's size cap. */
    private long[] fit(long[] d) {
        while (!fits(d, cap)) {
            int i = rnd.nextInt(d.length);
            d[i] = Math.max(1, d[i] / 2);
        }
        return d;
    }

    private static boolean fits(long[] d, int cap) {
        double n = 1;
        for (long x : d) {
            n *= x;
        }
        return n <= cap;
    }

    private double randomValue(DType t) {
        if (t == DType.BOOL) {
            return rnd.nextInt(2);
        }
        if (t == DType.INT32) {
            return switch (rnd.weighted(60, 20, special ? 20 : 2)) {
                case 0 -> rnd.between(-5, 5);
                case 1 -> rnd.between(-100, 100);
                default -> switch (rnd.nextInt(8)) {
                    case 0 -> Integer.MAX_VALUE;
                    case 1 -> Integer.MIN_VALUE;
                    case 2 -> Integer.MAX_VALUE - rnd.nextInt(3);
                    case 3 -> Integer.MIN_VALUE + rnd.nextInt(3);
                    case 4 -> 46341 * (rnd.chance(0.5) ? 1 : -1);           // squares past 2^31
                    case 5 -> 65536;
                    case 6 -> (int) rnd.nextLong();
                    default -> 0;
                };
            };
        }
        boolean f32 = t == DType.FLOAT32;
        if (special && rnd.chance(0.18)) {
            double sign = rnd.chance(0.5) ? 1 : -1;
            return switch (rnd.nextInt(16)) {
                case 0, 1 -> Double.NaN;
                case 2 -> Double.POSITIVE_INFINITY;
                case 3 -> Double.NEGATIVE_INFINITY;
                case 4 -> 0.0;
                case 5 -> -0.0;
                case 6 -> sign * (f32 ? Float.MIN_VALUE : Double.MIN_VALUE);
                case 7 -> sign * (f32 ? Float.MIN_NORMAL : Double.MIN_NORMAL) * rnd.nextDouble();  // subnormal
                case 8 -> sign * (f32 ? Float.MIN_NORMAL : Double.MIN_NORMAL);
                case 9 -> sign * (f32 ? Float.MAX_VALUE : Double.MAX_VALUE);
                case 10 -> sign * (f32 ? 1e30 : 1e300) * (1 + rnd.nextDouble());
                case 11 -> sign * (f32 ? 1e-30 : 1e-300) * (1 + rnd.nextDouble());
                case 12 -> sign * (f32 ? 88.72 : 709.78) + rnd.nextDouble() * 0.1;        // exp's overflow edge
                case 13 -> sign * 1e10 * (1 + rnd.nextDouble());                          // sin/cos reduction
                case 14 -> sign;
                default -> sign * Math.scalb(1.0, rnd.between(-60, 60));
            };
        }
        return switch (rnd.weighted(65, 15, 12, 8)) {
            case 0 -> rnd.nextDouble() * 6 - 3;
            case 1 -> rnd.between(-4, 4);
            case 2 -> (rnd.nextDouble() - 0.5) * Math.pow(10, rnd.between(-3, 3));
            default -> rnd.pick(List.of(0.0, 1.0, -1.0, 0.5, 2.0));
        };
    }

    /** A new input step of the dtype and shape. */
    private int input(DType t, long[] shape) {
        double[] v = new double[Reference.size(shape)];
        for (int i = 0; i < v.length; i++) {
            v[i] = Reference.round(t, randomValue(t));
        }
        return add(Step.input(t, shape, v));
    }

    private int input(DType t) {
        return input(t, randomShape());
    }

    /** A shape that broadcasts with {@code s}. */
    private long[] broadcastVariant(long[] s) {
        long[] v;
        switch (rnd.weighted(40, 20, 25, 15)) {
            case 0 -> v = s.clone();
            case 1 -> v = Arrays.copyOfRange(s, rnd.nextInt(s.length + 1), s.length);
            case 2 -> {
                v = s.clone();
                for (int i = 0; i < v.length; i++) {
                    if (rnd.chance(0.5)) {
                        v[i] = 1;
                    }
                }
            }
            default -> {
                int extra = rnd.between(1, 2);
                v = new long[s.length + extra];
                for (int i = 0; i < extra; i++) {
                    v[i] = rnd.between(1, 4);
                }
                System.arraycopy(s, 0, v, extra, s.length);
                if (!fits(Reference.broadcast(v, s), cap)) {
                    v = s.clone();
                }
            }
        }
        if (v.length > 5) {
            v = Arrays.copyOfRange(v, v.length - 5, v.length);
        }
        return v;
    }

    /** An existing value that satisfies {@code p}, preferring the latest; or -1. */
    private int existing(Predicate<RefTensor> p) {
        List<Integer> c = new ArrayList<>();
        for (int i = 0; i < values.size(); i++) {
            if (values.get(i) != null && p.test(values.get(i))) {
                c.add(i);
            }
        }
        if (c.isEmpty()) {
            return -1;
        }
        return rnd.chance(0.55) ? c.get(c.size() - 1) : rnd.pick(c);
    }

    /** An operand satisfying {@code p}, or a new input of {@code t}. */
    private int operand(Predicate<RefTensor> p, DType t) {
        int i = rnd.chance(0.85) ? existing(p) : -1;
        if (i >= 0) {
            return i;
        }
        for (int attempt = 0; attempt < 20; attempt++) {
            long[] s = randomShape();
            RefTensor probe = new RefTensor(s, t, new double[Reference.size(s)], new double[Reference.size(s)]);
            if (p.test(probe)) {
                return input(t, s);
            }
        }
        return input(t, new long[] {2, 3});
    }

    private static boolean numeric(RefTensor r) {
        return r.dtype != DType.BOOL;
    }

    private DType floatType() {
        return mainType == DType.INT32 ? (rnd.chance(0.5) ? DType.FLOAT32 : DType.FLOAT64) : mainType;
    }

    /** A second operand of {@code a}'s dtype that broadcasts with it. */
    private int partner(RefTensor a) {
        if (a.dtype == DType.BOOL) {
            int j = existing(r -> r.dtype == DType.BOOL && Reference.broadcast(r.shape, a.shape) != null
                    && fits(Reference.broadcast(r.shape, a.shape), cap));
            return j >= 0 ? j : values.indexOf(a);
        }
        if (rnd.chance(0.35)) {
            int j = existing(r -> r.dtype == a.dtype && r != a && Reference.broadcast(r.shape, a.shape) != null
                    && fits(Reference.broadcast(r.shape, a.shape), cap));
            if (j >= 0) {
                return j;
            }
        }
        return input(a.dtype, broadcastVariant(a.shape));
    }

    private int[] randomAxes(int rank, boolean allowEmpty) {
        List<Integer> ax = new ArrayList<>();
        for (int i = 0; i < rank; i++) {
            if (rnd.chance(0.5)) {
                ax.add(rnd.chance(0.3) ? i - rank : i);
            }
        }
        if (ax.isEmpty() && rank > 0 && !allowEmpty) {
            int i = rnd.nextInt(rank);
            ax.add(i);
        }
        java.util.Collections.shuffle(ax, new java.util.Random(rnd.nextLong()));
        return ax.stream().mapToInt(Integer::intValue).toArray();
    }

    private int anyAxis(int rank) {
        int a = rnd.nextInt(rank);
        return rnd.chance(0.3) ? a - rank : a;
    }

    // ---- valid ops -------------------------------------------------------------------------------------------

    private void randomOp() {
        switch (rnd.weighted(22, 18, 7, 5, 5, 10, 2, 4, 5, 4, 1, 2, 3, 2, 2, 2, 3, 3, 1, 3, 3, 2, 1, 1, 1, 1, 2, 1, 1,
                4)) {
            case 0 -> unaryOp();
            case 1 -> binaryOp();
            case 2 -> constantOp(BINARY);
            case 3 -> {
                if (rnd.chance(0.5)) {
                    compareOp();
                } else {
                    constantOp(COMPARE);
                }
            }
            case 4 -> whereOp();
            case 5 -> reduceOp();
            case 6 -> {
                int x = operand(r -> numeric(r) && r.rank() >= 1, mainType);
                add(Step.of(Kind.ARGMAX, x).withAxes(new int[] {anyAxis(val(x).rank())}));
            }
            case 7 -> {
                int x = operand(r -> r.floating() && r.rank() >= 1, floatType());
                add(Step.of(COMPOSITE[rnd.nextInt(3)], x).withAxes(new int[] {anyAxis(val(x).rank())}));
            }
            case 8 -> matmulOp();
            case 9 -> reshapeOp();
            case 10 -> add(Step.of(Kind.FLATTEN, operand(r -> true, mainType)));
            case 11 -> add(Step.of(Kind.TRANSPOSE, operand(r -> r.rank() >= 2, mainType)));
            case 12 -> {
                int x = operand(r -> true, mainType);
                int r = val(x).rank();
                List<Integer> p = new ArrayList<>();
                for (int i = 0; i < r; i++) {
                    p.add(i);
                }
                java.util.Collections.shuffle(p, new java.util.Random(rnd.nextLong()));
                add(Step.of(Kind.PERMUTE, x).withAxes(p.stream().mapToInt(i -> rnd.chance(0.2) ? i - r : i)
                        .toArray()));
            }
            case 13 -> {
                int x = operand(r -> r.rank() < 5, mainType);
                int r = val(x).rank() + 1;
                add(Step.of(Kind.EXPAND_DIMS, x).withAxes(new int[] {anyAxis(r)}));
            }
            case 14 -> squeezeOp();
            case 15 -> broadcastToOp();
            case 16 -> sliceOp();
            case 17 -> concatOp(false);
            case 18 -> concatOp(true);
            case 19 -> windowOp();
            case 20 -> gatherOp();
            case 21 -> {
                int x = operand(r -> true, mainType);
                int r = val(x).rank();
                long[] before = new long[r];
                long[] after = new long[r];
                for (int i = 0; i < r; i++) {
                    before[i] = rnd.chance(0.5) ? 0 : rnd.between(1, 2);
                    after[i] = rnd.chance(0.5) ? 0 : rnd.between(1, 2);
                }
                long[] padded = val(x).shape.clone();
                for (int i = 0; i < r; i++) {
                    padded[i] += before[i] + after[i];
                }
                if (!fits(padded, cap)) {
                    Arrays.fill(before, 0);
                    Arrays.fill(after, 0);
                }
                add(Step.of(Kind.PAD, x).withDims(before).withDims2(after));
            }
            case 22 -> {
                int labels = labels(rnd.between(1, 5), 5);
                add(Step.of(Kind.ONE_HOT, labels).withDims(new long[] {rnd.between(0, 5)}));
            }
            case 23 -> add(Step.of(Kind.STOP_GRADIENT, operand(r -> true, mainType)));
            case 24 -> add(Step.of(Kind.GELU, operand(RefTensor::floating, floatType())));
            case 25 -> {
                int p = operand(ProgramGenerator::numeric, mainType);
                add(Step.of(Kind.MEAN_SQUARED_ERROR, p, alike(p, true)));
            }
            case 26 -> {
                int z = operand(r -> r.floating() && r.rank() == 2 && r.shape[1] >= 1, floatType());
                RefTensor r = val(z);
                int targets;
                if (rnd.chance(0.6)) {
                    targets = labels((int) r.shape[0], (int) r.shape[1]);
                } else {
                    // probabilities (softmaxCrossEntropyWithProbabilities): a value of the logits' shape and dtype,
                    // which may depend on the sources and must pass them no gradient, or new rows
                    targets = alike(z, false);
                }
                add(Step.of(Kind.SOFTMAX_CROSS_ENTROPY, z, targets));
            }
            case 27 -> {
                double rate = switch (rnd.nextInt(4)) {
                    case 0 -> 0;
                    case 1 -> 0.25;
                    case 2 -> 0.5;
                    default -> 0.9;
                };
                add(Step.of(Kind.DROPOUT, operand(RefTensor::floating, floatType())).withConstant(rate)
                        .withDims(new long[] {rnd.nextInt(1000), rnd.chance(0.75) ? 1 : 0}));
            }
            case 28 -> {
                int rule = rnd.nextInt(5);
                int x = operand(RefTensor::floating, floatType());
                if (rule == 2 || rule == 4) {
                    add(Step.of(Kind.CUSTOM_GRADIENT, x, alike(x, true)).withDims(new long[] {rule}));
                } else {
                    add(Step.of(Kind.CUSTOM_GRADIENT, x).withDims(new long[] {rule}));
                }
            }
            default -> castOp();
        }
    }

    /**
     * A second operand of {@code x}'s shape and dtype: half the time an existing value ({@code x} itself too when
     * {@code itself}), otherwise, or when there is none, a new input.
     */
    private int alike(int x, boolean itself) {
        RefTensor r = val(x);
        int y = rnd.chance(0.5)
                ? existing(q -> (itself || q != r) && q.dtype == r.dtype && Arrays.equals(q.shape, r.shape)) : -1;
        return y >= 0 ? y : input(r.dtype, r.shape.clone());
    }

    /** gather along an axis by a new INT32 index input, in range except where {@code outOfRange}. */
    private void gatherOp() {
        int x = operand(r -> r.rank() >= 1, mainType);
        RefTensor r = val(x);
        int axis = anyAxis(r.rank());
        long n = r.shape[axis < 0 ? axis + r.rank() : axis];
        long[] is = new long[rnd.weighted(20, 50, 30)];
        for (int i = 0; i < is.length; i++) {
            is[i] = n == 0 && i == 0 ? 0 : rnd.weighted(5, 30, 65) == 2 ? rnd.between(2, 5) : rnd.weighted(5, 95);
        }
        if (n == 0 && is.length == 0) {
            is = new long[] {0};                                // a scalar index has no room below 0
        }
        long rest = r.size() / Math.max(n, 1);
        while (!fits(new long[] {rest, Reference.size(is)}, cap) && Arrays.stream(is).anyMatch(d -> d > 1)) {
            for (int i = 0; i < is.length; i++) {
                is[i] = Math.max(1, is[i] / 2);
            }
        }
        if (!fits(new long[] {rest, Reference.size(is)}, cap)) {
            is = new long[] {0};
        }
        add(Step.of(Kind.GATHER, x, indices(is, n, false)).withAxes(new int[] {axis}));
    }

    /** An INT32 input of {@code shape} with values in [0, n), or one of them outside it. */
    private int indices(long[] shape, long n, boolean outOfRange) {
        double[] v = new double[Reference.size(shape)];
        for (int i = 0; i < v.length; i++) {
            v[i] = n == 0 ? 0 : rnd.nextInt((int) n);
        }
        if (outOfRange && v.length > 0) {
            v[rnd.nextInt(v.length)] = rnd.chance(0.5) ? n : -1;
        }
        return add(Step.input(DType.INT32, shape, v));
    }

    /** INT32 labels of a new (batch,) input, mostly in [0, classes), with an occasional -1 or classes + 2. */
    private int labels(int batch, int classes) {
        double[] v = new double[batch];
        for (int i = 0; i < batch; i++) {
            v[i] = rnd.chance(0.99) && classes > 0 ? rnd.nextInt(classes) : rnd.chance(0.5) ? -1 : classes + 2;
        }
        return add(Step.input(DType.INT32, new long[] {batch}, v));
    }

    /** conv2d (with or without a bias, "valid" or "same"), maxPool2d or avgPool2d of an NCHW image. */
    private void windowOp() {
        DType t = rnd.chance(0.85) ? floatType() : mainType;     // INT32 convolutions and pooling too
        int kh = rnd.between(1, 3);
        int kw = rnd.chance(0.7) ? kh : rnd.between(1, 3);
        int stride = rnd.weighted(60, 30, 10) + 1;
        if (rnd.chance(0.5)) {
            boolean same = rnd.chance(0.5);
            int x = image(t, same ? 1 : kh, same ? 1 : kw);
            long[] xs = val(x).shape;
            long o = rnd.weighted(5, 40, 35, 20);
            int k = input(t, new long[] {o, xs[1], kh, kw});
            int[] args = rnd.chance(0.5) ? new int[] {x, k} : new int[] {x, k, input(t, new long[] {o})};
            add(Step.of(Kind.CONV2D, args).withDims(new long[] {stride}).withKeep(same));
        } else {
            int x = image(t, kh, kh);
            add(Step.of(rnd.chance(0.5) ? Kind.MAX_POOL2D : Kind.AVG_POOL2D, x).withDims(new long[] {kh, stride}));
        }
    }

    /**
     * An NCHW operand of dtype t at least minH x minW: an earlier value, or a new input small enough that its
     * column matrix (a row per channel and kernel element, a column per window) stays within the size cap.
     */
    private int image(DType t, int minH, int minW) {
        int i = rnd.chance(0.4) ? existing(r -> r.dtype == t && r.rank() == 4 && r.shape[2] >= minH
                && r.shape[3] >= minW && fits(new long[] {r.size(), 9}, cap)) : -1;
        if (i >= 0) {
            return i;
        }
        long[] s = {rnd.weighted(5, 45, 35, 15), rnd.weighted(5, 50, 30, 15), rnd.between(minH, minH + 6),
                rnd.between(minW, minW + 6)};
        while (!fits(new long[] {s[0], s[1], s[2], s[3], 9}, cap) && (s[0] > 1 || s[1] > 1)) {
            s[s[0] > 1 && (s[1] <= 1 || rnd.chance(0.5)) ? 0 : 1] /= 2;
        }
        return input(t, s);
    }

    private void unaryOp() {
        int x = operand(ProgramGenerator::numeric, mainType);
        Kind k = val(x).dtype == DType.INT32 ? INT_UNARY[rnd.nextInt(INT_UNARY.length)]
                : UNARY[rnd.nextInt(UNARY.length)];
        add(Step.of(k, x));
    }

    private void binaryOp() {
        int a = operand(ProgramGenerator::numeric, mainType);
        int b = partner(val(a));
        Kind k = BINARY[rnd.nextInt(BINARY.length)];
        add(rnd.chance(0.5) ? Step.of(k, a, b) : Step.of(k, b, a));
    }

    private void compareOp() {
        int a = operand(r -> true, mainType);
        int b = partner(val(a));
        add(Step.of(COMPARE[rnd.nextInt(COMPARE.length)], a, b));
    }

    private void constantOp(Kind[] kinds) {
        int a = operand(ProgramGenerator::numeric, mainType);
        double c;
        if (val(a).dtype == DType.INT32) {
            c = rnd.pick(List.of(0, 1, -1, 2, 3, -7, 100, Integer.MAX_VALUE, Integer.MIN_VALUE));
        } else {
            c = rnd.pick(List.of(0.0, -0.0, 1.0, -1.0, 2.0, 0.5, -0.5, 3.0, 1e-3, 1e3, Double.NaN,
                    Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, rnd.nextDouble() * 4 - 2));
        }
        add(Step.of(kinds[rnd.nextInt(kinds.length)], a).withConstant(c));
    }

    private void whereOp() {
        int c = rnd.chance(0.7) ? existing(r -> r.dtype == DType.BOOL) : -1;
        if (c < 0) {
            compareOp();
            c = values.size() - 1;
        }
        long[] cs = val(c).shape;
        DType t = rnd.chance(0.1) ? DType.BOOL : mainType;
        int a;
        int b;
        if (t == DType.BOOL) {
            a = c;
            b = existing(r -> r.dtype == DType.BOOL && Reference.broadcast(r.shape, cs) != null);
            b = b < 0 ? c : b;
        } else {
            int prior = rnd.chance(0.5) ? existing(r -> r.dtype == mainType && Reference.broadcast(r.shape, cs) != null
                    && fits(Reference.broadcast(r.shape, cs), cap)) : -1;
            a = prior >= 0 ? prior : input(mainType, broadcastVariant(cs));
            long[] as = Reference.broadcast(val(a).shape, cs);
            b = input(val(a).dtype, broadcastVariant(as));
        }
        add(rnd.chance(0.5) ? Step.of(Kind.WHERE, c, a, b) : Step.of(Kind.WHERE, c, b, a));
    }

    private void reduceOp() {
        Kind k = REDUCE[rnd.nextInt(REDUCE.length)];
        int x = operand(ProgramGenerator::numeric, mainType);
        RefTensor r = val(x);
        int[] axes = rnd.chance(0.35) ? null : rnd.chance(0.1) ? new int[0] : randomAxes(r.rank(), false);
        if ((k == Kind.MAX || k == Kind.MIN) && rnd.chance(0.85)) {
            // mostly avoid the (documented) error of an extremum over an empty axis
            int[] all = axes == null ? Reference.axes("max", null, r.rank()) : axes;
            if (Arrays.stream(all).anyMatch(a -> r.shape[a < 0 ? a + r.rank() : a] == 0)) {
                axes = new int[0];
            }
        }
        add(Step.of(k, x).withAxes(axes).withKeep(rnd.chance(0.4)));
    }

    private void matmulOp() {
        DType t = rnd.chance(0.85) ? mainType : floatType();
        int a = operand(r -> numeric(r) && r.dtype == t && r.rank() >= 2 && r.rank() <= 4, t);
        RefTensor ra = val(a);
        long k = ra.shape[ra.rank() - 1];
        int b = rnd.chance(0.3) ? existing(r -> r.dtype == t && r.rank() >= 2 && r.shape[r.rank() - 2] == k
                && Reference.broadcast(Arrays.copyOf(r.shape, r.rank() - 2),
                        Arrays.copyOf(ra.shape, ra.rank() - 2)) != null && fits(matmulShape(ra, r), cap)) : -1;
        if (b >= 0) {
            add(Step.of(Kind.MATMUL, a, b));
            return;
        }
        for (int attempt = 0; attempt < 8; attempt++) {
            long[] batch = broadcastVariant(Arrays.copyOf(ra.shape, ra.rank() - 2));
            if (batch.length > 3) {
                batch = Arrays.copyOfRange(batch, batch.length - 3, batch.length);
            }
            long[] bs = Arrays.copyOf(batch, batch.length + 2);
            bs[batch.length] = k;
            bs[batch.length + 1] = rnd.chance(0.05) ? 0 : rnd.between(1, 6);
            bs = fitKeeping(bs, batch.length);
            RefTensor probe = new RefTensor(bs, t, new double[Reference.size(bs)], new double[Reference.size(bs)]);
            if (fits(matmulShape(ra, probe), cap) || attempt == 7) {
                b = input(t, fits(matmulShape(ra, probe), cap) || !fits(new long[] {k}, cap) ? bs
                        : new long[] {k, 1});
                break;
            }
        }
        add(Step.of(Kind.MATMUL, a, b));
    }

    /** The shape of {@code a @ b}, for the size cap. */
    private static long[] matmulShape(RefTensor a, RefTensor b) {
        long[] batch = Reference.broadcast(Arrays.copyOf(a.shape, a.rank() - 2), Arrays.copyOf(b.shape, b.rank() - 2));
        if (batch == null) {
            return new long[] {Long.MAX_VALUE};                 // shrunk to fit, it no longer broadcasts: try again
        }
        long[] out = Arrays.copyOf(batch, batch.length + 2);
        out[batch.length] = a.shape[a.rank() - 2];
        out[batch.length + 1] = b.shape[b.rank() - 1];
        return out;
    }

    /** Shrinks the leading dims (not dim {@code keep}, the inner one) to fit the cap. */
    private long[] fitKeeping(long[] d, int keep) {
        while (!fits(d, cap)) {
            boolean shrinkable = false;
            for (int i = 0; i < d.length; i++) {
                shrinkable |= i != keep && d[i] > 1;
            }
            if (!shrinkable) {
                break;                      // the inner dimension alone is past the cap (a concat of empty tensors)
            }
            int i = rnd.nextInt(d.length);
            if (i != keep) {
                d[i] = Math.max(1, d[i] / 2);
            }
        }
        return d;
    }

    private void reshapeOp() {
        int x = operand(r -> true, mainType);
        RefTensor r = val(x);
        long n = r.size();
        List<Long> dims = new ArrayList<>();
        if (n == 0) {
            int rank = rnd.between(1, 4);
            for (int i = 0; i < rank; i++) {
                dims.add((long) rnd.between(1, 4));
            }
            dims.set(rnd.nextInt(rank), 0L);
        } else {
            long left = n;
            for (long p = 2; p * p <= left; p++) {
                while (left % p == 0) {
                    dims.add(p);
                    left /= p;
                }
            }
            if (left > 1) {
                dims.add(left);
            }
            // merge random neighbours until the rank is at most 5, sprinkle ones
            java.util.Collections.shuffle(dims, new java.util.Random(rnd.nextLong()));
            int target = rnd.between(0, 5);
            while (dims.size() > Math.max(target, 1) || dims.size() > 5) {
                int i = rnd.nextInt(dims.size() - 1);
                dims.set(i, dims.get(i) * dims.remove(i + 1));
            }
            while (dims.size() < 5 && rnd.chance(0.25)) {
                dims.add(rnd.nextInt(dims.size() + 1), 1L);
            }
            if (n == 1 && rnd.chance(0.5)) {
                dims.clear();
            }
        }
        long[] d = dims.stream().mapToLong(Long::longValue).toArray();
        if (n > 0 && d.length > 0 && rnd.chance(0.3)) {
            d[rnd.nextInt(d.length)] = -1;
        }
        add(Step.of(Kind.RESHAPE, x).withDims(d));
    }

    private void squeezeOp() {
        int x = operand(r -> true, mainType);
        RefTensor r = val(x);
        List<Integer> ones = new ArrayList<>();
        for (int i = 0; i < r.rank(); i++) {
            if (r.shape[i] == 1 && rnd.chance(0.6)) {
                ones.add(rnd.chance(0.3) ? i - r.rank() : i);
            }
        }
        add(Step.of(Kind.SQUEEZE, x).withAxes(ones.stream().mapToInt(Integer::intValue).toArray()));
    }

    private void broadcastToOp() {
        int x = operand(r -> r.rank() <= 4, mainType);
        RefTensor r = val(x);
        int extra = rnd.between(0, Math.min(2, 5 - r.rank()));
        long[] d = new long[r.rank() + extra];
        for (int i = 0; i < extra; i++) {
            d[i] = rnd.between(0, 3) == 0 ? 1 : rnd.between(1, 4);
        }
        for (int i = 0; i < r.rank(); i++) {
            long s = r.shape[i];
            d[extra + i] = s == 1 && rnd.chance(0.5) ? rnd.between(0, 4) : s;
        }
        if (!fits(d, cap)) {
            d = r.shape.clone();
        }
        add(Step.of(Kind.BROADCAST_TO, x).withDims(d));
    }

    private void sliceOp() {
        int x = operand(r -> true, mainType);
        RefTensor r = val(x);
        long[] begin = new long[r.rank()];
        long[] size = new long[r.rank()];
        for (int i = 0; i < r.rank(); i++) {
            long d = r.shape[i];
            begin[i] = rnd.nextInt((int) d + 1);
            size[i] = rnd.chance(0.2) ? -1 : rnd.nextInt((int) (d - begin[i]) + 1);
        }
        add(Step.of(Kind.SLICE, x).withDims(begin).withDims2(size));
    }

    private void concatOp(boolean stack) {
        int x = operand(r -> stack ? r.rank() <= 4 : r.rank() >= 1, mainType);
        RefTensor r = val(x);
        int parts = rnd.between(1, 3);
        int axis = stack ? anyAxis(r.rank() + 1) : anyAxis(r.rank());
        int a = axis < 0 ? axis + (stack ? r.rank() + 1 : r.rank()) : axis;
        int[] args = new int[parts];
        args[0] = x;
        for (int i = 1; i < parts; i++) {
            if (rnd.chance(0.3)) {
                args[i] = x;
            } else {
                long[] s = r.shape.clone();
                if (!stack) {
                    s[a] = rnd.between(0, 4);
                }
                args[i] = input(r.dtype, fit(s));
                if (stack && !Arrays.equals(val(args[i]).shape, r.shape)) {
                    args[i] = x;
                }
            }
        }
        if (rnd.chance(0.5)) {
            int j = rnd.nextInt(parts);
            int tmp = args[0];
            args[0] = args[j];
            args[j] = tmp;
        }
        add(Step.of(stack ? Kind.STACK : Kind.CONCAT, args).withAxes(new int[] {axis}));
    }

    private void castOp() {
        int x = operand(r -> true, mainType);
        DType from = val(x).dtype;
        List<DType> to = new ArrayList<>(List.of(DType.FLOAT32, DType.FLOAT64, DType.INT32));
        to.remove(from);
        add(Step.of(Kind.CAST, x).withDtype(rnd.pick(to)));
    }

    // ---- invalid ops -----------------------------------------------------------------------------------------

    /** An op the library must reject; some choices turn out valid, and the program then goes on. */
    private void invalidOp() {
        switch (rnd.nextInt(29)) {
            case 0 -> {                                             // shapes that do not broadcast
                int a = operand(r -> numeric(r) && Arrays.stream(r.shape).anyMatch(d -> d >= 2), mainType);
                long[] s = val(a).shape.clone();
                for (int i = 0; i < s.length; i++) {
                    if (s[i] >= 2) {
                        s[i] = s[i] + 1;
                        break;
                    }
                }
                int b = input(val(a).dtype, s);
                Kind k = rnd.chance(0.8) ? BINARY[rnd.nextInt(BINARY.length)] : COMPARE[rnd.nextInt(6)];
                add(rnd.chance(0.5) ? Step.of(k, a, b) : Step.of(k, b, a));
            }
            case 1 -> {                                             // dtype mismatch
                int a = operand(ProgramGenerator::numeric, mainType);
                DType other = val(a).dtype == DType.FLOAT32 ? DType.FLOAT64 : DType.FLOAT32;
                int b = input(other, val(a).shape.clone());
                Kind k = rnd.chance(0.8) ? BINARY[rnd.nextInt(BINARY.length)] : COMPARE[rnd.nextInt(6)];
                add(Step.of(k, a, b));
            }
            case 2 -> {                                             // a float-only op on INT32
                int a = operand(r -> r.dtype == DType.INT32, DType.INT32);
                add(Step.of(FLOAT_ONLY[rnd.nextInt(FLOAT_ONLY.length)], a));
            }
            case 3 -> {                                             // axis out of range
                int a = operand(ProgramGenerator::numeric, mainType);
                int r = val(a).rank();
                int bad = rnd.chance(0.5) ? r + rnd.nextInt(2) : -r - 1 - rnd.nextInt(2);
                Kind k = REDUCE[rnd.nextInt(4)];
                add(Step.of(k, a).withAxes(new int[] {bad}).withKeep(rnd.chance(0.5)));
            }
            case 4 -> {                                             // repeated axis
                int a = operand(r -> numeric(r) && r.rank() >= 1, mainType);
                int r = val(a).rank();
                int ax = rnd.nextInt(r);
                add(Step.of(REDUCE[rnd.nextInt(4)], a).withAxes(new int[] {ax, rnd.chance(0.5) ? ax : ax - r}));
            }
            case 5 -> {                                             // max/min/argmax over an empty axis
                long[] s = randomShape();
                if (s.length == 0) {
                    s = new long[] {0};
                }
                int ax = rnd.nextInt(s.length);
                s[ax] = 0;
                int a = input(mainType, s);
                Kind k = rnd.pick(List.of(Kind.MAX, Kind.MIN, Kind.ARGMAX));
                add(Step.of(k, a).withAxes(new int[] {ax}));
            }
            case 6 -> {                                             // matmul inner dimensions differ
                int a = operand(r -> numeric(r) && r.rank() >= 2 && r.rank() <= 4, mainType);
                long k = val(a).shape[val(a).rank() - 1];
                int b = input(val(a).dtype, new long[] {k + 1, rnd.between(1, 3)});
                add(Step.of(Kind.MATMUL, a, b));
            }
            case 7 -> {                                             // matmul of a vector
                int a = operand(r -> numeric(r) && r.rank() < 2, mainType);
                int b = input(val(a).dtype, new long[] {rnd.between(1, 3), rnd.between(1, 3)});
                add(rnd.chance(0.5) ? Step.of(Kind.MATMUL, a, b) : Step.of(Kind.MATMUL, b, a));
            }
            case 8 -> {                                             // reshape to another size
                int a = operand(r -> true, mainType);
                long n = val(a).size();
                add(Step.of(Kind.RESHAPE, a).withDims(rnd.chance(0.3) ? new long[] {-1, -1}
                        : new long[] {n + 1 + rnd.nextInt(3)}));
            }
            case 9 -> {                                             // not a permutation
                int a = operand(r -> true, mainType);
                int r = val(a).rank();
                int[] p = new int[r + (r == 0 || rnd.chance(0.5) ? 1 : 0)];
                Arrays.setAll(p, i -> i % Math.max(r, 1));
                if (p.length == r && r >= 2) {
                    p[1] = p[0];
                }
                add(Step.of(Kind.PERMUTE, a).withAxes(p));
            }
            case 10 -> {                                            // squeeze an axis that is not 1
                int a = operand(r -> Arrays.stream(r.shape).anyMatch(d -> d != 1), mainType);
                RefTensor r = val(a);
                int ax = 0;
                while (r.shape[ax] == 1) {
                    ax++;
                }
                add(Step.of(Kind.SQUEEZE, a).withAxes(new int[] {ax}));
            }
            case 11 -> {                                            // broadcastTo a shape it does not fit
                int a = operand(r -> Arrays.stream(r.shape).anyMatch(d -> d >= 2), mainType);
                long[] s = val(a).shape.clone();
                for (int i = 0; i < s.length; i++) {
                    if (s[i] >= 2) {
                        s[i] = rnd.chance(0.5) ? s[i] + 1 : -1;
                        break;
                    }
                }
                add(Step.of(Kind.BROADCAST_TO, a).withDims(s));
            }
            case 12 -> {                                            // slice out of bounds
                int a = operand(r -> r.rank() >= 1, mainType);
                RefTensor r = val(a);
                long[] begin = new long[r.rank()];
                long[] size = new long[r.rank()];
                int ax = rnd.nextInt(r.rank());
                begin[ax] = rnd.chance(0.5) ? -1 : r.shape[ax];
                size[ax] = rnd.chance(0.5) ? 1 : 0;
                if (begin[ax] == r.shape[ax]) {
                    size[ax] = 1;
                }
                add(Step.of(Kind.SLICE, a).withDims(begin).withDims2(rnd.chance(0.2)
                        ? new long[r.rank() + 1] : size));
            }
            case 13 -> {                                            // concat of mismatched shapes, or scalars
                int a = operand(r -> r.rank() >= 2 || r.rank() == 0, mainType);
                RefTensor r = val(a);
                if (r.rank() == 0) {
                    add(Step.of(Kind.CONCAT, a, a).withAxes(new int[] {0}));
                } else {
                    long[] s = r.shape.clone();
                    s[1] += 1;
                    int b = input(r.dtype, s);
                    add(Step.of(Kind.CONCAT, a, b).withAxes(new int[] {0}));
                }
            }
            case 14 -> add(Step.of(Kind.TRANSPOSE, operand(r -> r.rank() < 2, mainType)));
            case 15 -> {                                            // where with a non-BOOL condition
                int c = operand(ProgramGenerator::numeric, mainType);
                int a = input(floatType(), val(c).shape.clone());
                add(Step.of(Kind.WHERE, c, a, a));
            }
            case 16 -> {                                            // arithmetic on BOOL
                int c = existing(r -> r.dtype == DType.BOOL);
                if (c < 0) {
                    compareOp();
                    c = values.size() - 1;
                }
                switch (rnd.nextInt(6)) {
                    case 0 -> add(Step.of(Kind.ADD, c, c));
                    case 1 -> add(Step.of(Kind.NEG, c));
                    case 2 -> add(Step.of(Kind.SUM, c).withAxes(null));
                    case 3 -> add(Step.of(Kind.MAX, c).withAxes(null));
                    case 4 -> add(Step.of(Kind.EXP, c));
                    default -> add(Step.of(Kind.MEAN, c).withAxes(null));
                }
            }
            case 17 -> {                                            // expandDims out of range
                int a = operand(r -> true, mainType);
                int r = val(a).rank();
                add(Step.of(Kind.EXPAND_DIMS, a).withAxes(new int[] {rnd.chance(0.5) ? r + 1 : -r - 2}));
            }
            case 18 -> {                                            // softmax family on INT32 or a bad axis
                boolean intInput = rnd.chance(0.5);
                int a = intInput ? operand(r -> r.dtype == DType.INT32 && r.rank() >= 1, DType.INT32)
                        : operand(RefTensor::floating, floatType());
                int r = val(a).rank();
                add(Step.of(COMPOSITE[rnd.nextInt(3)], a).withAxes(new int[] {intInput ? 0 : r}));
            }
            case 19 -> {                                            // stack of different shapes or dtypes
                int a = operand(r -> numeric(r) && r.rank() <= 3, mainType);
                RefTensor r = val(a);
                int b = rnd.chance(0.5) ? input(r.dtype, Arrays.copyOf(r.shape, r.rank() + 1))
                        : input(r.dtype == DType.FLOAT64 ? DType.FLOAT32 : DType.FLOAT64, r.shape.clone());
                add(Step.of(Kind.STACK, a, b).withAxes(new int[] {0}));
            }
            case 20 -> {                                            // argmax with a bad axis
                int a = operand(ProgramGenerator::numeric, mainType);
                add(Step.of(Kind.ARGMAX, a).withAxes(new int[] {val(a).rank()}));
            }
            case 21 -> {                                            // conv2d of mismatched operands
                DType t = floatType();
                int x = image(t, 1, 1);
                long[] xs = val(x).shape;
                switch (rnd.nextInt(6)) {
                    case 0 -> add(Step.of(Kind.CONV2D, x, input(t, new long[] {2, xs[1] + 1, 1, 1}))
                            .withDims(new long[] {1}));                           // channels differ
                    case 1 -> add(Step.of(Kind.CONV2D, x, input(t, new long[] {2, xs[1], 1}))
                            .withDims(new long[] {1}));                           // a rank-3 kernel
                    case 2 -> add(Step.of(Kind.CONV2D, x, input(t, new long[] {1, xs[1], xs[2] + 1, 1}))
                            .withDims(new long[] {1}));                           // "valid" and too tall
                    case 3 -> add(Step.of(Kind.CONV2D, x, input(t, new long[] {1, xs[1], 1, 1}))
                            .withDims(new long[] {rnd.chance(0.5) ? 0 : -1}));   // stride < 1
                    case 4 -> add(Step.of(Kind.CONV2D, x, input(t, new long[] {2, xs[1], 1, 1}),
                            input(t, new long[] {rnd.chance(0.5) ? 3 : 1})).withDims(new long[] {1}));
                    default -> add(Step.of(Kind.CONV2D, x, input(t == DType.FLOAT32 ? DType.FLOAT64 : DType.FLOAT32,
                            new long[] {1, xs[1], 1, 1})).withDims(new long[] {1}));   // dtypes differ
                }
            }
            case 22 -> {                                            // pooling of a non-image or too small an image
                Kind k = rnd.chance(0.5) ? Kind.MAX_POOL2D : Kind.AVG_POOL2D;
                switch (rnd.nextInt(3)) {
                    case 0 -> add(Step.of(k, operand(r -> r.rank() != 4, mainType)).withDims(new long[] {1, 1}));
                    case 1 -> {
                        int x = image(floatType(), 1, 1);
                        add(Step.of(k, x).withDims(new long[] {val(x).shape[2] + 1, 1}));
                    }
                    default -> add(Step.of(k, image(floatType(), 1, 1)).withDims(new long[] {1, 0}));
                }
            }
            case 23 -> {                                            // gather out of range, or of a bad axis
                int x = operand(r -> r.rank() >= 1, mainType);
                RefTensor r = val(x);
                int axis = anyAxis(r.rank());
                long n = r.shape[axis < 0 ? axis + r.rank() : axis];
                if (rnd.chance(0.7)) {
                    add(Step.of(Kind.GATHER, x, indices(new long[] {rnd.between(1, 4)}, n, true))
                            .withAxes(new int[] {axis}));
                } else {
                    add(Step.of(Kind.GATHER, x, indices(new long[] {1}, 1, false))
                            .withAxes(new int[] {rnd.chance(0.5) ? r.rank() : -r.rank() - 1}));
                }
            }
            case 24 -> {                                            // pad with a negative or a missing entry
                int x = operand(r -> r.rank() >= 1, mainType);
                int r = val(x).rank();
                long[] before = new long[rnd.chance(0.5) ? r : r + 1];
                long[] after = new long[r];
                if (before.length == r) {
                    after[rnd.nextInt(r)] = -1;
                }
                add(Step.of(Kind.PAD, x).withDims(before).withDims2(after));
            }
            case 25 -> {                                            // oneHot of floats, or of a negative depth
                if (rnd.chance(0.5)) {
                    add(Step.of(Kind.ONE_HOT, input(floatType(), new long[] {3})).withDims(new long[] {4}));
                } else {
                    add(Step.of(Kind.ONE_HOT, labels(3, 5)).withDims(new long[] {-1}));
                }
            }
            case 26 -> {                                            // the nn losses and gelu on bad operands
                switch (rnd.nextInt(7)) {
                    case 0 -> add(Step.of(Kind.GELU, operand(r -> r.dtype == DType.INT32, DType.INT32)));
                    case 1 -> {
                        int p = operand(r -> numeric(r) && r.rank() >= 1, mainType);
                        long[] s = val(p).shape.clone();
                        s[0] += 1;
                        add(Step.of(Kind.MEAN_SQUARED_ERROR, p, input(val(p).dtype, s)));
                    }
                    case 2 -> add(Step.of(Kind.SOFTMAX_CROSS_ENTROPY, input(floatType(), new long[] {3}),
                            labels(3, 3)));
                    case 3 -> add(Step.of(Kind.SOFTMAX_CROSS_ENTROPY, input(floatType(), new long[] {3, 4}),
                            labels(2, 4)));
                    case 4 -> add(Step.of(Kind.SOFTMAX_CROSS_ENTROPY, input(floatType(), new long[] {2, 4}),
                            input(floatType(), new long[] {2, 3})));          // probabilities of another shape
                    case 5 -> add(Step.of(Kind.SOFTMAX_CROSS_ENTROPY, input(DType.FLOAT32, new long[] {2, 4}),
                            input(DType.FLOAT64, new long[] {2, 4})));        // ...or of another dtype
                    default -> add(Step.of(Kind.SOFTMAX_CROSS_ENTROPY, input(DType.INT32, new long[] {2, 4}),
                            labels(2, 4)));
                }
            }
            case 27 -> {                                            // dropout at a rate outside [0, 1), or of ints
                if (rnd.chance(0.5)) {
                    double rate = switch (rnd.nextInt(3)) {
                        case 0 -> 1;
                        case 1 -> -0.25;
                        default -> Double.NaN;
                    };
                    add(Step.of(Kind.DROPOUT, operand(RefTensor::floating, floatType())).withConstant(rate)
                            .withDims(new long[] {1, 1}));
                } else {
                    add(Step.of(Kind.DROPOUT, operand(r -> r.dtype == DType.INT32, DType.INT32)).withConstant(0.5)
                            .withDims(new long[] {1, rnd.chance(0.5) ? 1 : 0}));
                }
            }
            default -> {                                            // a zero-size dimension into max
                int a = operand(r -> numeric(r) && r.size() == 0 && r.rank() >= 1, mainType);
                add(Step.of(rnd.chance(0.5) ? Kind.MAX : Kind.MIN, a).withAxes(null));
            }
        }
    }
}
