package dev.nabla.ops;

import dev.nabla.DType;
import dev.nabla.Shape;
import dev.nabla.Tensor;
import dev.nabla.autograd.NumericsCheck;
import dev.nabla.autograd.Recorder;
import dev.nabla.backend.Backend;
import dev.nabla.backend.BinaryOp;
import dev.nabla.backend.Buffer;
import dev.nabla.backend.FusedProgram;
import dev.nabla.backend.Storage;
import dev.nabla.backend.UnaryOp;
import dev.nabla.internal.TensorAccess;
import java.lang.ref.Cleaner;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * Deferred element-wise chains in eager mode (ArrayFire's JIT, in small): an element-wise op on a large tensor
 * returns at once with its output's values {@linkplain Storage#defer deferred}, and an element-wise op reading such
 * an output takes over its computation, so that {@code a * b + a} runs as one {@link FusedProgram} pass when its
 * values are first read (by any op but these, by {@code toFloatArray()}, {@code item()}...) instead of two passes
 * with a temporary through memory. The fused pass rounds each step exactly as the op would, so the values are the
 * same bits as computing each op at once; only when they are computed changes.
 *
 * <pre>{@code
 * Tensor y = a.mul(b).add(a);      // nothing computed yet: one deferred chain of two steps over a and b
 * float[] v = y.toFloatArray();    // one pass computes y; a.mul(b) never reaches memory
 * float dot = a.mul(b).sum().item();  // one pass: the sum reads the chain's values as it computes them
 * }</pre>
 *
 * <p>A sum over the last axes of a deferred chain that no other op has taken over is computed at once, in one pass
 * with the chain ({@link Backend#fusedReduce}, the bits of the values summed); a cheap chain stays deferred, computed
 * again only if its values are read, and a costlier one (an {@code exp}: a softmax divides by the sum next) is
 * materialized in that same pass.
 *
 * <p>An op is deferred only where nothing can observe the difference, and where it can pay:
 * <ul>
 *   <li>its output has at least {@code -Dnabla.deferMinElements} elements (2^18 by default: a pass over memory
 *       then costs far more than the bookkeeping; a negative value turns deferral off);
 *   <li>it is a floating element-wise op ({@link Elementwise#fusible}) on a backend that runs fused programs in one
 *       pass ({@link Backend#defersElementwise}), its inputs of its own dtype;
 *   <li>no function is being traced and the numerics check is off;
 *   <li>no input is written in place after creation (a Variable, an optimizer slot): the chain reads its inputs
 *       when it runs, so they must not change before; except a small one (at most a {@link #SNAPSHOT_RATIO}th of
 *       the output, a layer's bias), which is copied when the op runs and read from the copy.
 * </ul>
 * The output's buffer is allocated when the values are computed (a taken-over chain's never is); an output larger
 * than every input (a broadcast that grows) is computed at once, so that a size the backend refuses is reported by
 * the op. A deferred chain holds references to the storages it reads, so closing an input is safe. An input chain
 * is taken over only when it has the output's shape (not broadcast, which would compute it once per row); a reader
 * that may not take it over (below), a broadcast or a chain at {@link #MAX_STEPS} computes it there and then and
 * reads its buffer. So a chain's inputs are always computed values, and computing a chain never recurses.
 *
 * <p>How often a chain is taken over (or summed) decides how often its steps are computed, so:
 * <ul>
 *   <li>a chain is taken over once, unless it is {@linkplain Chain#recomputable recomputable}: a few one-instruction
 *       steps (add, multiply, square, relu...) over leaves no larger than itself, which cost less to compute again
 *       than to store and read back; such a chain may be taken over by up to {@link #MAX_TAKEOVERS} readers;
 *   <li>while a tape records on this thread, only {@linkplain Chain#cheap cheap} chains are taken over at all. A
 *       gradient rule may read the values a chain stands for (square's input, exp's output) after a reader took it
 *       over; they are then computed again, which must cost no more than the pass it saved. So under a tape,
 *       {@code sum((a + b)^2)} reads {@code a} and {@code b} once in its forward pass, and its backward pass computes
 *       {@code 2 (a + b) g} in one more, where it stored and read back two temporaries; {@code exp(x) * w} computes
 *       exp once, stored for the gradient, as the ops one at a time do.
 * </ul>
 */
public final class Deferral {
    /** Steps at most in one chain: longer chains start over from a computed value. */
    static final int MAX_STEPS = 32;
    /** Readers at most that take over one recomputable chain, each computing its steps again. */
    public static final int MAX_TAKEOVERS = 4;
    /**
     * An input written in place (a layer's bias Variable) at most this many times smaller than the output is copied
     * when the op runs, and the chain reads the copy; a larger one makes the op run at once.
     */
    static final int SNAPSHOT_RATIO = 16;
    /** Steps at most in a {@linkplain Chain#cheap cheap} chain. */
    static final int CHEAP_STEPS = 4;
    private static volatile long minElements = Long.getLong("nabla.deferMinElements", 1L << 18);

    private Deferral() {
    }

    /**
     * Sets the smallest output deferred (negative: none) and returns the previous setting; for tests, which run
     * small tensors through the deferred path.
     */
    public static long minElements(long elements) {
        long previous = minElements;
        minElements = elements;
        return previous;
    }

    /** The number of steps of {@code t}'s deferred chain, or 0 when its values are computed; for tests. */
    public static int pendingSteps(Tensor t) {
        return TensorAccess.storage(t, "pendingSteps").deferred() instanceof Chain c ? c.program.steps().length : 0;
    }

    /**
     * {@code p} on {@code in} as a deferred chain, or a sum of a deferred chain computed with it in one pass; null when
     * {@code p} runs as usual (see the class comment).
     */
    static Tensor defer(Backend backend, Primitive p, Tensor[] in) {
        long min = minElements;
        if (min < 0 || !backend.defersElementwise()) {
            return null;
        }
        if (p instanceof Reductions.Reduce r) {
            boolean fusible = TensorAccess.storage(in[0], p.name()).deferred() instanceof Chain
                    && FusedReduce.sumsLastAxes(r, in[0].shape()) && unobserved();
            return fusible ? sumOfChain(backend, r, in[0]) : null;
        }
        if (p.shape().size() < min || !Elementwise.fusible(p) || !unobserved()) {
            return null;
        }
        Storage[] storages = new Storage[in.length];
        long largest = 0;
        for (int i = 0; i < in.length; i++) {
            storages[i] = TensorAccess.storage(in[i], p.name());
            boolean tooLargeToCopy = storages[i].size() * SNAPSHOT_RATIO > p.shape().size();
            if (storages[i].isWrittenInPlace() && tooLargeToCopy || storages[i].dtype() != p.dtype()) {
                return null;
            }
            largest = Math.max(largest, storages[i].size());
        }
        if (p.shape().size() > largest) {
            return null;                  // a broadcast that grows: allocated now, where a size too big is reported
        }
        for (int i = 0; i < in.length; i++) {
            if (storages[i].isWrittenInPlace()) {
                storages[i] = Creation.copyStorage(in[i], p.name());     // its values now, as the op would read them
            }
        }
        Builder chain = new Builder(p.shape());
        int[] operands = new int[2];
        for (int i = 0; i < in.length; i++) {
            operands[i] = chain.operand(storages[i], in[i].shape());
        }
        chain.steps.add(Elementwise.fusedStep(p, operands[0], operands[1]));
        return TensorAccess.wrap(new Storage(backend, p.dtype(), p.shape().size(), chain.build(backend, p)),
                p.shape());
    }

    /** True when no function is being traced and the numerics check is off. */
    private static boolean unobserved() {
        return Dispatch.listener() == null && !NumericsCheck.enabled();
    }

    /** Whether one more reader may take over (or sum) {@code c} now: see the class comment. */
    private static boolean mayTakeOver(Chain c) {
        if (c.takeovers > 0) {
            return c.recomputable && c.takeovers < MAX_TAKEOVERS;
        }
        return c.cheap || !Recorder.isRecording();
    }

    /**
     * {@code r}, a sum of {@code x} over its last axes, computed now from {@code x}'s still-deferred chain in one pass
     * ({@link Backend#fusedReduce}: the bits of the chain's values summed); a {@linkplain Chain#cheap cheap} chain
     * stays deferred, counted as taken over, and any other is materialized in the same pass
     * ({@link Backend#fusedReduceKeepingValues}). Null when it may not be taken over again or was computed
     * meanwhile: {@code r} then runs as usual.
     */
    private static Tensor sumOfChain(Backend backend, Reductions.Reduce r, Tensor x) {
        Shape shape = x.shape();
        Storage s = TensorAccess.storage(x, r.name());
        synchronized (s) {
            if (!(s.deferred() instanceof Chain c) || !mayTakeOver(c)
                    || !Arrays.equals(c.program.shape(), shape.dims())) {
                return null;
            }
            Buffer[] leaves = new Buffer[c.leaves.length];
            for (int k = 0; k < leaves.length; k++) {
                leaves[k] = c.leaves[k].buffer();
            }
            Tensor out = Creation.empty(r.name(), backend, r.dtype(), r.shape());
            Buffer sum = TensorAccess.buffer(out, r.name());
            if (c.cheap) {
                OpEvents.compute(FusedReduce.sum(c.program, r), backend, leaves, sum);
                c.takeovers++;
            } else {
                // a chain that costs more to compute again than to store (softmax's exp, which its division reads
                // next) is materialized in the pass that sums it, where it would be computed a second time later
                Buffer[] withValues = Arrays.copyOf(leaves, leaves.length + 1);
                s.materializeWith(values -> {
                    withValues[leaves.length] = values;
                    OpEvents.compute(FusedReduce.sumKeepingValues(c.program, r), backend, withValues, sum);
                });
            }
            return out;
        }
    }

    private static final Set<UnaryOp> CHEAP_UNARY = EnumSet.of(UnaryOp.NEG, UnaryOp.ABS, UnaryOp.SQUARE,
            UnaryOp.RELU);
    private static final Set<BinaryOp> CHEAP_BINARY = EnumSet.of(BinaryOp.ADD, BinaryOp.SUB, BinaryOp.MUL,
            BinaryOp.MAXIMUM, BinaryOp.MINIMUM, BinaryOp.RELU_GRADIENT);

    /** A chain under construction: its steps and the storages they read (each once per strides). */
    private static final class Builder {
        final Shape shape;
        final List<FusedProgram.Step> steps = new ArrayList<>();
        final List<Storage> leaves = new ArrayList<>();
        final List<long[]> strides = new ArrayList<>();
        final List<Cleaner.Cleanable> refs = new ArrayList<>();
        /** The chains taken over, and the step each one's result is. */
        final List<Chain> inlined = new ArrayList<>();
        final List<Integer> inlinedAt = new ArrayList<>();
        private final Object holder = new Object();

        Builder(Shape shape) {
            this.shape = shape;
        }

        /** The operand reading {@code s} (viewed as {@code viewed}): a taken-over chain's last step, or a leaf. */
        int operand(Storage s, Shape viewed) {
            synchronized (s) {  // the chain's leaves stay referenced while it is still deferred (Storage.materialize)
                if (s.deferred() instanceof Chain c && viewed.equals(shape)
                        && Arrays.equals(c.program.shape(), shape.dims())) {
                    int seen = inlined.indexOf(c);
                    if (seen >= 0) {
                        return inlinedAt.get(seen);
                    }
                    if (mayTakeOver(c) && steps.size() + c.program.steps().length < MAX_STEPS) {
                        c.takeovers++;
                        int offset = steps.size();
                        for (FusedProgram.Step step : c.program.steps()) {
                            steps.add(new FusedProgram.Step(step.unary(), step.binary(), remap(c, step.a(), offset),
                                    step.unary() != null ? 0 : remap(c, step.b(), offset)));
                        }
                        inlined.add(c);
                        inlinedAt.add(steps.size() - 1);
                        return steps.size() - 1;
                    }
                }
            }
            s.buffer();                          // computes a chain that is not taken over, now
            return -1 - leaf(s, Broadcasting.strides(viewed, shape));
        }

        private int remap(Chain c, int operand, int offset) {
            return operand >= 0 ? operand + offset
                    : -1 - leaf(c.leaves[-1 - operand], c.program.inputStrides()[-1 - operand]);
        }

        private int leaf(Storage s, long[] st) {
            for (int k = 0; k < leaves.size(); k++) {
                if (leaves.get(k) == s && Arrays.equals(strides.get(k), st)) {
                    return k;
                }
            }
            leaves.add(s);
            strides.add(st);
            refs.add(s.acquire(holder));
            return leaves.size() - 1;
        }

        Chain build(Backend backend, Primitive p) {
            return new Chain(backend, p, new FusedProgram(p.dtype(), shape.dims(), strides.toArray(new long[0][]),
                    steps.toArray(new FusedProgram.Step[0])), leaves.toArray(new Storage[0]),
                    refs.toArray(new Cleaner.Cleanable[0]), holder);
        }
    }

    /**
     * A deferred chain: one op's primitive when it is alone (computed as the op computes it), else the fused
     * program. {@code holder} keeps the leaves' references until the chain is released or unreachable.
     */
    private static final class Chain implements Storage.Deferred {
        final Backend backend;
        final Primitive single;
        final FusedProgram program;
        final Storage[] leaves;
        final Cleaner.Cleanable[] refs;
        @SuppressWarnings("unused")
        final Object holder;
        /**
         * At most {@link #CHEAP_STEPS} steps, each one instruction a lane (no division, no transcendental): computing
         * them again costs less than a pass over memory.
         */
        final boolean cheap;
        /** Cheap, and its leaves hold at most a quarter more elements than it: another reader may take it over. */
        final boolean recomputable;
        /** How many later ops took over this chain's steps or summed it (changed under the storage's lock). */
        int takeovers;

        Chain(Backend backend, Primitive single, FusedProgram program, Storage[] leaves, Cleaner.Cleanable[] refs,
                Object holder) {
            this.backend = backend;
            this.single = single;
            this.program = program;
            this.leaves = leaves;
            this.refs = refs;
            this.holder = holder;
            this.cheap = cheap(program.steps());
            long read = 0;
            for (Storage leaf : leaves) {
                read += leaf.size();
            }
            this.recomputable = cheap && read <= single.shape().size() + single.shape().size() / 4;
        }

        private static boolean cheap(FusedProgram.Step[] steps) {
            if (steps.length > CHEAP_STEPS) {
                return false;
            }
            for (FusedProgram.Step s : steps) {
                boolean one = s.unary() != null ? CHEAP_UNARY.contains(s.unary()) : CHEAP_BINARY.contains(s.binary());
                if (!one) {
                    return false;
                }
            }
            return true;
        }

        @Override
        public void computeInto(Buffer out) {
            if (program.steps().length == 1) {
                FusedProgram.Step s = program.steps()[0];
                Buffer[] in = s.unary() != null ? new Buffer[] {leaf(s.a())}
                        : new Buffer[] {leaf(s.a()), leaf(s.b())};
                OpEvents.compute(single, backend, in, out);
                return;
            }
            Buffer[] in = new Buffer[leaves.length];
            for (int k = 0; k < in.length; k++) {
                in[k] = leaves[k].buffer();
            }
            OpEvents.compute(new Fused(program, single.shape(), single.dtype()), backend, in, out);
        }

        private Buffer leaf(int operand) {
            return leaves[-1 - operand].buffer();
        }

        @Override
        public void release() {
            for (Cleaner.Cleanable r : refs) {
                r.clean();
            }
        }
    }
}
