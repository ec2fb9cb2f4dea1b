package dev.nabla.ops;

import dev.nabla.Shape;
import dev.nabla.Tensor;
import dev.nabla.Variable;
import dev.nabla.autograd.NumericsCheck;
import dev.nabla.autograd.Recorder;
import dev.nabla.backend.Backend;
import dev.nabla.backend.Storage;
import dev.nabla.internal.TensorAccess;
import java.util.Arrays;
import java.util.List;

/** Shape ops: reshape and its relatives (which share storage), permute, broadcast, slice, concat. */
public final class Shapes {
    private Shapes() {
    }

    /**
     * A tensor with {@code x}'s elements and a new shape, sharing {@code x}'s buffer. NOTE: a Variable's buffer
     * changes in place, so a view of a Variable is a copy; otherwise the immutable view would change too.
     */
    private static Tensor view(Tensor x, Shape shape, String op) {
        Storage s = x instanceof Variable ? Creation.copyStorage(x, op) : TensorAccess.storage(x, op);
        return TensorAccess.wrap(s, shape);
    }

    /** Same elements in a new shape; one dimension may be -1. */
    public static Tensor reshape(Tensor x, long... dims) {
        String op = "reshape";
        TensorAccess.storage(x, op);
        long[] d = Checks.notNull(op, "shape", dims).clone();
        int unknown = -1;
        long known = 1;
        boolean zero = false;
        boolean overflow = false;
        for (int i = 0; i < d.length; i++) {
            if (d[i] == -1) {
                if (unknown >= 0) {
                    throw new IllegalArgumentException(op + ": only one -1 allowed in " + Shape.format(dims));
                }
                unknown = i;
            } else if (d[i] < 0) {
                throw new IllegalArgumentException(op + ": negative dimension in " + Shape.format(dims));
            } else if (d[i] == 0) {
                zero = true;
            } else {
                long next = known * d[i];
                overflow |= Math.multiplyHigh(known, d[i]) != 0 || next < 0;
                known = next;
            }
        }
        if (zero) {
            known = 0;
        } else if (overflow) {
            // more elements than a long counts: no tensor has that many
            throw new IllegalArgumentException(op + ": cannot reshape " + x.shape() + " (" + x.size()
                    + " elements) to " + Shape.format(dims));
        }
        if (unknown >= 0) {
            if (known == 0 || x.size() % known != 0) {
                throw new IllegalArgumentException(op + ": cannot reshape " + x.shape() + " to "
                        + Shape.format(dims));
            }
            d[unknown] = x.size() / known;
        }
        Shape target = Shape.of(d);
        if (target.size() != x.size()) {
            throw new IllegalArgumentException(op + ": cannot reshape " + x.shape() + " (" + x.size()
                    + " elements) to " + target + " (" + target.size() + " elements)");
        }
        Tensor out = view(x, target, op);
        Shape from = x.shape();
        Recorder.recordLinear(op, new Tensor[] {x}, out, (g, needed) -> new Tensor[] {g.reshape(from.dims())});
        return out;
    }

    /** Inserts a size-1 axis. */
    public static Tensor expandDims(Tensor x, int axis) {
        int a = Shape.normalizeAxis(axis, x.rank() + 1, "expandDims");
        long[] d = new long[x.rank() + 1];
        for (int i = 0, j = 0; i < d.length; i++) {
            d[i] = i == a ? 1 : x.shape().dim(j++);
        }
        return reshape(x, d);
    }

