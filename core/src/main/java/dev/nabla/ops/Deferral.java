package dev.nabla.ops;

import dev.nabla.DType;
import dev.nabla.Shape;
import dev.nabla.Tensor;
import dev.nabla.autograd.NumericsCheck;
import dev.nabla.autograd.Recorder;
import dev.nabla.backend.Backend;
import dev.nabla.backend.Buffer;
import dev.nabla.backend.FusedProgram;
import dev.nabla.backend.Storage;
import dev.nabla.internal.TensorAccess;
import java.lang.ref.Cleaner;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

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
 * with the chain ({@link Backend#fusedReduce}, the bits of the values summed); the chain stays deferred, computed
 * again only if its values are read.
 *
 * <p>An op is deferred only where nothing can observe the difference, and where it can pay:
 * <ul>
 *   <li>its output has at least {@code -Dnabla.deferMinElements} elements (2^18 by default: a pass over memory
 *       then costs far more than the bookkeeping; a negative value turns deferral off);
 *   <li>it is a floating element-wise op ({@link Elementwise#fusible}) on a backend that runs fused programs in one
 *       pass ({@link Backend#defersElementwise}), its inputs of its own dtype;
 *   <li>no tape records on this thread (a gradient rule would read the saved values later, computing them then
 *       rather than saving a pass), no function is being traced, and the numerics check is off;
 *   <li>no input is written in place after creation (a Variable, an optimizer slot): the chain reads its inputs
 *       when it runs, so they must not change before.
 * </ul>
 * The output's buffer is allocated when the values are computed (a taken-over chain's never is); an output larger
 * than every input (a broadcast that grows) is computed at once, so that a size the backend refuses is reported by
 * the op. A deferred chain holds references to the storages it reads, so closing an input is safe. An input chain
 * is taken over once, and only when it has the output's shape (not broadcast, which would compute it once per row);
 * a second reader, a broadcast or a chain at {@link #MAX_STEPS} computes it there and then and reads its buffer. So
 * a chain's inputs are always computed values, and computing a chain never recurses.
 */
public final class Deferral {
    /** Steps at most in one chain: longer chains start over from a computed value. */
    static final int MAX_STEPS = 32;
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
            if (storages[i].isWrittenInPlace() || storages[i].dtype() != p.dtype()) {
                return null;
            }
            largest = Math.max(largest, storages[i].size());
        }
        if (p.shape().size() > largest) {
            return null;                  // a broadcast that grows: allocated now, where a size too big is reported
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

    /** True when no tape records on this thread, no function is being traced and the numerics check is off. */
    private static boolean unobserved() {
        return Dispatch.listener() == null && !Recorder.isRecording() && !NumericsCheck.enabled();
    }

    /**
     * {@code r}, a sum of {@code x} over its last axes, computed now from {@code x}'s still-deferred chain in one pass
     * ({@link Backend#fusedReduce}: the bits of the chain's values summed); the chain stays deferred, marked taken
     * over. Null when the chain was taken over or computed meanwhile: {@code r} then runs as usual.
     */
    private static Tensor sumOfChain(Backend backend, Reductions.Reduce r, Tensor x) {
        Shape shape = x.shape();
        Storage s = TensorAccess.storage(x, r.name());
        synchronized (s) {
            if (!(s.deferred() instanceof Chain c) || c.takenOver || !Arrays.equals(c.program.shape(), shape.dims())) {
                return null;
            }
            Buffer[] leaves = new Buffer[c.leaves.length];
            for (int k = 0; k < leaves.length; k++) {
                leaves[k] = c.leaves[k].buffer();
            }
            Tensor out = Creation.empty(r.name(), backend, r.dtype(), r.shape());
            OpEvents.compute(FusedReduce.sum(c.program, r), backend, leaves, TensorAccess.buffer(out, r.name()));
            c.takenOver = true;
            return out;
        }
    }

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
                    if (!c.takenOver && steps.size() + c.program.steps().length < MAX_STEPS) {
                        c.takenOver = true;
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
        /** Set (under the storage's lock) once a later op's chain took over this one's steps. */
        boolean takenOver;

        Chain(Backend backend, Primitive single, FusedProgram program, Storage[] leaves, Cleaner.Cleanable[] refs,
                Object holder) {
            this.backend = backend;
            this.single = single;
            this.program = program;
            this.leaves = leaves;
            this.refs = refs;
            this.holder = holder;
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
