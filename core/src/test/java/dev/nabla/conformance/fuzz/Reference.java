package dev.nabla.conformance.fuzz;

import dev.nabla.DType;
import dev.nabla.conformance.fuzz.Program.Kind;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * The fuzzer's reference interpreter: every op written here from its mathematical definition and the documented
 * NumPy/TensorFlow semantics (broadcasting, axes, keepDims, NaN propagation, C99 pow, INT32 wrap-around, Java's
 * float-to-int cast), over plain {@code double[]} with its own index arithmetic. It never calls the library.
 *
 * <h2>Values</h2> Each op computes in float64 and rounds its result to the dtype (a FLOAT32 result is the float64
 * result rounded once to float, as ARCHITECTURE.md defines every element-wise op); INT32 wraps in two's complement;
 * BOOL is 0/1.
 *
 * <h2>Error bounds</h2> Next to each value the interpreter carries a bound {@code e} on how far a correct
 * implementation's element may be from it (see {@link RefTensor}), propagated by a running error analysis:
 * <ul>
 *   <li>Element-wise ops on exact inputs are exact ({@code e = 0}) on the CPU, whose documented definitions are
 *       these (IEEE ops, StrictMath transcendentals, C99 pow); other devices get {@link #DEVICE_ULPS} ulps on the
 *       transcendentals (CUDA's libdevice bounds are 1 to 2 ulps).</li>
 *   <li>Sums and matrix products may add in any order: {@code |error| <= (n + 1) eps sum|x_i|} (the classical
 *       bound for recursive summation, with eps = 2^-23 or 2^-52, and it also covers blocked and pairwise orders),
 *       plus an ulp for the final rounding, plus {@code n} smallest subnormals for underflowing products. When
 *       {@code sum|x_i|} could overflow the dtype the element becomes uncompared.</li>
 *   <li>An op on inputs that carry error gets the exact image of the input intervals: for functions monotone in
 *       each argument (add, sub, mul, div away from 0, pow of a positive base, max, min, exp, log, sqrt, tanh...)
 *       the extreme values lie at the corners of the box, so the bound is the largest corner distance plus the
 *       rounding; Lipschitz constants for abs/relu/neg (1) and sin/cos (1, at most 2). Where the box touches a
 *       pole, a branch cut or a discontinuity (log of a value that may be 0, 1/x across 0, a comparison or sign of
 *       overlapping intervals, a float-to-int cast across an integer) the result is uncompared.</li>
 *   <li>This is why float32 programs are compared against float32-rounded references: the bound grows with the
 *       program's own conditioning (a cancellation after a sum, exp of an uncertain argument), not with a fixed
 *       tolerance per depth, and stays 0 wherever the library must be bit-exact.</li>
 * </ul>
 *
 * <h2>Gradients</h2> The interpreter records its own tape and runs reverse mode with the textbook derivative of each
 * op, in the same arithmetic with bounds ({@link Mode#BACKWARD}: every op may also differ by {@link #BACKWARD_ULPS}
 * ulps, since the library may write a derivative in another but equivalent order). Where a function is not
 * differentiable or its derivative is convention (relu and abs at 0, ties of maximum/minimum and of max/min
 * reductions, the derivative of {@code a^b} in b for {@code a <= 0}) or any backward value is not finite, the
 * gradient element is uncompared: the brief asks for agreement where the function is smooth.
 */
final class Reference {
    static final double INF = Double.POSITIVE_INFINITY;
    /** Extra ulps for transcendental ops on devices other than the CPU. */
    static final int DEVICE_ULPS = 4;
    /** Ulps each backward op may differ by (derivatives written in another order round differently). */
    static final int BACKWARD_ULPS = 2;
    /** Ulps each op inside softmax, logSoftmax and logSumExp may differ by (formulas are not API). */
    static final int COMPOSITE_ULPS = 1;

    /** An invalid op: the library must throw IllegalArgumentException naming {@link #op}. */
    static final class Invalid extends RuntimeException {
        final String op;

        Invalid(String op, String why) {
            super(op + ": " + why, null, false, false);
            this.op = op;
        }
    }

    /** A value too big for the fuzzer (a generator slip): the generator ends the program before it. */
    static final class TooBig extends RuntimeException {
        TooBig(String what) {
            super(what, null, false, false);
        }
    }

    /** The most elements the reference holds in one value. */
    static final int MAX_ELEMENTS = 1 << 21;

    enum Mode { FORWARD, COMPOSITE, BACKWARD }

    private interface Vjp {
        RefTensor[] apply(RefTensor g);
    }

    private record Node(RefTensor[] inputs, RefTensor out, Vjp vjp) {
    }

    private final boolean cpu;
    private Mode mode = Mode.FORWARD;
    private boolean recording = true;
    /** While a reverse pass runs: whether it records its own ops, so that its gradients can be differentiated. */
    private boolean createGraph;
    private final List<Node> tape = new ArrayList<>();

    /** @param cpu true where the device's element-wise ops are the exact documented definitions */
    Reference(boolean cpu) {
        this.cpu = cpu;
    }

    // ---- shapes and indices ----------------------------------------------------------------------------------

    static int size(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        if (n > MAX_ELEMENTS) {
            throw new TooBig("reference will not hold " + Program.fmt(shape));
        }
        return (int) n;
    }

    static long[] strides(long[] shape) {
        long[] s = new long[shape.length];
        long acc = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            s[i] = acc;
            acc *= shape[i];
        }
        return s;
    }

    /** The NumPy broadcast of two shapes, or null. */
    static long[] broadcast(long[] a, long[] b) {
        int r = Math.max(a.length, b.length);
        long[] out = new long[r];
        for (int i = 0; i < r; i++) {
            long da = i < r - a.length ? 1 : a[i - (r - a.length)];
            long db = i < r - b.length ? 1 : b[i - (r - b.length)];
            if (da != db && da != 1 && db != 1) {
                return null;
            }
            out[i] = da == 1 ? db : da;
        }
        return out;
    }

    static boolean broadcastsTo(long[] from, long[] to) {
        long[] b = broadcast(from, to);
        return b != null && Arrays.equals(b, to);
    }

    /** For each row-major position of {@code to}, the position of {@code from} that broadcasting reads. */
    static int[] broadcastMap(long[] from, long[] to) {
        int n = size(to);
        int r = to.length;
        int lead = r - from.length;
        long[] fs = strides(from);
        long[] st = new long[r];
        for (int i = 0; i < from.length; i++) {
            st[lead + i] = from[i] == 1 ? 0 : fs[i];
        }
        return walk(to, st, 0, n);
    }

    /** The positions {@code offset + sum idx[i] * st[i]} over the row-major walk of {@code shape}. */
    private static int[] walk(long[] shape, long[] st, long offset, int n) {
        int[] m = new int[n];
        int r = shape.length;
        long[] idx = new long[r];
        long pos = offset;
        for (int f = 0; f < n; f++) {
            m[f] = (int) pos;
            for (int d = r - 1; d >= 0; d--) {
                idx[d]++;
                pos += st[d];
                if (idx[d] < shape[d]) {
                    break;
                }
                pos -= st[d] * idx[d];
                idx[d] = 0;
            }
        }
        return m;
    }

    static int axis(String op, int axis, int rank) {
        int a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank) {
            throw new Invalid(op, "axis " + axis + " out of range for rank " + rank);
        }
        return a;
    }

    // ---- rounding and bounds ---------------------------------------------------------------------------------

    static double round(DType t, double x) {
        return switch (t) {
            case FLOAT32 -> (float) x;
            case FLOAT64 -> x;
            case INT32 -> (int) x;
            case BOOL -> x != 0 ? 1 : 0;
        };
    }

    static double ulp(DType t, double y) {
        if (!Double.isFinite(y)) {
            return 0;
        }
        return t == DType.FLOAT32 ? Math.ulp((float) y) : Math.ulp(y);
    }

    static double eps(DType t) {
        return t == DType.FLOAT32 ? 0x1p-23 : 0x1p-52;
    }

    static double maxFinite(DType t) {
        return t == DType.FLOAT32 ? Float.MAX_VALUE : Double.MAX_VALUE;
    }

    /** The final bound of an element: uncompared where the error could reach an overflow or came from nowhere. */
    private double finish(DType t, double y, double e) {
        if (Double.isNaN(e) || e == INF) {
            return INF;
        }
        if (mode == Mode.BACKWARD && !Double.isFinite(y)) {
            return INF;                    // gradients are compared where the function is smooth and finite
        }
        if (e == 0) {
            return 0;
        }
        if (!Double.isFinite(y) || Math.abs(y) + e >= maxFinite(t)) {
            return INF;
        }
        return e;
    }

    private static boolean transcendental(Kind k) {
        return switch (k) {
            case EXP, LOG, SIN, COS, TANH, SIGMOID, POW, RSQRT -> true;
            default -> false;
        };
    }

    /** The ulps an op's result may differ by on exact inputs, in the current mode. */
    private double slack(Kind k, DType t, double y) {
        int ulps = switch (mode) {
            case FORWARD -> 0;
            case COMPOSITE -> COMPOSITE_ULPS;
            case BACKWARD -> BACKWARD_ULPS;
        };
        if (!cpu && transcendental(k)) {
            ulps += DEVICE_ULPS;
        }
        return ulps * ulp(t, y);
    }

    // ---- tape ------------------------------------------------------------------------------------------------

    private RefTensor record(RefTensor out, Vjp vjp, RefTensor... inputs) {
        if (!recording || (mode == Mode.BACKWARD && !createGraph) || !out.floating()) {
            return out;
        }
        for (RefTensor in : inputs) {
            if (in != null && in.tracked) {
                out.tracked = true;
                tape.add(new Node(inputs, out, vjp));
                return out;
            }
        }
        return out;
    }

    /** A program input; float inputs are gradient sources. */
    RefTensor source(DType t, long[] shape, double[] values) {
        double[] v = new double[values.length];
        for (int i = 0; i < v.length; i++) {
            v[i] = round(t, values[i]);
        }
        RefTensor r = new RefTensor(shape.clone(), t, v, new double[v.length]);
        r.tracked = r.floating();
        return r;
    }

    /** An exact scalar constant of a dtype (a Java number operand). */
    RefTensor constant(DType t, double c) {
        return new RefTensor(new long[0], t, new double[] {round(t, c)}, new double[1]);
    }

    private static RefTensor filled(long[] shape, DType t, double c) {
        double[] v = new double[size(shape)];
        Arrays.fill(v, round(t, c));
        return new RefTensor(shape.clone(), t, v, new double[v.length]);
    }

    /**
     * Reverse mode from {@code loss} (a scalar): the gradient of each source, or null where no recorded path leads
     * from the source to the loss (the library's "unconnected" null).
     */
    List<RefTensor> gradients(RefTensor loss, List<RefTensor> sources) {
        return gradients(loss, sources, false);
    }

    /**
     * As {@link #gradients(RefTensor, List)}; with {@code createGraph} the reverse pass is recorded too (as an outer
     * tape records an inner one's gradient), so that a later call differentiates the gradients (every rule here is
     * made of recorded ops).
     */
    List<RefTensor> gradients(RefTensor loss, List<RefTensor> sources, boolean createGraph) {
        Mode saved = mode;
        boolean savedCreate = this.createGraph;
        mode = Mode.BACKWARD;
        this.createGraph = createGraph;
        try {
            Map<RefTensor, RefTensor> grads = new IdentityHashMap<>();
            if (!loss.tracked) {
                return sources.stream().map(s -> (RefTensor) null).toList();
            }
            grads.put(loss, filled(loss.shape, loss.dtype, 1));
            for (int n = tape.size() - 1; n >= 0; n--) {
                Node node = tape.get(n);
                RefTensor g = grads.get(node.out);
                if (g == null) {
                    continue;
                }
                RefTensor[] gi = node.vjp.apply(g);
                if (Boolean.getBoolean("nabla.fuzz.debug")) {
                    System.out.println("DEBUG node out " + node.out + "\n   g " + g + " e=" + Arrays.toString(g.e));
                    for (RefTensor x : gi) {
                        System.out.println("   -> " + x + (x == null ? "" : " e=" + Arrays.toString(x.e)));
                    }
                }
                for (int i = 0; i < node.inputs.length; i++) {
                    RefTensor in = node.inputs[i];
                    if (in == null || !in.tracked || gi[i] == null) {
                        continue;
                    }
                    if (!Arrays.equals(gi[i].shape, in.shape) || gi[i].dtype != in.dtype) {
                        throw new IllegalStateException("reference bug: gradient " + gi[i] + " for " + in);
                    }
                    RefTensor prev = grads.get(in);
                    grads.put(in, prev == null ? gi[i] : binary(Kind.ADD, prev, gi[i]));
                }
            }
            return sources.stream().map(grads::get).toList();
        } finally {
            mode = saved;
            this.createGraph = savedCreate;
        }
    }

    // ---- element-wise ----------------------------------------------------------------------------------------

    static double sigmoid(double x) {
        // the overflow-free form: exp of a non-positive number only
        if (x >= 0) {
            return 1.0 / (1.0 + StrictMath.exp(-x));
        }
        double z = StrictMath.exp(x);
        return z / (1.0 + z);
    }

    static double unaryValue(Kind k, double x) {
        return switch (k) {
            case NEG -> -x;
            case ABS -> Math.abs(x);
            case SIGN -> Math.signum(x);
            case EXP -> StrictMath.exp(x);
            case LOG -> StrictMath.log(x);
            case SQRT -> Math.sqrt(x);
            case RSQRT -> 1.0 / Math.sqrt(x);
            case SQUARE -> x * x;
            case RECIPROCAL -> 1.0 / x;
            case SIN -> StrictMath.sin(x);
            case COS -> StrictMath.cos(x);
            case TANH -> StrictMath.tanh(x);
            case SIGMOID -> sigmoid(x);
            case RELU -> x > 0 || Double.isNaN(x) ? x : 0.0;     // -0 and -inf give +0
            default -> throw new IllegalArgumentException(k.name());
        };
    }

    static int unaryInt(Kind k, int x) {
        return switch (k) {
            case NEG -> -x;                  // -MIN_VALUE wraps to MIN_VALUE
            case ABS -> x < 0 ? -x : x;      // as does |MIN_VALUE|
            case SIGN -> Integer.compare(x, 0);
            case SQUARE -> x * x;
            case RELU -> Math.max(x, 0);
            default -> throw new IllegalArgumentException(k.name());
        };
    }

    private double unaryError(Kind k, DType t, double x, double ex, double y) {
        if (ex == 0) {
            return finish(t, y, slack(k, t, y));
        }
        if (ex == INF || !Double.isFinite(x)) {
            return INF;
        }
        double lo = x - ex;
        double hi = x + ex;
        double d = switch (k) {
            case NEG, ABS, RELU -> ex;                              // Lipschitz 1, exact ops
            case SIN, COS -> Math.min(ex, 2) + ulp(t, 1);
            case SIGN -> lo <= 0 && hi >= 0 ? INF : 0;
            case LOG -> lo <= 0 ? INF : spread(k, t, y, lo, hi);
            case SQRT -> lo < 0 ? INF : spread(k, t, y, lo, hi);
            case RSQRT -> lo <= 0 ? INF : spread(k, t, y, lo, hi);
            case RECIPROCAL -> lo <= 0 && hi >= 0 ? INF : spread(k, t, y, lo, hi);
            case SQUARE -> Math.max(spread(k, t, y, lo, hi), lo < 0 && hi > 0 ? Math.abs(y) : 0);
            default -> spread(k, t, y, lo, hi);                     // monotone: exp, tanh, sigmoid
        };
        return finish(t, y, d + slack(k, t, y));
    }

    /** Largest distance from y of a monotone f on [lo, hi], plus the rounding of a result there. */
    private static double spread(Kind k, DType t, double y, double lo, double hi) {
        double a = unaryValue(k, lo);
        double b = unaryValue(k, hi);
        double d = Math.max(Math.abs(a - y), Math.abs(b - y));
        return d + ulp(t, Math.max(Math.abs(a), Math.abs(b))) + ulp(t, y);
    }

    RefTensor unary(Kind k, RefTensor x) {
        String op = k.api;
        switch (k) {
            case NEG, ABS, SIGN, SQUARE, RELU -> {
                if (x.dtype == DType.BOOL) {
                    throw new Invalid(op, "not defined for bool tensors");
                }
            }
            default -> {
                if (!x.floating()) {
                    throw new Invalid(op, "needs a float tensor, got " + x.dtype);
                }
            }
        }
        int n = x.size();
        double[] v = new double[n];
        double[] e = new double[n];
        for (int i = 0; i < n; i++) {
            if (x.dtype == DType.INT32) {
                v[i] = unaryInt(k, (int) x.v[i]);
                e[i] = x.e[i] > 0 ? INF : 0;
            } else {
                v[i] = round(x.dtype, unaryValue(k, x.v[i]));
                e[i] = unaryError(k, x.dtype, x.v[i], x.e[i], v[i]);
            }
        }
        RefTensor out = new RefTensor(x.shape.clone(), x.dtype, v, e);
        return record(out, g -> new RefTensor[] {unaryGradient(k, x, out, g)}, x);
    }

    private RefTensor unaryGradient(Kind k, RefTensor x, RefTensor y, RefTensor g) {
        DType t = x.dtype;
        return switch (k) {
            case NEG -> unary(Kind.NEG, g);
            case SIGN -> filled(x.shape, t, 0);                     // zero almost everywhere
            case ABS -> binary(Kind.MUL, g, kinkMask(x, true));     // sign(x); undefined at 0
            case RELU -> binary(Kind.MUL, g, kinkMask(x, false));   // step(x); undefined at 0
            case EXP -> binary(Kind.MUL, g, y);
            case LOG -> binary(Kind.DIV, g, x);
            case SQRT -> binary(Kind.DIV, g, binary(Kind.MUL, y, constant(t, 2)));
            case RSQRT -> binary(Kind.MUL, binary(Kind.DIV, binary(Kind.MUL, g, y), x), constant(t, -0.5));
            case SQUARE -> binary(Kind.MUL, g, binary(Kind.MUL, x, constant(t, 2)));
            // as the library (TF's ReciprocalGrad): y multiplied into g twice, so that a float32 g·y that overflows
            // is modelled (g·y² did not: program 159491 of seed 3925418024872, NaN where this gave 0 within 1e-43)
            case RECIPROCAL -> unary(Kind.NEG, binary(Kind.MUL, binary(Kind.MUL, g, y), y));
            case SIN -> binary(Kind.MUL, g, unary(Kind.COS, x));
            case COS -> unary(Kind.NEG, binary(Kind.MUL, g, unary(Kind.SIN, x)));
            case TANH -> binary(Kind.MUL, g, binary(Kind.SUB, constant(t, 1), unary(Kind.SQUARE, y)));
            case SIGMOID -> binary(Kind.MUL, g, binary(Kind.MUL, y, binary(Kind.SUB, constant(t, 1), y)));
            default -> throw new IllegalArgumentException(k.name());
        };
    }

    /** sign(x) (abs) or step(x) (relu), uncompared where x may be 0. */
    private static RefTensor kinkMask(RefTensor x, boolean sign) {
        int n = x.size();
        double[] v = new double[n];
        double[] e = new double[n];
        for (int i = 0; i < n; i++) {
            double lo = x.v[i] - x.e[i];
            double hi = x.v[i] + x.e[i];
            if (!(lo > 0 || hi < 0)) {
                e[i] = INF;
            }
            v[i] = x.v[i] > 0 ? 1 : sign && x.v[i] < 0 ? -1 : 0;
        }
        return new RefTensor(x.shape.clone(), x.dtype, v, e);
    }

    /** C99 Annex F pow (F.9.4.4), as TensorFlow, NumPy and CUDA: 1 for x^±0, 1^y and (-1)^±inf, NaN included. */
    static double pow(double a, double b) {
        if (b == 0 || a == 1 || (a == -1 && Double.isInfinite(b))) {
            return 1;
        }
        return StrictMath.pow(a, b);
    }

    static double binaryValue(Kind k, double a, double b) {
        return switch (k) {
            case ADD -> a + b;
            case SUB -> a - b;
            case MUL -> a * b;
            case DIV -> a / b;
            case POW -> pow(a, b);
            case MAXIMUM -> Math.max(a, b);      // NaN propagates; -0 < +0
            case MINIMUM -> Math.min(a, b);
            default -> throw new IllegalArgumentException(k.name());
        };
    }

    static int binaryInt(Kind k, int a, int b) {
        return switch (k) {
            case ADD -> a + b;
            case SUB -> a - b;
            case MUL -> a * b;
            case DIV -> b == 0 ? 0 : a / b;        // truncates; MIN_VALUE / -1 wraps; x / 0 is 0 (NumPy)
            case POW -> intPow(a, b);
            case MAXIMUM -> Math.max(a, b);
            case MINIMUM -> Math.min(a, b);
            default -> throw new IllegalArgumentException(k.name());
        };
    }

    /** a^b mod 2^32 by repeated squaring; a negative power is the truncated real result (0 for 0). */
    static int intPow(int a, int b) {
        if (b < 0) {
            return a == 1 ? 1 : a == -1 ? ((b & 1) == 0 ? 1 : -1) : 0;
        }
        long result = 1;
        long base = a;
        for (int p = b; p > 0; p >>= 1) {
            if ((p & 1) != 0) {
                result = (int) (result * base);
            }
            base = (int) (base * base);
        }
        return (int) result;
    }

    static boolean compare(Kind k, double a, double b) {
        return switch (k) {
            case EQ -> a == b;
            case NE -> a != b;
            case LT -> a < b;
            case LE -> a <= b;
            case GT -> a > b;
            case GE -> a >= b;
            default -> throw new IllegalArgumentException(k.name());
        };
    }

    private static boolean same(double a, double b) {
        return Double.compare(a, b) == 0;
    }

    private double binaryError(Kind k, DType t, double a, double ea, double b, double eb, double y) {
        if (ea == 0 && eb == 0) {
            return finish(t, y, slack(k, t, y));
        }
        if (ea == INF || eb == INF) {
            return INF;
        }
        if (k == Kind.DIV && b - eb <= 0 && b + eb >= 0) {
            return INF;                                             // the divisor may be 0
        }
        if (k == Kind.POW && ((Double.isNaN(b) && a - ea <= 1 && a + ea >= 1)
                || (Double.isNaN(a) && b - eb <= 0 && b + eb >= 0))) {
            return INF;                     // 1^NaN and NaN^0 are 1: a NaN everywhere else in the box but there
        }
        if (k == Kind.POW && !(ea == 0 && a == 1) && !(eb == 0 && b == 0)) {
            boolean positiveBase = a - ea > 0;
            boolean negativeBaseIntegerPower = a + ea < 0 && eb == 0 && b == Math.rint(b);
            if (!positiveBase && !negativeBaseIntegerPower) {
                return INF;
            }
        }
        // monotone in each argument on the box: the image's extremes are at its corners
        double d = 0;
        double m = 0;
        boolean differ = false;
        for (int i = 0; i < 4; i++) {
            double ca = (i & 1) == 0 ? a - ea : a + ea;
            double cb = (i & 2) == 0 ? b - eb : b + eb;
            double c = binaryValue(k, ca, cb);
            if (same(c, y) || (Double.isNaN(c) && Double.isNaN(y))) {
                continue;
            }
            if (!Double.isFinite(c) || !Double.isFinite(y)) {
                return INF;
            }
            differ = true;
            d = Math.max(d, Math.abs(c - y));
            m = Math.max(m, Math.abs(c));
        }
        double e = differ ? d + ulp(t, m) + ulp(t, y) : 0;
        return finish(t, y, e + slack(k, t, y));
    }

    private double compareError(double a, double ea, double b, double eb) {
        if (ea == 0 && eb == 0) {
            return 0;
        }
        if (ea == INF || eb == INF) {
            return INF;
        }
        if ((Double.isNaN(a) && ea == 0) || (Double.isNaN(b) && eb == 0)) {
            return 0;                                               // every comparison with NaN is false
        }
        return a + ea < b - eb || b + eb < a - ea ? 0 : INF;       // disjoint intervals: the answer is certain
    }

    RefTensor binary(Kind k, RefTensor a, RefTensor b) {
        String op = k.api;
        if (a.dtype != b.dtype) {
            throw new Invalid(op, "dtype mismatch " + a.dtype + " vs " + b.dtype);
        }
        boolean cmp = k.isComparison();
        if (!cmp && a.dtype == DType.BOOL) {
            throw new Invalid(op, "not defined for bool tensors");
        }
        long[] shape = broadcast(a.shape, b.shape);
        if (shape == null) {
            throw new Invalid(op, "cannot broadcast " + Program.fmt(a.shape) + " with " + Program.fmt(b.shape));
        }
        int[] ia = broadcastMap(a.shape, shape);
        int[] ib = broadcastMap(b.shape, shape);
        int n = ia.length;
        DType t = a.dtype;
        double[] v = new double[n];
        double[] e = new double[n];
        for (int i = 0; i < n; i++) {
            double va = a.v[ia[i]];
            double vb = b.v[ib[i]];
            double ea = a.e[ia[i]];
            double eb = b.e[ib[i]];
            if (cmp) {
                v[i] = compare(k, va, vb) ? 1 : 0;
                e[i] = compareError(va, ea, vb, eb);
            } else if (t == DType.INT32) {
                v[i] = binaryInt(k, (int) va, (int) vb);
                e[i] = ea > 0 || eb > 0 ? INF : 0;
            } else {
                v[i] = round(t, binaryValue(k, va, vb));
                e[i] = binaryError(k, t, va, ea, vb, eb, v[i]);
            }
        }
        RefTensor out = new RefTensor(shape, cmp ? DType.BOOL : t, v, e);
        if (cmp) {
            return out;
        }
        return record(out, g -> binaryGradient(k, a, b, out, g), a, b);
    }

    private RefTensor[] binaryGradient(Kind k, RefTensor a, RefTensor b, RefTensor y, RefTensor g) {
        DType t = a.dtype;
        RefTensor ga;
        RefTensor gb;
        switch (k) {
            case ADD -> {
                ga = g;
                gb = g;
            }
            case SUB -> {
                ga = g;
                gb = unary(Kind.NEG, g);
            }
            case MUL -> {
                ga = binary(Kind.MUL, g, b);
                gb = binary(Kind.MUL, g, a);
            }
            case DIV -> {                                            // d/db a/b = -a/b^2 = -y/b
                ga = binary(Kind.DIV, g, b);
                gb = unary(Kind.NEG, binary(Kind.DIV, binary(Kind.MUL, g, y), b));
            }
            case POW -> {                                            // b a^(b-1) and a^b log a (for a > 0)
                ga = binary(Kind.MUL, binary(Kind.MUL, g, b), binary(Kind.POW, a, binary(Kind.SUB, b,
                        constant(t, 1))));
                gb = binary(Kind.MUL, binary(Kind.MUL, g, y), positiveLog(a));
            }
            case MAXIMUM, MINIMUM -> {
                RefTensor[] masks = winnerMasks(a, b, k == Kind.MAXIMUM);
                ga = binary(Kind.MUL, g, masks[0]);
                gb = binary(Kind.MUL, g, masks[1]);
            }
            default -> throw new IllegalArgumentException(k.name());
        }
        return new RefTensor[] {sumTo(ga, a.shape), sumTo(gb, b.shape)};
    }

    /** log a where a is certainly positive; uncompared elsewhere (the derivative in b of a^b has no real value). */
    private RefTensor positiveLog(RefTensor a) {
        // as the library: where(a > 0, log(where(a > 0, a, 1)), 0), so that a second derivative sees no path into
        // a where a <= 0
        int n = a.size();
        double[] cv = new double[n];
        double[] ce = new double[n];
        for (int i = 0; i < n; i++) {
            cv[i] = a.v[i] > 0 ? 1 : 0;
            ce[i] = a.e[i] == 0 || a.v[i] - a.e[i] > 0 || a.v[i] + a.e[i] <= 0 ? 0 : INF;
        }
        RefTensor positive = new RefTensor(a.shape.clone(), DType.BOOL, cv, ce);
        RefTensor l = where(positive, unary(Kind.LOG, where(positive, a, constant(a.dtype, 1))), constant(a.dtype, 0));
        for (int i = 0; i < l.size(); i++) {
            if (!(a.v[i] - a.e[i] > 0)) {
                l.e[i] = INF;
            }
        }
        return l;
    }

    /** 1/0 masks of which operand of maximum (minimum) wins, broadcast; uncompared at ties. */
    private static RefTensor[] winnerMasks(RefTensor a, RefTensor b, boolean max) {
        long[] shape = broadcast(a.shape, b.shape);
        int[] ia = broadcastMap(a.shape, shape);
        int[] ib = broadcastMap(b.shape, shape);
        int n = ia.length;
        double[] ma = new double[n];
        double[] mb = new double[n];
        double[] e = new double[n];
        for (int i = 0; i < n; i++) {
            double va = a.v[ia[i]];
            double vb = b.v[ib[i]];
            double ea = a.e[ia[i]];
            double eb = b.e[ib[i]];
            boolean aWins = max ? va - ea > vb + eb : va + ea < vb - eb;
            boolean bWins = max ? vb - eb > va + ea : vb + eb < va - ea;
            ma[i] = aWins ? 1 : 0;
            mb[i] = bWins ? 1 : 0;
            e[i] = aWins || bWins ? 0 : INF;
        }
        return new RefTensor[] {new RefTensor(shape, a.dtype, ma, e), new RefTensor(shape, a.dtype, mb, e.clone())};
    }

    RefTensor where(RefTensor c, RefTensor a, RefTensor b) {
        String op = "where";
        if (c.dtype != DType.BOOL) {
            throw new Invalid(op, "condition must be BOOL, got " + c.dtype);
        }
        if (a.dtype != b.dtype) {
            throw new Invalid(op, "dtype mismatch " + a.dtype + " vs " + b.dtype);
        }
        long[] s1 = broadcast(c.shape, a.shape);
        long[] shape = s1 == null ? null : broadcast(s1, b.shape);
        if (shape == null) {
            throw new Invalid(op, "cannot broadcast " + Program.fmt(c.shape) + ", " + Program.fmt(a.shape) + ", "
                    + Program.fmt(b.shape));
        }
        int[] ic = broadcastMap(c.shape, shape);
        int[] ia = broadcastMap(a.shape, shape);
        int[] ib = broadcastMap(b.shape, shape);
        int n = ic.length;
        double[] v = new double[n];
        double[] e = new double[n];
        for (int i = 0; i < n; i++) {
            boolean pick = c.v[ic[i]] != 0;
            v[i] = pick ? a.v[ia[i]] : b.v[ib[i]];
            e[i] = pick ? a.e[ia[i]] : b.e[ib[i]];
            if (c.e[ic[i]] > 0) {
                boolean agree = a.e[ia[i]] == 0 && b.e[ib[i]] == 0 && same(a.v[ia[i]], b.v[ib[i]]);
                e[i] = agree ? 0 : INF;
            }
        }
        RefTensor out = new RefTensor(shape, a.dtype, v, e);
        return record(out, g -> {
            RefTensor zero = constant(g.dtype, 0);
            return new RefTensor[] {null, sumTo(where(c, g, zero), a.shape), sumTo(where(c, zero, g), b.shape)};
        }, c, a, b);
    }

    RefTensor cast(RefTensor x, DType to) {
        if (x.dtype == to) {
            return x;                                               // as the library: the same tensor
        }
        int n = x.size();
        double[] v = new double[n];
        double[] e = new double[n];
        for (int i = 0; i < n; i++) {
            double xv = x.v[i];
            double xe = x.e[i];
            if (to == DType.INT32 && x.floating()) {
                v[i] = (int) xv;                                    // Java: truncate, saturate, NaN to 0
                e[i] = xe == 0 ? 0 : xe == INF || (int) (xv - xe) != (int) (xv + xe) ? INF : 0;
            } else {
                v[i] = round(to, xv);
                if (x.floating() && to != DType.BOOL) {
                    e[i] = xe == 0 ? 0 : finish(to, v[i], xe + ulp(to, v[i]));
                } else {
                    e[i] = xe > 0 ? INF : 0;
                }
            }
        }
        RefTensor out = new RefTensor(x.shape.clone(), to, v, e);
        if (!x.floating() || !out.floating()) {
            return out;
        }
        return record(out, g -> new RefTensor[] {cast(g, x.dtype)}, x);
    }

    // ---- reductions ------------------------------------------------------------------------------------------

    /** Sorted distinct axes ({@code null}: all). */
    static int[] axes(String op, int[] axes, int rank) {
        if (axes == null) {
            int[] all = new int[rank];
            Arrays.setAll(all, i -> i);
            return all;
        }
        int[] n = new int[axes.length];
        for (int i = 0; i < axes.length; i++) {
            n[i] = axis(op, axes[i], rank);
        }
        int[] sorted = Arrays.stream(n).sorted().distinct().toArray();
        if (sorted.length != n.length) {
            throw new Invalid(op, "repeated axis in " + Arrays.toString(axes));
        }
        return sorted;
    }

    static long[] keptShape(long[] shape, int[] ax) {
        long[] k = shape.clone();
        for (int a : ax) {
            k[a] = 1;
        }
        return k;
    }

    static long[] droppedShape(long[] shape, int[] ax) {
        long[] out = new long[shape.length - ax.length];
        int j = 0;
        for (int i = 0; i < shape.length; i++) {
            if (Arrays.binarySearch(ax, i) < 0) {
                out[j++] = shape[i];
            }
        }
        return out;
    }

    /** For each element of x, the position of its group in the kept shape. */
    static int[] groups(long[] shape, int[] ax) {
        long[] kept = keptShape(shape, ax);
        long[] ks = strides(kept);
        long[] st = new long[shape.length];
        for (int i = 0; i < shape.length; i++) {
            st[i] = Arrays.binarySearch(ax, i) >= 0 ? 0 : ks[i];
        }
        return walk(shape, st, 0, size(shape));
    }

    RefTensor sum(RefTensor x, int[] axesArg, boolean keepDims) {
        String op = "sum";
        if (x.dtype == DType.BOOL) {
            throw new Invalid(op, "not defined for bool tensors");
        }
        int[] ax = axes(op, axesArg, x.rank());
        long[] kept = keptShape(x.shape, ax);
        RefTensor out = groupedSum(x, groups(x.shape, ax), keepDims ? kept : droppedShape(x.shape, ax));
        return record(out, g -> new RefTensor[] {broadcastTo(reshape(g, kept, op), x.shape)}, x);
    }

    /**
     * Element i of x added into element grp[i] of a result of {@code shape} (skipped where grp[i] is -1), in any
     * order: a reduction, or the adjoint of a copy that read some elements several times (col2im).
     */
    private RefTensor groupedSum(RefTensor x, int[] grp, long[] shape) {
        int m = size(shape);
        DType t = x.dtype;
        double[] s = new double[m];
        double[] abs = new double[m];
        double[] es = new double[m];
        long[] count = new long[m];
        boolean[] nan = new boolean[m];
        boolean[] pinf = new boolean[m];
        boolean[] ninf = new boolean[m];
        boolean[] wild = new boolean[m];
        int[] is = new int[m];
        for (int i = 0; i < x.size(); i++) {
            int g = grp[i];
            if (g < 0) {
                continue;
            }
            count[g]++;
            double xv = x.v[i];
            if (t == DType.INT32) {
                is[g] += (int) xv;                                  // wraps
                es[g] += x.e[i];
            } else if (x.e[i] == INF) {
                wild[g] = true;                                     // could be anything, NaN included
            } else if (Double.isNaN(xv)) {
                nan[g] = true;
            } else if (xv == INF) {
                pinf[g] = true;
            } else if (xv == -INF) {
                ninf[g] = true;
            } else {
                s[g] += xv;
                abs[g] += Math.abs(xv);
                es[g] += x.e[i];
            }
        }
        double[] v = new double[m];
        double[] e = new double[m];
        double max = t == DType.INT32 ? 0 : maxFinite(t);
        for (int g = 0; g < m; g++) {
            if (t == DType.INT32) {
                v[g] = is[g];
                e[g] = es[g] > 0 ? INF : 0;
                continue;
            }
            boolean overflow = abs[g] >= max;                       // a partial sum could overflow
            // exact NaN, or exact infinities of both signs: NaN in any order; one exact infinity wins unless an
            // uncertain element or an overflowing partial sum brings the other
            if (nan[g] || (pinf[g] && ninf[g])) {
                v[g] = Double.NaN;
                e[g] = 0;
            } else if (pinf[g] || ninf[g]) {
                v[g] = pinf[g] ? INF : -INF;
                e[g] = wild[g] || overflow ? INF : 0;
            } else {
                v[g] = round(t, s[g]);
                if (overflow || wild[g]) {
                    e[g] = INF;
                } else {
                    long n = count[g];
                    double rounding = n >= 2 ? (n + 1) * eps(t) * abs[g] + ulp(t, v[g]) : 0;
                    e[g] = finish(t, v[g], es[g] + rounding + (n >= 2 ? slack(Kind.SUM, t, v[g]) : 0));
                    if (n >= 1 && abs[g] == 0 && e[g] == 0) {
                        // a sum of zeros: NumPy keeps -0 for sum([-0.]), TF's reductions start from +0; the sign
                        // is unspecified, so a sign-sensitive op downstream (1/x) is uncompared
                        e[g] = Double.MIN_VALUE;
                    }
                }
            }
        }
        return new RefTensor(shape.clone(), t, v, e);
    }

    RefTensor mean(RefTensor x, int[] axesArg, boolean keepDims) {
        String op = "mean";
        if (x.dtype == DType.BOOL) {
            throw new Invalid(op, "not defined for bool tensors");
        }
        int[] ax = axes(op, axesArg, x.rank());
        long count = 1;
        for (int a : ax) {
            count *= x.shape[a];
        }
        RefTensor s = sum(x, ax, keepDims);
        return binary(Kind.DIV, s, constant(x.dtype, count));     // NaN over an empty axis, as NumPy
    }

    RefTensor extremum(Kind k, RefTensor x, int[] axesArg, boolean keepDims) {
        String op = k.api;
        boolean isMax = k == Kind.MAX;
        if (x.dtype == DType.BOOL) {
            throw new Invalid(op, "not defined for bool tensors");
        }
        int[] ax = axes(op, axesArg, x.rank());
        for (int a : ax) {
            if (x.shape[a] == 0) {
                throw new Invalid(op, "cannot reduce over an empty dimension of " + Program.fmt(x.shape));
            }
        }
        long[] kept = keptShape(x.shape, ax);
        int m = size(kept);
        int[] grp = groups(x.shape, ax);
        double[] v = new double[m];
        double[] e = new double[m];
        boolean[] seen = new boolean[m];
        boolean[] exactNaN = new boolean[m];
        for (int i = 0; i < x.size(); i++) {
            int g = grp[i];
            double xv = x.v[i];
            v[g] = !seen[g] ? xv : isMax ? Math.max(v[g], xv) : Math.min(v[g], xv);
            seen[g] = true;
            e[g] = Math.max(e[g], x.e[i]);
            exactNaN[g] |= Double.isNaN(xv) && x.e[i] == 0;
        }
        for (int g = 0; g < m; g++) {
            e[g] = exactNaN[g] ? 0 : x.dtype == DType.INT32 ? (e[g] > 0 ? INF : 0) : finish(x.dtype, v[g], e[g]);
        }
        RefTensor out = new RefTensor(keepDims ? kept : droppedShape(x.shape, ax), x.dtype, v, e);
        return record(out, g -> new RefTensor[] {sharedExtremumGradient(x, out, grp, kept, ax, g, op)}, x);
    }

    /**
     * A max or min reduction's gradient as the library defines it: {@code g · mask / count}, mask = (x == extreme),
     * count its sum per group, so ties share g (TF's reduce_max rule). Written with recorded ops, so a second
     * derivative sees the same 0 · g terms (NaN where g is infinite). A group is uncompared where an error interval
     * could change its mask.
     */
    private RefTensor sharedExtremumGradient(RefTensor x, RefTensor y, int[] grp, long[] kept, int[] ax, RefTensor g,
            String op) {
        int n = x.size();
        double[] mv = new double[n];
        boolean[] unsure = new boolean[y.size()];
        for (int i = 0; i < n; i++) {
            double xv = x.v[i];
            double yv = y.v[grp[i]];
            double xe = x.e[i];
            double ye = y.e[grp[i]];
            mv[i] = xv == yv ? 1 : 0;
            boolean certain = (xe == 0 && ye == 0) || Math.abs(xv - yv) > xe + ye;
            unsure[grp[i]] |= !certain;
        }
        double[] me = new double[n];
        for (int i = 0; i < n; i++) {
            me[i] = unsure[grp[i]] ? INF : 0;
        }
        RefTensor mask = new RefTensor(x.shape.clone(), x.dtype, mv, me);
        RefTensor count = sum(mask, ax, true);
        return binary(Kind.DIV, binary(Kind.MUL, reshape(g, kept, op), mask), count);
    }

    /**
     * Max pooling's gradient: each window's (group's) g goes to its unique maximum, as the library's scatter to the
     * first maximum does; windows whose winner is unsure (ties, overlapping error intervals, a NaN or infinite
     * maximum) are uncompared.
     */
    private RefTensor winnerGradient(RefTensor x, RefTensor y, int[] grp, RefTensor g) {
        int n = x.size();
        int m = y.size();
        int[] winner = new int[m];
        int[] winners = new int[m];
        Arrays.fill(winner, -1);
        for (int i = 0; i < n; i++) {
            if (x.v[i] == y.v[grp[i]]) {
                winner[grp[i]] = i;
                winners[grp[i]]++;
            }
        }
        boolean[] certain = new boolean[m];
        for (int gi = 0; gi < m; gi++) {
            // NaN == NaN is false: a NaN maximum has no winner here
            certain[gi] = winners[gi] == 1 && Double.isFinite(y.v[gi]) && x.e[winner[gi]] != INF;
        }
        for (int i = 0; i < n; i++) {
            int gi = grp[i];
            if (certain[gi] && i != winner[gi]
                    && !(Math.abs(x.v[i] - y.v[gi]) > x.e[i] + x.e[winner[gi]])) {
                certain[gi] = false;                                // an error interval overlaps the extreme
            }
        }
        // a winner takes g; elsewhere 0, except where the winner is unsure (and, to be safe, where g is not finite):
        // there the element is uncompared and, for a second derivative, still linked to g, so that that is too
        int[] from = new int[n];
        boolean[] unsure = new boolean[n];
        for (int i = 0; i < n; i++) {
            int gi = grp[i];
            unsure[i] = !certain[gi] || (i != winner[gi] && !(Double.isFinite(g.v[gi]) && g.e[gi] != INF));
            from[i] = unsure[i] || i == winner[gi] ? gi : -1;
        }
        return copyBy(g, from, unsure, x.shape);
    }

    /**
     * Element i of the result is x's element {@code from[i]}, or 0 where that is -1: a copy that may repeat and skip
     * elements (im2col, gather, routing a gradient to its winners). Elements marked {@code unsure} (null: none) are
     * uncompared, and so is what their gradient adds into x. Recorded, so its gradient differentiates again.
     */
    private RefTensor copyBy(RefTensor x, int[] from, boolean[] unsure, long[] shape) {
        double[] v = new double[from.length];
        double[] e = new double[from.length];
        for (int i = 0; i < from.length; i++) {
            if (from[i] >= 0) {
                v[i] = x.v[from[i]];
                e[i] = x.e[from[i]];
            }
            if (unsure != null && unsure[i]) {
                e[i] = INF;
            }
        }
        RefTensor out = new RefTensor(shape.clone(), x.dtype, v, e);
        return record(out, g -> new RefTensor[] {scatterSum(g, from, unsure, x.shape)}, x);
    }

    /** The adjoint of {@link #copyBy}: g's element i added into element {@code to[i]} of the result (skipped at -1). */
    private RefTensor scatterSum(RefTensor g, int[] to, boolean[] unsure, long[] shape) {
        RefTensor out = groupedSum(g, to, shape);
        for (int i = 0; unsure != null && i < to.length; i++) {
            if (unsure[i] && to[i] >= 0) {
                out.e[to[i]] = INF;
            }
        }
        return record(out, gg -> new RefTensor[] {copyBy(gg, to, unsure, g.shape)}, g);
    }

    RefTensor argmax(RefTensor x, int axisArg) {
        String op = "argmax";
        if (x.dtype == DType.BOOL) {
            throw new Invalid(op, "not defined for bool tensors");
        }
        int a = axis(op, axisArg, x.rank());
        if (x.shape[a] == 0) {
            throw new Invalid(op, "cannot reduce over an empty dimension of " + Program.fmt(x.shape));
        }
        int[] ax = {a};
        long[] kept = keptShape(x.shape, ax);
        int m = size(kept);
        int[] grp = groups(x.shape, ax);
        int[] best = new int[m];
        Arrays.fill(best, -1);
        boolean[] uncertain = new boolean[m];
        // first pass: the first NaN, else the first maximum (NumPy's argmax)
        for (int i = 0; i < x.size(); i++) {
            int g = grp[i];
            int b = best[g];
            if (b < 0 || (!Double.isNaN(x.v[b]) && (Double.isNaN(x.v[i]) || x.v[i] > x.v[b]))) {
                best[g] = i;
            }
            uncertain[g] |= x.e[i] == INF;
        }
        // the index along the axis, and whether any rival's interval reaches the winner's
        int[] seen = new int[m];
        double[] v = new double[m];
        double[] e = new double[m];
        for (int i = 0; i < x.size(); i++) {
            int g = grp[i];
            int b = best[g];
            if (i == b) {
                v[g] = seen[g];
            } else if (!Double.isNaN(x.v[b])) {
                boolean tieAfter = x.e[i] == 0 && x.e[b] == 0 && x.v[i] == x.v[b] && i > b;
                if (!tieAfter && !(x.v[i] + x.e[i] < x.v[b] - x.e[b])) {
                    uncertain[g] = true;
                }
            }
            seen[g]++;
        }
        for (int g = 0; g < m; g++) {
            e[g] = uncertain[g] ? INF : 0;
        }
        return new RefTensor(droppedShape(x.shape, ax), DType.INT32, v, e);
    }

    /** The row maximum along the axis, without gradient; 0 where it is not finite, and for an empty axis. */
    private RefTensor stableShift(RefTensor x, int a) {
        if (x.shape[a] == 0) {
            return filled(keptShape(x.shape, new int[] {a}), x.dtype, 0);
        }
        return unrecorded(() -> {
            RefTensor m = extremum(Kind.MAX, x, new int[] {a}, true);
            RefTensor finite = binary(Kind.LT, unary(Kind.ABS, m), constant(x.dtype, INF));
            return where(finite, m, constant(x.dtype, 0));
        });
    }

    /** The value {@code f} computes, with the reference's ops off its tape (no gradient flows through them). */
    private RefTensor unrecorded(java.util.function.Supplier<RefTensor> f) {
        boolean saved = recording;
        recording = false;
        try {
            return f.get();
        } finally {
            recording = saved;
        }
    }

    RefTensor axisComposite(Kind k, RefTensor x, int axisArg) {
        String op = k.api;
        if (!x.floating()) {
            throw new Invalid(op, "needs a float tensor, got " + x.dtype);
        }
        int a = axis(op, axisArg, x.rank());
        Mode saved = mode;
        if (mode == Mode.FORWARD) {
            mode = Mode.COMPOSITE;
        }
        try {
            int[] ax = {a};
            RefTensor shift = stableShift(x, a);
            RefTensor shifted = binary(Kind.SUB, x, shift);
            return switch (k) {
                case LOG_SUM_EXP -> squeeze(binary(Kind.ADD, unary(Kind.LOG, sum(unary(Kind.EXP, shifted), ax, true)),
                        shift), new int[] {a}, op);
                case SOFTMAX -> {
                    RefTensor ex = unary(Kind.EXP, shifted);
                    yield binary(Kind.DIV, ex, sum(ex, ax, true));
                }
                case LOG_SOFTMAX -> binary(Kind.SUB, shifted, unary(Kind.LOG, sum(unary(Kind.EXP, shifted), ax,
                        true)));
                default -> throw new IllegalArgumentException(k.name());
            };
        } finally {
            mode = saved;
        }
    }

    // ---- matmul ----------------------------------------------------------------------------------------------

    RefTensor matmul(RefTensor a, RefTensor b) {
        String op = "matmul";
        if (a.dtype != b.dtype) {
            throw new Invalid(op, "dtype mismatch " + a.dtype + " vs " + b.dtype);
        }
        if (a.dtype == DType.BOOL) {
            throw new Invalid(op, "not defined for bool tensors");
        }
        if (a.rank() < 2 || b.rank() < 2) {
            throw new Invalid(op, "operands need rank >= 2");
        }
        long m = a.shape[a.rank() - 2];
        long k = a.shape[a.rank() - 1];
        long kb = b.shape[b.rank() - 2];
        long n = b.shape[b.rank() - 1];
        if (k != kb) {
            throw new Invalid(op, "inner dimensions differ");
        }
        long[] aBatch = Arrays.copyOf(a.shape, a.rank() - 2);
        long[] bBatch = Arrays.copyOf(b.shape, b.rank() - 2);
        long[] batch = broadcast(aBatch, bBatch);
        if (batch == null) {
            throw new Invalid(op, "cannot broadcast batch dimensions");
        }
        int[] ia = broadcastMap(aBatch, batch);
        int[] ib = broadcastMap(bBatch, batch);
        long[] shape = Arrays.copyOf(batch, batch.length + 2);
        shape[batch.length] = m;
        shape[batch.length + 1] = n;
        DType t = a.dtype;
        int nb = ia.length;
        int mi = (int) m;
        int ki = (int) k;
        int ni = (int) n;
        // sized through size(): a batch broadcast can make the result far larger than either operand (a 4 GB heap
        // ran out at program 2,96x,xxx of a random seed before the cut-short check further on)
        double[] v = new double[size(shape)];
        double[] e = new double[v.length];
        double max = t == DType.INT32 ? 0 : maxFinite(t);
        double tinyPerTerm = t == DType.FLOAT32 ? Float.MIN_VALUE : Double.MIN_VALUE;
        for (int p = 0; p < nb; p++) {
            int ao = ia[p] * mi * ki;
            int bo = ib[p] * ki * ni;
            for (int i = 0; i < mi; i++) {
                for (int j = 0; j < ni; j++) {
                    int o = (p * mi + i) * ni + j;
                    if (t == DType.INT32) {
                        int s = 0;
                        boolean unsure = false;
                        for (int q = 0; q < ki; q++) {
                            s += (int) a.v[ao + i * ki + q] * (int) b.v[bo + q * ni + j];
                            unsure |= a.e[ao + i * ki + q] > 0 || b.e[bo + q * ni + j] > 0;
                        }
                        v[o] = s;
                        e[o] = unsure ? INF : 0;
                        continue;
                    }
                    double s = 0;
                    double abs = 0;
                    double prop = 0;
                    boolean special = false;
                    for (int q = 0; q < ki; q++) {
                        double x = a.v[ao + i * ki + q];
                        double y = b.v[bo + q * ni + j];
                        double ex = a.e[ao + i * ki + q];
                        double ey = b.e[bo + q * ni + j];
                        double pr = x * y;
                        s += pr;
                        if (Double.isFinite(x) && Double.isFinite(y)) {
                            abs += Math.abs(pr);                 // inf when it overflows: uncompared below
                        } else {
                            special = true;
                        }
                        if (ex > 0 || ey > 0) {
                            prop += Math.abs(x) * ey + ex * Math.abs(y) + ex * ey;   // NaN/inf give NaN: uncompared
                        }
                    }
                    // with a non-finite operand the double sum is the order-independent IEEE answer (NaN, or the
                    // one infinity) unless a product or partial sum of finite operands could overflow (whether it
                    // does depends on the order and on fused multiply-adds)
                    v[o] = round(t, s);
                    if (abs >= max || Double.isNaN(prop)) {
                        e[o] = INF;
                    } else if (special) {
                        e[o] = prop > 0 ? INF : 0;
                    } else {
                        double rounding = ki == 0 ? 0 : (ki + 1) * eps(t) * abs + ulp(t, v[o]) + ki * tinyPerTerm;
                        e[o] = finish(t, v[o], prop + rounding + slack(Kind.MATMUL, t, v[o]));
                    }
                }
            }
        }
        RefTensor out = new RefTensor(shape, t, v, e);
        return record(out, g -> new RefTensor[] {
            sumTo(matmul(g, transposeLast(b)), a.shape),
            sumTo(matmul(transposeLast(a), g), b.shape)
        }, a, b);
    }

    private RefTensor transposeLast(RefTensor x) {
        int[] p = new int[x.rank()];
        Arrays.setAll(p, i -> i);
        p[p.length - 2] = p.length - 1;
        p[p.length - 1] = p.length - 2;
        return permute(x, p, "transpose");
    }

    // ---- indexing ---------------------------------------------------------------------------------------------

    /** Slices of x along an axis picked by INT32 indices in [0, n); the gradient adds g back where it came from. */
    RefTensor gather(RefTensor x, RefTensor indices, int axisArg) {
        String op = "gather";
        if (indices.dtype != DType.INT32) {
            throw new Invalid(op, "indices must be INT32, got " + indices.dtype);
        }
        if (x.rank() == 0) {
            throw new Invalid(op, "params must have rank >= 1");
        }
        int a = axis(op, axisArg, x.rank());
        long n = x.shape[a];
        for (int i = 0; i < indices.size(); i++) {
            if (indices.v[i] < 0 || indices.v[i] >= n || indices.e[i] > 0) {
                throw new Invalid(op, "index " + (long) indices.v[i] + " outside [0, " + n + ")");
            }
        }
        long[] shape = new long[x.rank() - 1 + indices.rank()];
        System.arraycopy(x.shape, 0, shape, 0, a);
        System.arraycopy(indices.shape, 0, shape, a, indices.rank());
        System.arraycopy(x.shape, a + 1, shape, a + indices.rank(), x.rank() - a - 1);
        int inner = size(Arrays.copyOfRange(x.shape, a + 1, x.rank()));
        int m = indices.size();
        int[] src = new int[size(shape)];
        for (int o = 0; o < src.length; o++) {
            int k = o % inner;
            int j = o / inner % m;
            int outer = o / inner / m;
            src[o] = (int) ((outer * n + (long) indices.v[j]) * inner + k);
        }
        return copyBy(x, src, null, shape);
    }

    /** Zeros around x, {@code before[i]} ahead of axis i and {@code after[i]} behind it; the gradient is a slice. */
    RefTensor pad(RefTensor x, long[] before, long[] after) {
        String op = "pad";
        int r = x.rank();
        if (before.length != r || after.length != r) {
            throw new Invalid(op, "one entry per axis");
        }
        long[] shape = x.shape.clone();
        for (int i = 0; i < r; i++) {
            if (before[i] < 0 || after[i] < 0) {
                throw new Invalid(op, "negative padding");
            }
            shape[i] += before[i] + after[i];
        }
        RefTensor out = placed(x, shape, before);
        return record(out, g -> new RefTensor[] {slice(g, before, x.shape)}, x);
    }

    /** FLOAT32 one-hot rows of INT32 labels; a label outside [0, depth) gives a row of zeros. */
    RefTensor oneHot(RefTensor labels, int depth) {
        String op = "oneHot";
        if (labels.dtype != DType.INT32) {
            throw new Invalid(op, "labels must be INT32, got " + labels.dtype);
        }
        if (depth < 0) {
            throw new Invalid(op, "depth must be >= 0");
        }
        long[] shape = Arrays.copyOf(labels.shape, labels.rank() + 1);
        shape[labels.rank()] = depth;
        double[] v = new double[size(shape)];
        double[] e = new double[v.length];
        for (int i = 0; i < labels.size(); i++) {
            for (int k = 0; k < depth; k++) {
                v[i * depth + k] = labels.v[i] == k ? 1 : 0;
                e[i * depth + k] = labels.e[i] > 0 ? INF : 0;
            }
        }
        return new RefTensor(shape, DType.FLOAT32, v, e);
    }

    /** The same values, off the tape: no gradient flows back through it. */
    RefTensor stopGradient(RefTensor x) {
        return new RefTensor(x.shape.clone(), x.dtype, x.v.clone(), x.e.clone());
    }

    // ---- nn functions -----------------------------------------------------------------------------------------

    /** {@code Functional.gelu}, its tanh form: {@code 0.5 x (1 + tanh(sqrt(2/π) (x + 0.044715 x³)))}. */
    RefTensor gelu(RefTensor x) {
        if (!x.floating()) {
            throw new Invalid("gelu", "needs a float tensor, got " + x.dtype);
        }
        DType t = x.dtype;
        RefTensor cube = binary(Kind.MUL, binary(Kind.MUL, x, x), x);
        RefTensor inner = binary(Kind.MUL, binary(Kind.ADD, x, binary(Kind.MUL, cube, constant(t, 0.044715))),
                constant(t, Math.sqrt(2 / Math.PI)));
        return binary(Kind.MUL, binary(Kind.MUL, x, binary(Kind.ADD, unary(Kind.TANH, inner), constant(t, 1))),
                constant(t, 0.5));
    }

    /** {@code mean((prediction - target)²)} of two tensors of one shape and dtype. */
    RefTensor meanSquaredError(RefTensor prediction, RefTensor target) {
        String op = "meanSquaredError";
        if (!Arrays.equals(prediction.shape, target.shape) || prediction.dtype != target.dtype) {
            throw new Invalid(op, "one shape and dtype needed");
        }
        if (prediction.dtype == DType.BOOL) {
            throw new Invalid(op, "not defined for bool tensors");
        }
        return mean(unary(Kind.SQUARE, binary(Kind.SUB, prediction, target)), null, false);
    }

    /**
     * {@code Functional.softmaxCrossEntropy}: {@code -sum(logSoftmax(z) · targets) / batch}, where the targets are
     * the one-hot rows of INT32 labels, or else float rows of z's shape and dtype ({@code
     * softmaxCrossEntropyWithProbabilities}, where other labels go); the gradient is defined as {@code (softmax(z) -
     * targets) · g / batch} (one node, as the library's custom gradient), and the targets get none.
     */
    RefTensor softmaxCrossEntropy(RefTensor z, RefTensor labels) {
        String op = "softmaxCrossEntropy";
        if (!z.floating() || z.rank() != 2 || z.shape[1] == 0) {
            throw new Invalid(op, "logits must be float (batch, classes) with a class, got " + z.dtype + " "
                    + Program.fmt(z.shape));
        }
        DType t = z.dtype;
        RefTensor targets;
        if (labels.dtype == DType.INT32) {
            if (labels.rank() != 1 || labels.shape[0] != z.shape[0]) {
                throw new Invalid(op, "labels " + Program.fmt(labels.shape) + " for logits " + Program.fmt(z.shape));
            }
            int classes = (int) z.shape[1];
            for (int i = 0; i < labels.size(); i++) {
                if (labels.v[i] < 0 || labels.v[i] >= classes || labels.e[i] > 0) {
                    throw new Invalid(op, "label " + (long) labels.v[i] + " outside [0, " + classes + ")");
                }
            }
            targets = cast(oneHot(labels, classes), t);
        } else if (Arrays.equals(labels.shape, z.shape) && labels.dtype == t) {
            targets = stopGradient(labels);
        } else {
            throw new Invalid(op, "targets " + labels.dtype + " " + Program.fmt(labels.shape) + " for logits " + t
                    + " " + Program.fmt(z.shape));
        }
        RefTensor batch = constant(t, z.shape[0]);
        RefTensor loss = unrecorded(() -> binary(Kind.DIV, unary(Kind.NEG, sum(binary(Kind.MUL,
                axisComposite(Kind.LOG_SOFTMAX, z, 1), targets), null, false)), batch));
        RefTensor out = new RefTensor(loss.shape, t, loss.v, loss.e);
        return record(out, g -> new RefTensor[] {binary(Kind.MUL, binary(Kind.SUB, axisComposite(Kind.SOFTMAX, z, 1),
                targets), binary(Kind.DIV, g, batch))}, z);
    }

    /**
     * {@code Functional.dropout}: in training at a rate above 0, {@code x · keep · (1 / (1 - rate))}, where keep is 1
     * where the draw {@code u >= rate} (u: the library's uniform stream for the step's seed, in x's dtype, given);
     * otherwise x itself, as PyTorch's eval-mode dropout returns its input.
     */
    RefTensor dropout(RefTensor x, double rate, boolean training, double[] u) {
        String op = "dropout";
        if (!(rate >= 0 && rate < 1)) {
            throw new Invalid(op, "rate " + rate + " outside [0, 1)");
        }
        if (!x.floating()) {
            throw new Invalid(op, "x must be float, got " + x.dtype);
        }
        if (!training || rate == 0) {
            return x;
        }
        RefTensor draws = new RefTensor(x.shape.clone(), x.dtype, u, new double[u.length]);
        RefTensor keep = cast(binary(Kind.GE, draws, constant(x.dtype, rate)), x.dtype);
        return binary(Kind.MUL, binary(Kind.MUL, x, keep), constant(x.dtype, 1 / (1 - rate)));
    }

    /**
     * {@code Nabla.customGradient} with one of the fuzzer's rules: the forward unrecorded (a fresh value, as the
     * library's output is a fresh tensor even where the forward returns its input) and the rule recorded in its
     * place. 0: tanh(x), gradient {@code g·(1 - out²)}; 1: sign(x), straight through ({@code g}); 2: {@code x·y + x},
     * gradients {@code g·(y + 1)} and {@code g·x}; 3: x itself, gradient {@code 2g}; 4: {@code x - y}, gradients
     * {@code g} and none.
     */
    RefTensor customGradient(int rule, RefTensor[] in) {
        RefTensor x = in[0];
        DType t = x.dtype;
        RefTensor raw = unrecorded(() -> switch (rule) {
            case 0 -> unary(Kind.TANH, x);
            case 1 -> unary(Kind.SIGN, x);
            case 2 -> binary(Kind.ADD, binary(Kind.MUL, x, in[1]), x);
            case 3 -> x;
            default -> binary(Kind.SUB, x, in[1]);
        });
        RefTensor out = stopGradient(raw);              // a fresh value, off the tape
        return record(out, g -> switch (rule) {
            case 0 -> new RefTensor[] {binary(Kind.MUL, g, binary(Kind.ADD, unary(Kind.NEG, unary(Kind.SQUARE, out)),
                    constant(t, 1)))};
            case 1 -> new RefTensor[] {g};
            case 2 -> new RefTensor[] {binary(Kind.MUL, g, binary(Kind.ADD, in[1], constant(t, 1))),
                binary(Kind.MUL, g, x)};
            case 3 -> new RefTensor[] {binary(Kind.MUL, g, constant(t, 2))};
            default -> new RefTensor[] {g, null};
        }, in);
    }

    // ---- sliding windows: conv2d and pooling --------------------------------------------------------------------

    /**
     * The windows of a convolution or pooling over {@code images} NCHW images of {@code channels} planes of
     * {@code h × w}: kernel {@code kh × kw}, a stride, and the padding before the first row and column.
     */
    record Windows(int images, int channels, int h, int w, int kh, int kw, int stride, int padTop, int padLeft,
            int outH, int outW) {

        /** The column matrix's shape: one row per (channel, kernel row, kernel column), one column per window. */
        long[] columnsShape() {
            return new long[] {(long) channels * kh * kw, (long) images * outH * outW};
        }

        /**
         * For each element of the column matrix, row-major, the flat index into the images of the element it
         * copies, or -1 where the window lies in the padding (a zero).
         */
        int[] sources() {
            long[] cs = columnsShape();
            int cols = (int) cs[1];
            int[] src = new int[size(cs)];
            for (int c = 0; c < channels; c++) {
                for (int i = 0; i < kh; i++) {
                    for (int j = 0; j < kw; j++) {
                        int row = (c * kh + i) * kw + j;
                        for (int n = 0; n < images; n++) {
                            for (int oy = 0; oy < outH; oy++) {
                                for (int ox = 0; ox < outW; ox++) {
                                    int y = oy * stride + i - padTop;
                                    int x = ox * stride + j - padLeft;
                                    int col = (n * outH + oy) * outW + ox;
                                    src[row * cols + col] = y < 0 || y >= h || x < 0 || x >= w ? -1
                                            : ((n * channels + c) * h + y) * w + x;
                                }
                            }
                        }
                    }
                }
            }
            return src;
        }
    }

    /**
     * The windows over {@code x} (N, C, H, W): "valid" places them inside the image; "same" gives ceil(H / stride)
     * rows of windows and pads by what they overhang, the odd one at the bottom (TF's rule; likewise columns).
     */
    static Windows windows(String op, long[] x, int kh, int kw, int stride, boolean same) {
        if (stride < 1 || kh < 1 || kw < 1) {
            throw new Invalid(op, "kernel and stride must be >= 1");
        }
        long h = x[2];
        long w = x[3];
        long outH;
        long outW;
        long padH = 0;
        long padW = 0;
        if (same) {
            outH = (h + stride - 1) / stride;
            outW = (w + stride - 1) / stride;
            padH = Math.max((outH - 1) * stride + kh - h, 0);
            padW = Math.max((outW - 1) * stride + kw - w, 0);
        } else {
            outH = h >= kh ? (h - kh) / stride + 1 : 0;
            outW = w >= kw ? (w - kw) / stride + 1 : 0;
        }
        if (outH < 1 || outW < 1) {
            throw new Invalid(op, "no " + kh + "x" + kw + " window fits " + Program.fmt(x));
        }
        size(new long[] {x[1] * kh * kw, x[0] * outH * outW});      // too big for the fuzzer: cut short
        return new Windows((int) x[0], (int) x[1], (int) h, (int) w, kh, kw, stride, (int) (padH / 2),
                (int) (padW / 2), (int) outH, (int) outW);
    }

    /** The windows of x as the columns of a matrix, zero in the padding; its gradient adds the copies back. */
    private RefTensor im2col(RefTensor x, Windows win) {
        return copyBy(x, win.sources(), null, win.columnsShape());
    }

    /** {@code Functional.conv2d}: a product of the kernel's rows with the image's windows, plus the bias. */
    RefTensor conv2d(RefTensor x, RefTensor kernel, RefTensor bias, int stride, boolean same) {
        String op = "conv2d";
        if (x.rank() != 4 || kernel.rank() != 4 || x.shape[1] != kernel.shape[1]) {
            throw new Invalid(op, "expected (N, C, H, W) and (O, C, KH, KW), got " + Program.fmt(x.shape) + " and "
                    + Program.fmt(kernel.shape));
        }
        if (x.dtype == DType.BOOL) {
            throw new Invalid(op, "not defined for bool tensors");
        }
        if (kernel.dtype != x.dtype || (bias != null && bias.dtype != x.dtype)) {
            throw new Invalid(op, "dtype mismatch");
        }
        long o = kernel.shape[0];
        if (bias != null && !Arrays.equals(bias.shape, new long[] {o})) {
            throw new Invalid(op, "bias " + Program.fmt(bias.shape) + " for " + o + " output channels");
        }
        Windows win = windows(op, x.shape, (int) kernel.shape[2], (int) kernel.shape[3], stride, same);
        long[] cs = win.columnsShape();
        RefTensor product = matmul(reshape(kernel, new long[] {o, cs[0]}, op), im2col(x, win));
        RefTensor out = reshape(permute(reshape(product, new long[] {o, win.images(), (long) win.outH() * win.outW()},
                op), new int[] {1, 0, 2}, op), new long[] {win.images(), o, win.outH(), win.outW()}, op);
        return bias == null ? out : binary(Kind.ADD, out, reshape(bias, new long[] {1, o, 1, 1}, op));
    }

    /**
     * {@code Functional.maxPool2d} and {@code avgPool2d}: "valid" windows over each (image, channel) plane. Max
     * pooling gives each window's first maximum, NaN counting as the maximum (the value there, so -0 before +0
     * stays -0), and its gradient goes to that element; average pooling is the mean of each window.
     */
    RefTensor pool(Kind k, RefTensor x, int size, int stride) {
        String op = k.api;
        if (x.rank() != 4) {
            throw new Invalid(op, "expected (N, C, H, W), got " + Program.fmt(x.shape));
        }
        if (x.dtype == DType.BOOL) {
            throw new Invalid(op, "not defined for bool tensors");
        }
        long[] planes = {x.shape[0] * x.shape[1], 1, x.shape[2], x.shape[3]};
        Windows win = windows(op, planes, size, size, stride, false);
        long[] pooled = {x.shape[0], x.shape[1], win.outH(), win.outW()};
        if (k == Kind.AVG_POOL2D) {
            return reshape(mean(im2col(reshape(x, planes, op), win), new int[] {0}, false), pooled, op);
        }
        int[] src = win.sources();
        int rows = size * size;
        int cols = (int) win.columnsShape()[1];
        RefTensor windowed = unrecorded(() -> copyBy(x, src, null, win.columnsShape()));
        double[] v = new double[cols];
        double[] e = new double[cols];
        for (int q = 0; q < cols; q++) {
            double max = windowed.v[q];
            for (int r = 1; r < rows; r++) {
                max = Math.max(max, windowed.v[r * cols + q]);
            }
            boolean exactNaN = false;
            double err = 0;
            int first = -1;
            for (int r = 0; r < rows; r++) {
                double xv = windowed.v[r * cols + q];
                if (first < 0 && (xv == max || Double.isNaN(xv))) {
                    first = r;
                }
                err = Math.max(err, windowed.e[r * cols + q]);
                exactNaN |= Double.isNaN(xv) && windowed.e[r * cols + q] == 0;
            }
            v[q] = windowed.v[first * cols + q];
            e[q] = exactNaN ? 0 : x.dtype == DType.INT32 ? (err > 0 ? INF : 0) : finish(x.dtype, v[q], err);
        }
        RefTensor out = new RefTensor(pooled, x.dtype, v, e);
        int[] column = new int[src.length];
        Arrays.setAll(column, i -> i % cols);
        return record(out, g -> {
            RefTensor y = new RefTensor(new long[] {cols}, out.dtype, out.v, out.e);
            RefTensor routed = winnerGradient(windowed, y, column, reshape(g, new long[] {cols}, op));
            return new RefTensor[] {scatterSum(routed, src, null, x.shape)};
        }, x);
    }

    // ---- shapes ----------------------------------------------------------------------------------------------

    RefTensor reshape(RefTensor x, long[] dims, String op) {
        int unknown = -1;
        long known = 1;
        boolean zero = false;
        for (int i = 0; i < dims.length; i++) {
            if (dims[i] == -1) {
                if (unknown >= 0) {
                    throw new Invalid(op, "only one -1 allowed");
                }
                unknown = i;
            } else if (dims[i] < 0) {
                throw new Invalid(op, "negative dimension");
            } else if (dims[i] == 0) {
                zero = true;
            } else {
                known = Math.multiplyExact(known, dims[i]);
            }
        }
        if (zero) {
            known = 0;
        }
        long[] d = dims.clone();
        if (unknown >= 0) {
            if (known == 0 || x.size() % known != 0) {
                throw new Invalid(op, "cannot infer -1 in " + Program.fmt(dims) + " for " + x.size() + " elements");
            }
            d[unknown] = x.size() / known;
        }
        long target = 1;
        for (long di : d) {
            target *= di;
        }
        if (target != x.size()) {
            throw new Invalid(op, "cannot reshape " + Program.fmt(x.shape) + " to " + Program.fmt(dims));
        }
        RefTensor out = new RefTensor(d, x.dtype, x.v.clone(), x.e.clone());
        return record(out, g -> new RefTensor[] {reshape(g, x.shape, op)}, x);
    }

    RefTensor expandDims(RefTensor x, int axisArg) {
        int a = axis("expandDims", axisArg, x.rank() + 1);
        long[] d = new long[x.rank() + 1];
        for (int i = 0, j = 0; i < d.length; i++) {
            d[i] = i == a ? 1 : x.shape[j++];
        }
        return reshape(x, d, "expandDims");
    }

    RefTensor squeeze(RefTensor x, int[] axesArg, String op) {
        boolean[] drop = new boolean[x.rank()];
        if (axesArg.length == 0) {
            for (int i = 0; i < drop.length; i++) {
                drop[i] = x.shape[i] == 1;
            }
        } else {
            for (int ax : axesArg) {
                int a = axis(op, ax, x.rank());
                if (x.shape[a] != 1) {
                    throw new Invalid(op, "cannot squeeze axis " + ax + " of size " + x.shape[a]);
                }
                drop[a] = true;
            }
        }
        long[] out = new long[x.rank()];
        int n = 0;
        for (int i = 0; i < drop.length; i++) {
            if (!drop[i]) {
                out[n++] = x.shape[i];
            }
        }
        return reshape(x, Arrays.copyOf(out, n), op);
    }

    RefTensor permute(RefTensor x, int[] axesArg, String op) {
        int r = x.rank();
        if (axesArg.length != r) {
            throw new Invalid(op, "not a permutation");
        }
        boolean[] seen = new boolean[r];
        int[] p = new int[r];
        for (int i = 0; i < r; i++) {
            int a = axesArg[i] < 0 ? axesArg[i] + r : axesArg[i];
            if (a < 0 || a >= r || seen[a]) {
                throw new Invalid(op, "not a permutation");
            }
            seen[a] = true;
            p[i] = a;
        }
        long[] own = strides(x.shape);
        long[] dims = new long[r];
        long[] st = new long[r];
        int[] inverse = new int[r];
        for (int i = 0; i < r; i++) {
            dims[i] = x.shape[p[i]];
            st[i] = own[p[i]];
            inverse[p[i]] = i;
        }
        int[] map = walk(dims, st, 0, size(dims));
        RefTensor out = gatherCopy(x, dims, map);
        return record(out, g -> new RefTensor[] {permute(g, inverse, op)}, x);
    }

    RefTensor transpose(RefTensor x) {
        if (x.rank() < 2) {
            throw new Invalid("transpose", "needs rank >= 2");
        }
        return transposeLast(x);
    }

    private static RefTensor gatherCopy(RefTensor x, long[] dims, int[] map) {
        double[] v = new double[map.length];
        double[] e = new double[map.length];
        for (int i = 0; i < map.length; i++) {
            v[i] = x.v[map[i]];
            e[i] = x.e[map[i]];
        }
        return new RefTensor(dims, x.dtype, v, e);
    }

    RefTensor broadcastTo(RefTensor x, long[] dims) {
        String op = "broadcastTo";
        for (long d : dims) {
            if (d < 0) {
                throw new Invalid(op, "negative dimension");
            }
        }
        if (!broadcastsTo(x.shape, dims)) {
            throw new Invalid(op, "cannot broadcast " + Program.fmt(x.shape) + " to " + Program.fmt(dims));
        }
        RefTensor out = gatherCopy(x, dims.clone(), broadcastMap(x.shape, dims));
        return record(out, g -> new RefTensor[] {sumTo(g, x.shape)}, x);
    }

    /** Sums a gradient down to a shape it was broadcast from (the adjoint of broadcasting). */
    private RefTensor sumTo(RefTensor g, long[] shape) {
        if (g == null || Arrays.equals(g.shape, shape)) {
            return g;
        }
        int lead = g.rank() - shape.length;
        List<Integer> ax = new ArrayList<>();
        for (int i = 0; i < g.rank(); i++) {
            if (i < lead || (shape[i - lead] == 1 && g.shape[i] != 1)) {
                ax.add(i);
            }
        }
        RefTensor s = sum(g, ax.stream().mapToInt(Integer::intValue).toArray(), true);
        return reshape(s, shape, "reshape");
    }

    RefTensor slice(RefTensor x, long[] begin, long[] size) {
        String op = "slice";
        int r = x.rank();
        if (begin.length != r || size.length != r) {
            throw new Invalid(op, "begin and size need one entry per axis");
        }
        long[] dims = new long[r];
        long[] st = strides(x.shape);
        long offset = 0;
        for (int i = 0; i < r; i++) {
            long d = x.shape[i];
            long s = size[i] == -1 ? d - begin[i] : size[i];
            if (begin[i] < 0 || begin[i] > d || s < 0 || s > d - begin[i]) {
                throw new Invalid(op, "out of bounds");
            }
            dims[i] = s;
            offset += begin[i] * st[i];
        }
        RefTensor out = gatherCopy(x, dims, walk(dims, st, offset, size(dims)));
        long[] after = new long[r];
        Arrays.setAll(after, i -> x.shape[i] - begin[i] - dims[i]);
        return record(out, g -> new RefTensor[] {pad(g, begin, after)}, x);    // a recorded op: second order
    }

    /** Zeros of {@code shape} with {@code g} at {@code begin}: pad's values (and so slice's gradient). */
    private static RefTensor placed(RefTensor g, long[] shape, long[] begin) {
        RefTensor out = filled(shape, g.dtype, 0);
        long[] st = strides(shape);
        long offset = 0;
        for (int i = 0; i < begin.length; i++) {
            offset += begin[i] * st[i];
        }
        int[] map = walk(g.shape, st, offset, g.size());
        for (int i = 0; i < map.length; i++) {
            out.v[map[i]] = g.v[i];
            out.e[map[i]] = g.e[i];
        }
        return out;
    }

    RefTensor concat(List<RefTensor> ts, int axisArg, String op) {
        RefTensor first = ts.get(0);
        int a = axis(op, axisArg, Math.max(first.rank(), 1));
        if (first.rank() == 0) {
            throw new Invalid(op, "cannot concatenate scalars");
        }
        long total = 0;
        for (RefTensor t : ts) {
            if (t.dtype != first.dtype) {
                throw new Invalid(op, "dtype mismatch " + first.dtype + " vs " + t.dtype);
            }
            boolean ok = t.rank() == first.rank();
            for (int i = 0; ok && i < t.rank(); i++) {
                ok = i == a || t.shape[i] == first.shape[i];
            }
            if (!ok) {
                throw new Invalid(op, "shapes differ outside the axis");
            }
            total += t.shape[a];
        }
        long[] dims = first.shape.clone();
        dims[a] = total;
        RefTensor out = filled(dims, first.dtype, 0);
        long[] st = strides(dims);
        long at = 0;
        long[][] begins = new long[ts.size()][];
        for (int i = 0; i < ts.size(); i++) {
            RefTensor t = ts.get(i);
            int[] map = walk(t.shape, st, at * st[a], t.size());
            for (int j = 0; j < map.length; j++) {
                out.v[map[j]] = t.v[j];
                out.e[map[j]] = t.e[j];
            }
            begins[i] = new long[dims.length];
            begins[i][a] = at;
            at += t.shape[a];
        }
        RefTensor[] inputs = ts.toArray(new RefTensor[0]);
        return record(out, g -> {
            RefTensor[] grads = new RefTensor[inputs.length];
            for (int i = 0; i < inputs.length; i++) {
                grads[i] = slice(g, begins[i], inputs[i].shape);
            }
            return grads;
        }, inputs);
    }

    RefTensor stack(List<RefTensor> ts, int axisArg) {
        String op = "stack";
        long[] s = ts.get(0).shape;
        int a = axis(op, axisArg, s.length + 1);
        for (RefTensor t : ts) {
            if (!Arrays.equals(t.shape, s)) {
                throw new Invalid(op, "shapes differ");
            }
            if (t.dtype != ts.get(0).dtype) {
                throw new Invalid(op, "dtype mismatch");
            }
        }
        return concat(ts.stream().map(t -> expandDims(t, a)).toList(), a, op);
    }
}