    /** Removes size-1 axes (all of them when none are named). */
    public static Tensor squeeze(Tensor x, int... axes) {
        Checks.notNull("squeeze", "axes", axes);
        long[] dims = x.shape().dims();
        boolean[] drop = new boolean[dims.length];
        if (axes.length == 0) {
            for (int i = 0; i < dims.length; i++) {
                drop[i] = dims[i] == 1;
            }
        } else {
            for (int axis : axes) {
                int a = Shape.normalizeAxis(axis, dims.length, "squeeze");
                if (dims[a] != 1) {
                    throw new IllegalArgumentException("squeeze: cannot squeeze axis " + axis + " of size " + dims[a]
                            + " in " + x.shape());
                }
                drop[a] = true;
            }
        }
        long[] out = new long[dims.length];
        int n = 0;
        for (int i = 0; i < dims.length; i++) {
            if (!drop[i]) {
                out[n++] = dims[i];
            }
        }
        return reshape(x, Arrays.copyOf(out, n));
    }

    /**
     * The same value with no gradient through it. NOTE: not recorded, so it calls the numerics check itself: every
     * op whose floating output holds a NaN is flagged, views included (reshape is, through its record).
     */
    public static Tensor stopGradient(Tensor x) {
        Tensor out = view(x, x.shape(), "stopGradient");
        if (NumericsCheck.enabled()) {
            NumericsCheck.check("stopGradient", new Tensor[] {x}, out);
        }
        return out;
    }

    /** A new tensor object sharing {@code x}'s value (a copy for a Variable), not recorded and not checked. */
    public static Tensor alias(Tensor x, String op) {
        return view(x, x.shape(), op);
    }

    /** A copy of {@code x} laid out as {@code shape}, read through {@code srcStrides} from {@code srcOffset}. */
    private static Tensor gatherStrided(Tensor x, String op, Shape shape, long srcOffset, long[] srcStrides) {
        Backend b = TensorAccess.storage(x, op).backend();
        Tensor out = Creation.empty(op, b, x.dtype(), shape);
        b.copy(TensorAccess.buffer(x, op), srcOffset, srcStrides, TensorAccess.buffer(out, op), 0, shape.strides(), shape.dims());
        return out;
    }

    /** Reorders axes. */
    public static Tensor permute(Tensor x, int... axes) {
        String op = "permute";
        TensorAccess.storage(x, op);
        Checks.notNull(op, "axes", axes);
        int r = x.rank();
        boolean[] seen = new boolean[r];
        int[] p = new int[axes.length];
        for (int i = 0; i < axes.length; i++) {
            int a = axes[i] < 0 ? axes[i] + r : axes[i];
            if (axes.length != r || a < 0 || a >= r || seen[a]) {
                throw notAPermutation(x, axes);
            }
            seen[a] = true;
            p[i] = a;
        }
        if (axes.length != r) {
            throw notAPermutation(x, axes);
        }
        long[] own = x.shape().strides();
        long[] dims = new long[r];
        long[] strides = new long[r];
        int[] inverse = new int[r];
        for (int i = 0; i < r; i++) {
            dims[i] = x.shape().dim(p[i]);
            strides[i] = own[p[i]];
            inverse[p[i]] = i;
        }
        Tensor out = gatherStrided(x, op, Shape.of(dims), 0, strides);
        Recorder.recordLinear(op, new Tensor[] {x}, out, (g, needed) -> new Tensor[] {g.permute(inverse)});
        return out;
    }

    private static IllegalArgumentException notAPermutation(Tensor x, int[] axes) {
        return new IllegalArgumentException("permute: axes " + Arrays.toString(axes).replace('[', '(')
                .replace(']', ')') + " are not a permutation of the " + x.rank() + " axes of " + x.shape());
    }

    /** Swaps the last two axes. */
    public static Tensor transpose(Tensor x) {
        if (x.rank() < 2) {
            throw new IllegalArgumentException("transpose: needs rank >= 2, got " + x.shape());
        }
        int[] p = new int[x.rank()];
        Arrays.setAll(p, i -> i);
        p[p.length - 2] = p.length - 1;
        p[p.length - 1] = p.length - 2;
        return permute(x, p);
    }

