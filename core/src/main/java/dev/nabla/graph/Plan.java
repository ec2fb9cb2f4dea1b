package dev.nabla.graph;

import dev.nabla.DType;
import dev.nabla.Shape;
import dev.nabla.Tensor;
import dev.nabla.backend.Backend;
import dev.nabla.backend.Buffer;
import dev.nabla.backend.FusedProgram;
import dev.nabla.backend.Storage;
import dev.nabla.internal.TensorAccess;
import dev.nabla.ops.Broadcasting;
import dev.nabla.ops.Creation;
import dev.nabla.ops.Dispatch;
import dev.nabla.ops.Elementwise;
import dev.nabla.ops.Fused;
import dev.nabla.ops.FusedReduce;
import dev.nabla.ops.OpEvents;
import dev.nabla.ops.Primitive;
import dev.nabla.ops.Reductions;
import dev.nabla.ops.Shapes;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * A graph compiled for replay when nothing records it (no tape, no enclosing trace, no numerics check): the passes
 * run once, then each call runs the plan on buffers.
 * <ol>
 *   <li>customGradient bodies are inlined (their rule only matters to a tape);</li>
 *   <li>dead-code elimination: ops whose values reach neither the result nor a side effect go (random draws stay:
 *       they advance their generator);</li>
 *   <li>common-subexpression elimination: a pure op equal to an earlier one on the same values (views of one buffer
 *       in one shape count as the same) is computed once (not across a side effect, which may change a Variable
 *       both read);</li>
 *   <li>constant folding: ops of constants only (fills, scalars, their casts...) are computed once, here;</li>
 *   <li>fusion: chains of element-wise float ops of one shape, whose intermediates have no other reader, become one
 *       {@link FusedProgram} (one pass over memory, each op still rounding to its dtype, so the same bits); a chain
 *       (even of one op) whose result only a sum over its last axes reads is fused with that sum
 *       ({@link FusedReduce}); before it, a relu's gradient through max pooling masks the pooled gradient instead
 *       of the image-sized one ({@link PoolGradientMask});</li>
 *   <li>a permute that only matrix products read is not copied: they pack their operand from its source in place;
 *       and a product that only a permute reads writes the permuted layout itself ({@link PermutedOperands});</li>
 *   <li>a convolution's column matrix that only products read is never written: they pack it from the image
 *       ({@link ImageColumns}); and a product that only col2im reads (a convolution's input gradient) is computed a
 *       group of images at a time, each summed into its images while in cache ({@link ProductCol2im}): in W7's
 *       step the two 7.2 MB matrices of the second convolution are gone;</li>
 *   <li>a fused bias add and relu of a product's result is done by the product as it writes each block
 *       ({@link ProductEpilogue}); and a convolution whose result only max pooling reads is pooled as it is
 *       computed, a group of images at a time, one step with two results ({@link ProductMaxPool});</li>
 *   <li>memory planning: every intermediate gets a buffer from a fixed set allocated here, reused once its last
 *       reader has run, so a call allocates only its result.</li>
 * </ol>
 * Views (reshape...) share their source's buffer, as in eager mode; a view of a Variable is a copy. From the second
 * run on, the runs of pure primitives between side effects are recorded by their backend (a CUDA graph) and launched
 * with one call ({@link CapturedSteps}).
 */
final class Plan {
    /** A step of a plan: a primitive on buffers, or a side effect on tensors. */
    static final class Step {
        Primitive primitive;
        Backend backend;
        int[] in;
        int out = -1;
        /**
         * A second value the primitive writes (the indices of a pooled convolution: {@link ProductMaxPool}), or -1;
         * its buffer follows the inputs' in what the primitive is given.
         */
        int side = -1;
        String effect;
        Consumer<Tensor[]> replay;
        Buffer[] buffers;

        boolean isEffect() {
            return effect != null;
        }

        /** The values the step writes: its output, then its side output if it has one. */
        int[] outputs() {
            return side < 0 ? new int[] {out} : new int[] {out, side};
        }

        /** What the primitive is given: the buffers of the inputs, then the side output's, into {@code into}. */
        Buffer[] operands(Buffer[] buffers, Buffer[] into) {
            for (int j = 0; j < in.length; j++) {
                into[j] = buffers[in[j]];
            }
            if (side >= 0) {
                into[in.length] = buffers[side];
            }
            return into;
        }

        /** The length of {@link #operands}. */
        int operandCount() {
            return in.length + (side < 0 ? 0 : 1);
        }
    }

    private final Graph graph;
    private final List<Value> values;
    private final List<Step> steps;
    private final int[] root;
    private final Buffer[] fixed;
    private final Tensor[] tensors;          // per value: a tensor an effect can be given, when fixed
    private final List<Tensor> slots = new ArrayList<>();
    private final int[] results;
    /** Per result, the root value whose buffer the call allocates fresh, or an input's root (handed back). */
    private final int[] resultRoots;
    /** The result root of a single-result plan (what {@link CapturedSteps} copies out); -1 with several results. */
    private final int resultRoot;
    private final Map<Integer, Backend> resultBackends = new HashMap<>();
    private final ReentrantLock lock = new ReentrantLock();
    private final boolean captureAllowed;
    private int runs;
    private CapturedSteps captured;      // recorded at the second run (the first warms the allocator up)

    private Plan(Graph graph, List<Value> values, List<Step> steps, int[] root, int[] results) {
        this.graph = graph;
        this.values = values;
        this.steps = steps;
        this.root = root;
        this.results = results;
        this.resultRoots = new int[results.length];
        for (int i = 0; i < results.length; i++) {
            resultRoots[i] = root[results[i]];
        }
        this.resultRoot = results.length == 1 ? resultRoots[0] : -1;
        // NOTE: CapturedSteps copies out one result; a multi-result plan (a traced backward) runs step by step
        this.captureAllowed = CapturedSteps.enabled() && results.length == 1;
        for (Step s : steps) {
            if (!s.isEffect() && isResultRoot(s.out)) {
                resultBackends.put(s.out, s.backend);
            }
        }
        this.fixed = new Buffer[values.size()];
        this.tensors = new Tensor[values.size()];
        planMemory();
    }

    private boolean isResultRoot(int v) {
        return contains(resultRoots, v);
    }

    private static boolean contains(int[] ids, int v) {
        for (int id : ids) {
            if (id == v) {
                return true;
            }
        }
        return false;
    }

    /**
     * Whether each result's root is one the plan can give: one of its steps computes it, or (with several results) it
     * is an input handed back (a gradient that is the upstream gradient itself).
     */
    private static boolean givable(Graph g, List<Value> values, int[] root) {
        for (int r : g.outputs) {
            Value.Kind kind = values.get(root[r]).kind();
            if (kind != Value.Kind.NODE && (g.outputs.length == 1 || kind != Value.Kind.INPUT)) {
                return false;
            }
        }
        return true;
    }

    /**
     * The plan of {@code g}, or null when a result is not computed by it (a capture handed back; for a single result
     * also an input).
     */
    static Plan of(Graph g) {
        List<Value> values = new ArrayList<>(g.values);
        List<Step> steps = new ArrayList<>();
        flatten(g.nodes, steps);
        int[] alias = new int[values.size()];
        Arrays.setAll(alias, i -> i);
        int[] root = new int[values.size()];
        Arrays.setAll(root, i -> i);
        // views: share the source's buffer, except a Variable's (a copy)
        List<Step> kept = new ArrayList<>();
        for (Step s : steps) {
            if (!s.isEffect() && s.primitive.isView()) {
                int src = s.in[0];
                if (values.get(root[src]).kind() == Value.Kind.VARIABLE) {
                    s.primitive = new Snapshot(s.primitive.name(), s.primitive.shape(), s.primitive.dtype());
                    kept.add(s);
                } else {
                    root[s.out] = root[src];
                }
                continue;
            }
            kept.add(s);
        }
        steps = kept;
        int[] results = g.outputs;
        if (!givable(g, values, root)) {
            return null;
        }
        steps = eliminateDeadCode(steps, root, results);
        commonSubexpressions(steps, values, root);
        foldConstants(steps, values, root, results);
        if (!givable(g, values, root)) {
            return null;
        }
        PermutedOperands.applyToResults(steps, root, results);
        PoolGradientMask.apply(steps, values, root, results);
        steps = fuse(steps, values, root, results);
        PermutedOperands.apply(steps, root, results);
        ImageColumns.apply(steps, root, results);
        ProductEpilogue.apply(steps, values, root, results);
        ProductCol2im.apply(steps, values, root, results);
        ProductMaxPool.apply(steps, values, root, results);
        return new Plan(g, values, steps, root, results);
    }

    private static void flatten(List<Node> nodes, List<Step> out) {
        for (Node n : nodes) {
            switch (n) {
                case Node.Apply a -> {
                    Step s = new Step();
                    s.primitive = a.primitive();
                    s.backend = a.backend();
                    s.in = a.inputs().clone();
                    s.out = a.output();
                    out.add(s);
                }
                case Node.Effect e -> {
                    Step s = new Step();
                    s.effect = e.name();
                    s.in = e.inputs().clone();
                    s.replay = e.replay();
                    out.add(s);
                }
                case Node.Custom c -> flatten(c.body(), out);
            }
        }
    }

    private static List<Step> eliminateDeadCode(List<Step> steps, int[] root, int[] results) {
        boolean[] live = new boolean[root.length];
        for (int r : results) {
            live[root[r]] = true;
        }
        boolean[] keep = new boolean[steps.size()];
        for (int i = steps.size() - 1; i >= 0; i--) {
            Step s = steps.get(i);
            keep[i] = s.isEffect() || !s.primitive.isPure() || live[s.out];
            if (keep[i]) {
                for (int v : s.in) {
                    if (v >= 0) {
                        live[root[v]] = true;
                        live[v] = true;
                    }
                }
            }
        }
        List<Step> r = new ArrayList<>();
        for (int i = 0; i < steps.size(); i++) {
            if (keep[i]) {
                r.add(steps.get(i));
            }
        }
        return r;
    }

    /** A primitive's identity for CSE: its class and every component, arrays by content. */
    private static String key(Primitive p) {
        StringBuilder k = new StringBuilder(p.getClass().getName());
        if (!p.getClass().isRecord()) {
            return null;
        }
        try {
            for (RecordComponent c : p.getClass().getRecordComponents()) {
                Object v = c.getAccessor().invoke(p);
                k.append('|').append(v instanceof Object[] || v != null && v.getClass().isArray()
                        ? Arrays.deepToString(new Object[] {v}) : v instanceof Backend ? System.identityHashCode(v)
                        : String.valueOf(v));
            }
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
        return k.toString();
    }

    private static void commonSubexpressions(List<Step> steps, List<Value> values, int[] root) {
        Map<String, Integer> seen = new HashMap<>();
        int[] replace = new int[values.size()];
        Arrays.setAll(replace, i -> i);
        for (Step s : steps) {
            for (int j = 0; j < s.in.length; j++) {
                if (s.in[j] >= 0) {
                    s.in[j] = replace[s.in[j]];
                }
            }
            if (s.isEffect()) {
                seen.clear();
                continue;
            }
            if (!s.primitive.isPure()) {
                continue;
            }
            String k = key(s.primitive);
            if (k == null) {
                continue;
            }
            // inputs by the buffer they read and their shape: views of one buffer in one shape (a reshape, a
            // stopGradient) are the same values, so a loss's backward recomputing abs(stopGradient(max)) on its own
            // stopGradient of the merged max is merged too
            StringBuilder inputs = new StringBuilder();
            for (int v : s.in) {
                inputs.append(v < 0 ? "-" : replace[root[v]] + "" + values.get(v).shape()).append(',');
            }
            k += inputs + "@" + System.identityHashCode(s.backend);
            Integer earlier = seen.putIfAbsent(k, s.out);
            if (earlier != null) {
                replace[s.out] = earlier;
                root[s.out] = root[earlier];
                s.out = -2;                       // computed already: dropped below
            }
        }
        // views were resolved before CSE; a replaced value keeps pointing at the survivor through root
        for (int v = 0; v < root.length; v++) {
            root[v] = root[replace[root[v]]];
        }
        steps.removeIf(s -> !s.isEffect() && s.out == -2);
    }

    private static void foldConstants(List<Step> steps, List<Value> values, int[] root, int[] results) {
        int[] resultRoots = new int[results.length];
        for (int i = 0; i < results.length; i++) {
            resultRoots[i] = root[results[i]];
        }
        List<Step> kept = new ArrayList<>();
        for (Step s : steps) {
            boolean foldable = !s.isEffect() && s.primitive.isPure() && !contains(resultRoots, s.out);
            for (int j = 0; foldable && j < s.in.length; j++) {
                foldable = s.in[j] >= 0 && values.get(root[s.in[j]]).kind() == Value.Kind.CONSTANT;
            }
            if (foldable) {
                Tensor[] in = new Tensor[s.in.length];
                for (int j = 0; j < in.length; j++) {
                    Tensor c = values.get(root[s.in[j]]).captured();
                    Shape shape = values.get(s.in[j]).shape();
                    in[j] = c.shape().equals(shape) ? c : TensorAccess.wrap(TensorAccess.storage(c, "function"), shape);
                }
                values.set(s.out, Value.constant(Dispatch.execute(s.backend, s.primitive, in)));
            } else {
                kept.add(s);
            }
        }
        steps.clear();
        steps.addAll(kept);
    }

    private static boolean fusible(Step s) {
        return !s.isEffect() && Elementwise.fusible(s.primitive);
    }

    /**
     * Per value, how many step inputs read its buffer (through views), plus 2 for a result: a value read once is
     * read only by that step.
     */
    static int[] rootReads(List<Step> steps, int[] root, int[] results, int size) {
        int[] reads = new int[size];
        for (Step s : steps) {
            for (int v : s.in) {
                if (v >= 0) {
                    reads[root[v]]++;
                }
            }
        }
        for (int r : results) {
            reads[root[r]] += 2;
        }
        return reads;
    }

    private static List<Step> fuse(List<Step> steps, List<Value> values, int[] root, int[] results) {
        int[] uses = rootReads(steps, root, results, values.size());
        for (Step s : steps) {
            for (int v : s.in) {
                if (v >= 0 && root[v] != v) {
                    uses[v] += 2;                   // a view reads it: never fused away
                }
            }
        }
        int[] reader = new int[values.size()];
        for (int i = 0; i < steps.size(); i++) {
            for (int v : steps.get(i).in) {
                if (v >= 0) {
                    reader[root[v]] = i;          // the only reader where uses[v] == 1
                }
            }
        }
        // group of each step (by index), merged as chains are found; a group is closed at a side effect
        Map<Integer, List<Integer>> groupOfValue = new HashMap<>();
        List<List<Integer>> groups = new ArrayList<>();
        for (int i = 0; i < steps.size(); i++) {
            Step s = steps.get(i);
            if (s.isEffect()) {
                groupOfValue.clear();
                continue;
            }
            if (!fusible(s)) {
                continue;
            }
            List<Integer> group = new ArrayList<>();
            for (int v : s.in) {
                List<Integer> g = groupOfValue.get(v);
                Step producer = g == null ? null : steps.get(g.get(g.size() - 1));
                if (g != null && uses[v] == 1 && root[v] == v && producer.backend == s.backend
                        && producer.primitive.shape().equals(s.primitive.shape())
                        && producer.primitive.dtype() == s.primitive.dtype()) {
                    groupOfValue.remove(v);
                    groups.remove(g);
                    group.addAll(g);
                }
            }
            group.add(i);
            group.sort(null);
            groups.add(group);
            groupOfValue.put(s.out, group);
        }
        Map<Integer, Step> replacement = new HashMap<>();
        java.util.Set<Integer> removed = new java.util.HashSet<>();
        for (List<Integer> g : groups) {
            Step last = steps.get(g.get(g.size() - 1));
            int sum = last.out >= 0 && uses[last.out] == 1 ? sumOverLastAxes(steps, g, reader[last.out]) : -1;
            if (g.size() < 2 && sum < 0) {
                continue;
            }
            Shape shape = last.primitive.shape();
            Map<Integer, Integer> stepOf = new HashMap<>();
            List<Integer> external = new ArrayList<>();
            List<FusedProgram.Step> program = new ArrayList<>();
            for (int index : g) {
                Step s = steps.get(index);
                int[] operands = new int[2];
                for (int j = 0; j < s.in.length; j++) {
                    Integer k = stepOf.get(s.in[j]);
                    if (k == null) {
                        int e = external.indexOf(s.in[j]);
                        if (e < 0) {
                            external.add(s.in[j]);
                            e = external.size() - 1;
                        }
                        k = -1 - e;
                    }
                    operands[j] = k;
                }
                program.add(Elementwise.fusedStep(s.primitive, operands[0], operands[1]));
                stepOf.put(s.out, program.size() - 1);
                removed.add(index);
            }
            int at = sum >= 0 ? sum : g.get(g.size() - 1);
            long[][] strides = new long[external.size()][];
            int[] copies = new int[external.size()];
            long[][] through = new long[external.size()][];
            // a copy that one input must still read from memory (through a view no strides express) stays for all
            java.util.Set<Integer> kept = new java.util.HashSet<>();
            for (int e = 0; e < strides.length; e++) {
                int v = external.get(e);
                copies[e] = absorbableCopy(steps, root, uses, results, g, at, v);
                if (copies[e] >= 0) {
                    Shapes.StridedCopy sc = (Shapes.StridedCopy) steps.get(copies[e]).primitive;
                    through[e] = reshapedStrides(sc.shape().dims(), sc.srcStrides(), values.get(v).shape().dims());
                    if (through[e] == null) {
                        kept.add(copies[e]);
                    }
                }
            }
            for (int e = 0; e < strides.length; e++) {
                Shape viewed = values.get(external.get(e)).shape();
                if (copies[e] >= 0 && !kept.contains(copies[e])) {
                    // read the copy's source through the copy's strides (and the views' after it) instead
                    strides[e] = Broadcasting.strides(viewed, through[e], shape);
                    external.set(e, steps.get(copies[e]).in[0]);
                    removed.add(copies[e]);
                } else {
                    strides[e] = Broadcasting.strides(viewed, shape);
                }
            }
            DType dtype = last.primitive.dtype();
            Step f = new Step();
            FusedProgram fused = new FusedProgram(dtype, shape.dims(), strides,
                    program.toArray(new FusedProgram.Step[0]));
            f.primitive = new Fused(fused, shape, dtype);
            f.backend = last.backend;
            f.in = external.stream().mapToInt(Integer::intValue).toArray();
            f.out = last.out;
            if (sum >= 0) {
                // the sum's step becomes the fused one, where it was: the chain's inputs are all made by then
                Step reduction = steps.get(sum);
                f.primitive = FusedReduce.sum(fused, (Reductions.Reduce) reduction.primitive);
                f.out = reduction.out;
                replacement.put(sum, f);
                continue;
            }
            replacement.put(g.get(g.size() - 1), f);
        }
        List<Step> r = new ArrayList<>();
        for (int i = 0; i < steps.size(); i++) {
            Step f = replacement.get(i);
            if (f != null) {
                r.add(f);
            } else if (!removed.contains(i)) {
                r.add(steps.get(i));
            }
        }
        return r;
    }

    /**
     * The index of the strided copy (a permute or broadcast, no offset) whose result value {@code v} is, or is a view
     * of, when the fused step at {@code at} of group {@code g} can read the copy's source through strides instead: the
     * copy runs on the group's backend, only the group reads its result (which is no result of the plan), no side
     * effect lies between the copy and {@code at} (one may change a Variable the copy reads); else -1. Whether
     * {@code v}'s shape can be read from the source with strides is {@link #reshapedStrides}' answer. W7's
     * convolutions permute each product into NCHW for the bias add and relu: the fused pass then reads the product
     * in place of a copy written to memory and read back.
     */
    private static int absorbableCopy(List<Step> steps, int[] root, int[] uses, int[] results, List<Integer> g,
            int at, int v) {
        int r = root[v];
        int copy = -1;
        for (int i = 0; i < at; i++) {
            Step s = steps.get(i);
            if (!s.isEffect() && s.out == r) {
                copy = i;
            }
        }
        if (copy < 0 || !(steps.get(copy).primitive instanceof Shapes.StridedCopy sc) || sc.srcOffset() != 0
                || steps.get(copy).backend != steps.get(g.get(0)).backend || sc.shape().size() == 0) {
            return -1;
        }
        for (int result : results) {
            if (root[result] == r) {
                return -1;
            }
        }
        int reads = 0;
        for (int index : g) {
            for (int in : steps.get(index).in) {
                reads += in >= 0 && root[in] == r ? 1 : 0;
            }
        }
        if (reads != uses[r]) {
            return -1;
        }
        for (int i = copy + 1; i < at; i++) {
            if (steps.get(i).isEffect()) {
                return -1;
            }
        }
        return copy;
    }

    /**
     * Strides that read the elements of a view {@code (from, fromStrides)} in the row-major order of shape {@code to}
     * (of as many elements): a reshape of a strided view without a copy; null when the reshape merges dimensions the
     * view does not step through as one (as NumPy's reshape, which then copies). Size-1 dimensions get stride 0.
     */
    static long[] reshapedStrides(long[] from, long[] fromStrides, long[] to) {
        int n = 0;
        long[] dims = new long[from.length];
        long[] steps = new long[from.length];
        for (int i = 0; i < from.length; i++) {
            if (from[i] != 1) {
                dims[n] = from[i];
                steps[n++] = fromStrides[i];
            }
        }
        long[] out = new long[to.length];
        int f = 0;
        int t = 0;
        while (t < to.length) {
            if (to[t] == 1) {
                t++;
                continue;
            }
            if (f == n) {
                return null;
            }
            // the smallest run of source dimensions and target dimensions holding the same number of elements
            int f0 = f;
            int t0 = t;
            long fp = dims[f++];
            long tp = to[t++];
            while (fp != tp) {
                if (fp < tp) {
                    if (f == n) {
                        return null;
                    }
                    fp *= dims[f++];
                } else {
                    if (t == to.length) {
                        return null;
                    }
                    tp *= to[t++];
                }
            }
            for (int k = f0; k < f - 1; k++) {
                if (steps[k] != steps[k + 1] * dims[k + 1]) {
                    return null;
                }
            }
            long step = steps[f - 1];
            for (int k = t - 1; k >= t0; k--) {
                out[k] = to[k] == 1 ? 0 : step;
                step *= to[k];
            }
        }
        return f == n ? out : null;
    }

    /**
     * The index of step {@code at} when it is a sum over the last axes (non-empty, of a non-empty result) of the
     * value that group {@code g}'s last step makes, on the same backend, with no side effect from the group's first
     * step on (an effect may change a Variable the chain reads, and the fused step runs at the sum's place); else -1.
     */
    private static int sumOverLastAxes(List<Step> steps, List<Integer> g, int at) {
        Step last = steps.get(g.get(g.size() - 1));
        Step s = steps.get(at);
        if (s.isEffect() || s.backend != last.backend || s.in.length != 1 || s.in[0] != last.out
                || !(s.primitive instanceof Reductions.Reduce r)
                || !FusedReduce.sumsLastAxes(r, last.primitive.shape())) {
            return -1;
        }
        for (int i = g.get(0) + 1; i < at; i++) {
            if (steps.get(i).isEffect()) {
                return -1;
            }
        }
        return at;
    }

    /**
     * A buffer of the plan while it is planned: its backend and dtype, the largest value it will hold, and, once the
     * plan is made, the detached tensor that owns it.
     */
    private static final class Slot {
        final Backend backend;
        final DType dtype;
        long capacity;
        Tensor tensor;

        Slot(Backend backend, DType dtype) {
            this.backend = backend;
            this.dtype = dtype;
        }
    }

    /**
     * Which free buffers a value of {@code size} elements may take: those of its backend and dtype, and, on a backend
     * without prefix views, of its size.
     */
    private static String freeKey(Backend backend, DType dtype, long size) {
        return System.identityHashCode(backend) + " " + dtype + (backend.hasPrefixViews() ? "" : " " + size);
    }

    /**
     * Takes from {@code free} the buffer for a value of {@code size} elements: the smallest that holds it, or else the
     * largest, which then grows (nothing is allocated until the plan is made); null when none is free.
     */
    private static Slot take(List<Slot> free, long size) {
        Slot fit = null;
        Slot largest = null;
        for (Slot c : free) {
            if (c.capacity >= size && (fit == null || c.capacity < fit.capacity)) {
                fit = c;
            }
            if (largest == null || c.capacity > largest.capacity) {
                largest = c;
            }
        }
        Slot chosen = fit != null ? fit : largest;
        if (chosen != null) {
            free.remove(chosen);
        }
        return chosen;
    }

    /**
     * Buffers for every intermediate, from the values' lifetimes: a value takes a free buffer of its device and dtype
     * ({@link #take}), and its buffer is free again once the value's last reader ran. A value smaller than its buffer
     * gets a prefix view of it ({@link Backend#prefix}): W7's traced step holds 14.05 MiB in 14 buffers, where
     * a buffer per size held 18.3 MiB in 27 (before the pooled masks went into the scatter: 14.4 MiB).
     */
    private void planMemory() {
        for (int v = 0; v < values.size(); v++) {
            Value value = values.get(v);
            if (root[v] == v && (value.kind() == Value.Kind.CONSTANT || value.kind() == Value.Kind.VARIABLE)) {
                fixed[v] = TensorAccess.buffer(value.captured(), "function");
                tensors[v] = value.captured();
            }
        }
        int[] last = new int[values.size()];
        Arrays.fill(last, -1);
        for (int i = 0; i < steps.size(); i++) {
            for (int v : steps.get(i).in) {
                if (v >= 0) {
                    last[root[v]] = i;
                }
            }
        }
        List<Slot> planned = new ArrayList<>();
        Map<String, List<Slot>> free = new HashMap<>();
        Slot[] slotOf = new Slot[values.size()];
        for (int i = 0; i < steps.size(); i++) {
            Step s = steps.get(i);
            for (int v : s.isEffect() ? new int[0] : s.outputs()) {
                if (isResultRoot(v)) {
                    continue;
                }
                Value out = values.get(v);
                long size = out.shape().size();
                List<Slot> pool = free.computeIfAbsent(freeKey(s.backend, out.dtype(), size), x -> new ArrayList<>());
                Slot slot = take(pool, size);
                if (slot == null) {
                    slot = new Slot(s.backend, out.dtype());
                    planned.add(slot);
                }
                slot.capacity = Math.max(slot.capacity, size);
                slotOf[v] = slot;
                if (last[v] < i) {
                    pool.add(slot);                       // nobody reads it (a random draw kept for its stream)
                }
            }
            for (int v : s.in) {
                if (v >= 0 && last[root[v]] == i && slotOf[root[v]] != null) {
                    Slot slot = slotOf[root[v]];
                    free.computeIfAbsent(freeKey(slot.backend, slot.dtype, values.get(root[v]).shape().size()),
                            x -> new ArrayList<>()).add(slot);
                    last[root[v]] = Integer.MAX_VALUE;    // freed once
                }
            }
        }
        for (Slot slot : planned) {
            // detached: the plan is built at a call, perhaps in the caller's memory scope, and outlives it
            slot.tensor = TensorAccess.detach(Creation.empty("function", slot.backend, slot.dtype,
                    Shape.of(slot.capacity)));
            slots.add(slot.tensor);
        }
        Storage[] storageOf = new Storage[values.size()];
        for (int v = 0; v < values.size(); v++) {
            Slot slot = slotOf[v];
            if (slot != null) {
                long size = values.get(v).shape().size();
                Buffer whole = TensorAccess.buffer(slot.tensor, "function");
                fixed[v] = size == slot.capacity ? whole : slot.backend.prefix(whole, size);
                storageOf[v] = size == slot.capacity ? TensorAccess.storage(slot.tensor, "function")
                        : new Storage(slot.backend, fixed[v]);
            }
        }
        // tensors for effects that read slot values (their views included)
        for (int v = 0; v < values.size(); v++) {
            Storage storage = storageOf[root[v]];
            if (storage != null) {
                fixed[v] = fixed[root[v]];
                tensors[v] = TensorAccess.detach(TensorAccess.wrap(storage, values.get(v).shape()));
            } else if (root[v] != v && tensors[root[v]] != null) {
                fixed[v] = fixed[root[v]];
                tensors[v] = TensorAccess.detach(TensorAccess.wrap(TensorAccess.storage(tensors[root[v]],
                        "function"), values.get(v).shape()));
            }
        }
        for (Step s : steps) {
            if (!s.isEffect()) {
                s.buffers = new Buffer[s.operandCount()];
            }
        }
    }

    /** Runs the plan, or returns null when another thread is running it (the caller replays op by op). */
    Tensor[] run(Tensor[] args) {
        if (!lock.tryLock()) {
            return null;
        }
        try {
            return runLocked(args);
        } finally {
            lock.unlock();
        }
    }

    private Tensor[] runLocked(Tensor[] args) {
        Buffer[] buf = fixed.clone();
        // per result root a step computes, by value id: this call's tensor (an array: a map's boxing and hashing
        // were a tenth of a scalar step's replay)
        Tensor[] fresh = new Tensor[values.size()];
        try {
            for (int i = 0; i < results.length; i++) {
                int r = resultRoots[i];
                if (values.get(r).kind() == Value.Kind.NODE && fresh[r] == null) {
                    // in the result's own shape (a view of the root's buffer when the result is a reshape)
                    Value value = values.get(results[i]);
                    fresh[r] = Creation.empty("function", resultBackends.get(r), value.dtype(), value.shape());
                }
            }
            for (int v = 0; v < buf.length; v++) {
                Tensor out = fresh[root[v]];
                if (out != null) {
                    buf[v] = TensorAccess.buffer(out, "function");
                } else if (values.get(root[v]).kind() == Value.Kind.INPUT) {
                    buf[v] = TensorAccess.buffer(args[values.get(root[v]).index()], "function");
                }
            }
            if (captureAllowed && ++runs == 2) {
                captured = CapturedSteps.capture(this, steps, values, root, resultRoot, fixed);
            }
            for (Step s : steps) {
                if (captured != null && captured.covers(s, buf)) {
                    continue;                                 // ran in its segment's recording
                }
                if (s.isEffect()) {
                    Tensor[] in = new Tensor[s.in.length];
                    for (int j = 0; j < in.length; j++) {
                        in[j] = s.in[j] < 0 ? null : tensorOf(s.in[j], args, fresh);
                    }
                    s.replay.accept(in);
                } else {
                    OpEvents.compute(s.primitive, s.backend, s.operands(buf, s.buffers), buf[s.out]);
                }
            }
        } catch (RuntimeException | Error e) {
            for (Tensor t : fresh) {
                if (t != null) {
                    t.close();
                }
            }
            throw e;
        }
        Tensor[] out = new Tensor[results.length];
        for (int i = 0; i < out.length; i++) {
            int v = results[i];
            Tensor base = fresh[root[v]];
            out[i] = base == null ? tensorOf(v, args, fresh)
                    : base.shape().equals(values.get(v).shape()) ? base : view(base, v);
        }
        return out;
    }

    /** A tensor of value {@code v}'s shape on {@code base}'s storage (a view a result or an effect reads). */
    private Tensor view(Tensor base, int v) {
        return TensorAccess.wrap(TensorAccess.storage(base, "function"), values.get(v).shape());
    }

    private Tensor tensorOf(int v, Tensor[] args, Tensor[] fresh) {
        if (tensors[v] != null) {
            return tensors[v];
        }
        Tensor out = fresh[root[v]];
        if (out != null) {
            return out.shape().equals(values.get(v).shape()) ? out : view(out, v);
        }
        Value r = values.get(root[v]);
        Tensor arg = args[r.index()];
        return v == root[v] ? arg : view(arg, v);
    }

    /** The plan, one step a line, for the listing. */
    String listing() {
        StringBuilder s = new StringBuilder();
        for (Step step : steps) {
            if (step.isEffect()) {
                s.append("  ").append(step.effect).append(args(step.in)).append('\n');
            } else {
                s.append("  %").append(step.out).append(step.side < 0 ? "" : ", %" + step.side).append(" = ")
                        .append(step.primitive.name()).append(args(step.in));
                String a = step.primitive.attributes();
                if (!a.isEmpty()) {
                    s.append(" {").append(a).append('}');
                }
                s.append(" : ").append(values.get(step.out).type());
                if (step.side >= 0) {
                    s.append(", ").append(values.get(step.side).type());
                }
                s.append('\n');
            }
        }
        s.append("  return ").append(GraphText.results(results)).append('\n');
        long bytes = 0;
        for (Tensor slot : slots) {
            bytes += slot.size() * slot.dtype().byteSize();
        }
        s.append("  (").append(slots.size()).append(" planned buffers, ").append(bytes).append(" bytes)\n");
        if (captured != null) {
            s.append("  (").append(captured.capturedSteps()).append(" steps recorded as device graphs)\n");
        }
        return s.toString();
    }

    private static String args(int[] ids) {
        StringBuilder s = new StringBuilder("(");
        for (int i = 0; i < ids.length; i++) {
            s.append(i == 0 ? "" : ", ").append(ids[i] < 0 ? "none" : "%" + ids[i]);
        }
        return s.append(')').toString();
    }

    /** Used by tests and listings: the number of fused steps. */
    int fusedSteps() {
        return (int) steps.stream().filter(s -> !s.isEffect()
                && (s.primitive instanceof Fused || s.primitive instanceof FusedReduce)).count();
    }

    Graph graph() {
        return graph;
    }
}