    /** Materializes a broadcast to {@code dims}. */
    public static Tensor broadcastTo(Tensor x, long[] dims) {
        String op = "broadcastTo";
        TensorAccess.storage(x, op);
        String problem = Checks.shapeProblem(Checks.notNull(op, "shape", dims));
        if (problem != null) {
            throw new IllegalArgumentException(op + ": cannot broadcast " + x.shape() + " to " + Shape.format(dims)
                    + ": that shape " + problem);
        }
        return broadcastTo(x, Shape.of(dims));
    }

    /** Materializes a broadcast. */
    public static Tensor broadcastTo(Tensor x, Shape shape) {
        String op = "broadcastTo";
        TensorAccess.storage(x, op);
        Checks.notNull(op, "shape", shape);
        if (!Broadcasting.broadcastsTo(x.shape(), shape)) {
            throw new IllegalArgumentException(op + ": cannot broadcast " + x.shape() + " to " + shape);
        }
        Tensor out = x.shape().equals(shape) ? view(x, shape, op)
                : gatherStrided(x, op, shape, 0, Broadcasting.strides(x.shape(), shape));
        Shape from = x.shape();
        Recorder.recordLinear(op, new Tensor[] {x}, out,
                (g, needed) -> new Tensor[] {Broadcasting.sumToShape(g, from)});
        return out;
    }

    /** The block at {@code begin} of {@code size} (-1: to the end). */
    public static Tensor slice(Tensor x, long[] begin, long[] size) {
        String op = "slice";
        TensorAccess.storage(x, op);
        Checks.notNull(op, "begin", begin);
        Checks.notNull(op, "size", size);
        int r = x.rank();
        if (begin.length != r || size.length != r) {
            throw new IllegalArgumentException(op + ": begin " + Shape.format(begin) + " and size "
                    + Shape.format(size) + " must each have " + r + " entries for " + x.shape());
        }
        long[] dims = new long[r];
        long offset = 0;
        long[] strides = x.shape().strides();
        for (int i = 0; i < r; i++) {
            long d = x.shape().dim(i);
            long s = size[i] == -1 ? d - begin[i] : size[i];
            // NOTE: s > d - begin, not begin + s > d, which overflows for a begin near Long.MAX_VALUE and would
            // let the copy read outside the buffer
            if (begin[i] < 0 || begin[i] > d || s < 0 || s > d - begin[i]) {
                throw new IllegalArgumentException(op + ": begin " + Shape.format(begin) + " size "
                        + Shape.format(size) + " is out of bounds for " + x.shape());
            }
            dims[i] = s;
            offset += begin[i] * strides[i];
        }
        Tensor out = gatherStrided(x, op, Shape.of(dims), offset, strides);
        Shape from = x.shape();
        long[] start = begin.clone();
        Recorder.recordLinear(op, new Tensor[] {x}, out, (g, needed) -> new Tensor[] {pad(g, from, start)});
        return out;
    }

    /** {@code before[i]} zeros ahead of axis {@code i} of {@code x} and {@code after[i]} behind it. */
    public static Tensor pad(Tensor x, long[] before, long[] after) {
        String op = "pad";
        Checks.open(op, "x", x);
        Checks.notNull(op, "before", before);
        Checks.notNull(op, "after", after);
        int rank = x.rank();
        if (before.length != rank || after.length != rank) {
            throw new IllegalArgumentException(op + ": before " + Shape.format(before) + " and after "
                    + Shape.format(after) + " need one entry per axis of " + x.shape());
        }
        long[] dims = new long[rank];
        for (int i = 0; i < rank; i++) {
            if (before[i] < 0 || after[i] < 0) {
                throw new IllegalArgumentException(op + ": before " + Shape.format(before) + " and after "
                        + Shape.format(after) + " must not be negative (input " + x.shape() + ")");
            }
            dims[i] = Math.addExact(Math.addExact(x.shape().dim(i), before[i]), after[i]);
        }
        return pad(x, Shape.of(dims), before.clone());
    }

    /** Zeros of {@code shape} with {@code x} written at {@code begin}: the adjoint of slice. */
    public static Tensor pad(Tensor x, Shape shape, long[] begin) {
        String op = "pad";
        Backend b = TensorAccess.storage(x, op).backend();
        Tensor out = Creation.full(x.device(), 0, x.dtype(), shape.dims());
        long[] strides = shape.strides();
        long offset = 0;
        for (int i = 0; i < begin.length; i++) {
            offset += begin[i] * strides[i];
        }
        b.copy(TensorAccess.buffer(x, op), 0, x.shape().strides(), TensorAccess.buffer(out, op), offset, strides, x.shape().dims());
        long[] size = x.shape().dims();
        Recorder.recordLinear(op, new Tensor[] {x}, out, (g, needed) -> new Tensor[] {g.slice(begin, size)});
        return out;
    }

    /** Joins tensors along an existing axis. */
    public static Tensor concat(List<Tensor> ts, int axis) {
        String op = "concat";
        Checks.notNullElements(op, "tensors", ts);
        if (ts.isEmpty()) {
            throw new IllegalArgumentException(op + ": needs at least one tensor");
        }
        Tensor first = ts.get(0);
        int a = Shape.normalizeAxis(axis, Math.max(first.rank(), 1), op);
        if (first.rank() == 0) {
            throw new IllegalArgumentException(op + ": cannot concatenate scalars (use stack)");
        }
        long total = 0;
        for (Tensor t : ts) {
            Checks.sameDeviceAndDtype(op, first, t);
            boolean ok = t.rank() == first.rank();
            for (int i = 0; ok && i < t.rank(); i++) {
                ok = i == a || t.shape().dim(i) == first.shape().dim(i);
            }
            if (!ok) {
                throw new IllegalArgumentException(op + ": shapes " + first.shape() + " and " + t.shape()
                        + " differ outside axis " + axis);
            }
            total += t.shape().dim(a);
        }
        long[] dims = first.shape().dims();
        dims[a] = total;
        Shape shape = Shape.of(dims);
        Backend b = TensorAccess.backend(first);
        Tensor out = Creation.empty(op, b, first.dtype(), shape);
        long[] strides = shape.strides();
        long at = 0;
        long[][] begins = new long[ts.size()][];
        for (int i = 0; i < ts.size(); i++) {
            Tensor t = ts.get(i);
            b.copy(TensorAccess.buffer(t, op), 0, t.shape().strides(), TensorAccess.buffer(out, op), at * strides[a], strides, t.shape().dims());
            begins[i] = new long[dims.length];
            begins[i][a] = at;
            at += t.shape().dim(a);
        }
        Tensor[] inputs = ts.toArray(new Tensor[0]);
        Recorder.recordLinear(op, inputs, out, (g, needed) -> {
            Tensor[] grads = new Tensor[inputs.length];
            for (int i = 0; i < inputs.length; i++) {
                if (needed[i]) {
                    grads[i] = g.slice(begins[i], inputs[i].shape().dims());
                }
            }
            return grads;
        });
        return out;
    }

    /** Joins tensors of equal shape along a new axis. */
    public static Tensor stack(List<Tensor> ts, int axis) {
        Checks.open("stack", "tensors", ts);
        if (ts.isEmpty()) {
            throw new IllegalArgumentException("stack: needs at least one tensor");
        }
        Shape s = ts.get(0).shape();
        int a = Shape.normalizeAxis(axis, s.rank() + 1, "stack");
        for (Tensor t : ts) {
            if (!t.shape().equals(s)) {
                throw new IllegalArgumentException("stack: shapes " + s + " and " + t.shape() + " differ");
            }
            // NOTE: here, or concat's message would name concat
            Checks.sameDeviceAndDtype("stack", ts.get(0), t);
        }
        return concat(ts.stream().map(t -> t.expandDims(a)).toList(), a);
    }
}
