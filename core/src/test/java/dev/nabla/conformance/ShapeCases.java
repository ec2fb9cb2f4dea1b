package dev.nabla.conformance;

import dev.nabla.conformance.OpArgs.Axes;
import dev.nabla.conformance.OpArgs.Axis;
import dev.nabla.conformance.OpArgs.Condition;
import dev.nabla.conformance.OpArgs.Depth;
import dev.nabla.conformance.OpArgs.Dims;
import dev.nabla.conformance.OpArgs.Gather;
import dev.nabla.conformance.OpArgs.Slice;
import dev.nabla.conformance.OpInfo.CaseGenerator;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * The cases of the op table's rows: fixed edge cases (scalars, size-0 and size-1 dimensions, the classic broadcasts)
 * followed by random shapes and arguments. Shapes stay small (rank <= 3, dimensions <= 4) so that gradient checks,
 * which build whole Jacobians, stay fast.
 */
final class ShapeCases {
    /** Random cases drawn per row after the fixed ones. */
    private static final int RANDOM_CASES = 8;

    private ShapeCases() {
    }

    /** 0 (when allowed), often 1, else 2..4. */
    static long dim(Random r, boolean allowEmpty) {
        double p = r.nextDouble();
        if (allowEmpty && p < 0.1) {
            return 0;
        }
        return p < 0.35 ? 1 : 2 + r.nextInt(3);
    }

    static long[] shape(Random r, int minRank, int maxRank, boolean allowEmpty) {
        long[] s = new long[minRank + r.nextInt(maxRank - minRank + 1)];
        for (int i = 0; i < s.length; i++) {
            s[i] = dim(r, allowEmpty);
        }
        return s;
    }

    private static long[] s(long... dims) {
        return dims;
    }

    /** One input of any shape. */
    static CaseGenerator<Void> single() {
        return r -> {
            List<OpCase<Void>> cases = new ArrayList<>(List.of(OpCase.of(null, s()), OpCase.of(null, s(1)),
                    OpCase.of(null, s(0)), OpCase.of(null, s(1, 1)), OpCase.of(null, s(2, 0, 3)),
                    OpCase.of(null, s(3, 4))));
            for (int i = 0; i < RANDOM_CASES; i++) {
                cases.add(OpCase.of(null, shape(r, 0, 3, true)));
            }
            return cases;
        };
    }

    /** Two inputs that broadcast together. */
    static CaseGenerator<Void> broadcastPair() {
        return r -> {
            List<OpCase<Void>> cases = new ArrayList<>(List.of(OpCase.of(null, s(2, 3), s(3)),
                    OpCase.of(null, s(4, 1), s(1, 5)), OpCase.of(null, s(), s(2, 3)), OpCase.of(null, s(2, 3), s()),
                    OpCase.of(null, s(), s()), OpCase.of(null, s(0, 3), s(3)), OpCase.of(null, s(1), s(0)),
                    OpCase.of(null, s(2, 1, 3), s(4, 1))));
            for (int i = 0; i < RANDOM_CASES; i++) {
                long[] out = shape(r, 0, 3, true);
                cases.add(OpCase.of(null, broadcastableTo(r, out), broadcastableTo(r, out)));
            }
            return cases;
        };
    }

    /** A shape that broadcasts to {@code out}: some leading axes dropped, some others set to 1. */
    static long[] broadcastableTo(Random r, long[] out) {
        int drop = r.nextInt(out.length + 1);
        long[] s = Arrays.copyOfRange(out, drop, out.length);
        for (int i = 0; i < s.length; i++) {
            if (r.nextDouble() < 0.3) {
                s[i] = 1;
            }
        }
        return s;
    }

    /** Reductions: all axes, one axis, several, negative axes, keepDims or not. */
    static CaseGenerator<Axes> reductions(boolean allowEmpty) {
        return r -> {
            List<OpCase<Axes>> cases = new ArrayList<>();
            cases.add(OpCase.of(new Axes(null, false), s()));
            cases.add(OpCase.of(new Axes(null, false), s(2, 3)));
            cases.add(OpCase.of(new Axes(new int[] {0, 1}, true), s(2, 3)));
            cases.add(OpCase.of(new Axes(new int[] {-1}, false), s(2, 3, 4)));
            cases.add(OpCase.of(new Axes(new int[] {0, -1}, true), s(2, 3, 4)));
            cases.add(OpCase.of(new Axes(new int[] {1}, false), s(3, 1)));
            if (allowEmpty) {
                cases.add(OpCase.of(new Axes(new int[] {0}, false), s(0, 3)));
                cases.add(OpCase.of(new Axes(new int[] {1}, true), s(0, 3)));
            }
            for (int i = 0; i < RANDOM_CASES; i++) {
                long[] shape = shape(r, 0, 3, allowEmpty);
                List<Integer> axes = new ArrayList<>();
                for (int a = 0; a < shape.length; a++) {
                    if (r.nextBoolean()) {
                        axes.add(r.nextBoolean() ? a : a - shape.length);
                    }
                }
                boolean all = r.nextDouble() < 0.2;
                boolean keep = !all && r.nextBoolean();
                int[] ax = all ? null : axes.stream().mapToInt(Integer::intValue).toArray();
                cases.add(OpCase.of(new Axes(ax, keep), shape));
            }
            return cases;
        };
    }

    /** A shape of rank >= 1 with one (possibly negative) axis whose dimension is at least 1. */
    static CaseGenerator<Axis> nonEmptyAxis() {
        return r -> {
            List<OpCase<Axis>> cases = new ArrayList<>(List.of(OpCase.of(new Axis(0), s(1)),
                    OpCase.of(new Axis(-1), s(2, 5)), OpCase.of(new Axis(0), s(4, 0)),
                    OpCase.of(new Axis(1), s(3, 1))));
            for (int i = 0; i < RANDOM_CASES; i++) {
                long[] shape = shape(r, 1, 3, true);
                int axis = r.nextInt(shape.length);
                shape[axis] = Math.max(1, shape[axis]);
                cases.add(OpCase.of(new Axis(r.nextBoolean() ? axis : axis - shape.length), shape));
            }
            return cases;
        };
    }

    /** Matmul: 2-D, batched, broadcast batch dimensions, empty m/k/n. */
    static CaseGenerator<Void> matmul() {
        return r -> {
            List<OpCase<Void>> cases = new ArrayList<>(List.of(OpCase.of(null, s(2, 3), s(3, 4)),
                    OpCase.of(null, s(1, 1), s(1, 1)), OpCase.of(null, s(2, 3, 4), s(2, 4, 2)),
                    OpCase.of(null, s(2, 1, 2, 3), s(3, 3, 2)), OpCase.of(null, s(3, 2), s(2, 2, 1)),
                    OpCase.of(null, s(2, 0), s(0, 3)), OpCase.of(null, s(0, 2), s(2, 3)),
                    OpCase.of(null, s(0, 2, 2), s(2, 2))));
            for (int i = 0; i < RANDOM_CASES; i++) {
                long m = 1 + r.nextInt(3);
                long k = 1 + r.nextInt(3);
                long n = 1 + r.nextInt(3);
                long[] batch = shape(r, 0, 2, false);
                cases.add(OpCase.of(null, concat(broadcastableTo(r, batch), m, k),
                        concat(broadcastableTo(r, batch), k, n)));
            }
            return cases;
        };
    }

    private static long[] concat(long[] a, long... b) {
        long[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** A shape of rank >= {@code minRank}. */
    static CaseGenerator<Void> ranked(int minRank) {
        return r -> {
            List<OpCase<Void>> cases = new ArrayList<>();
            for (int i = 0; i < RANDOM_CASES; i++) {
                cases.add(OpCase.of(null, shape(r, minRank, 3, true)));
            }
            return cases;
        };
    }

    /** A random permutation of the axes, some written negative. */
    static CaseGenerator<Dims> permutations() {
        return r -> {
            List<OpCase<Dims>> cases = new ArrayList<>(List.of(OpCase.of(new Dims(s()), s()),
                    OpCase.of(new Dims(s(1, 0)), s(2, 3)), OpCase.of(new Dims(s(2, 0, 1)), s(2, 0, 3))));
            for (int i = 0; i < RANDOM_CASES; i++) {
                long[] shape = shape(r, 1, 3, true);
                List<Long> p = new ArrayList<>();
                for (int a = 0; a < shape.length; a++) {
                    p.add((long) a);
                }
                java.util.Collections.shuffle(p, r);
                long[] axes = p.stream().mapToLong(a -> r.nextBoolean() ? a : a - shape.length).toArray();
                cases.add(OpCase.of(new Dims(axes), shape));
            }
            return cases;
        };
    }

    /** A target shape with the same number of elements, sometimes with -1. */
    static CaseGenerator<Dims> reshapes() {
        return r -> {
            List<OpCase<Dims>> cases = new ArrayList<>(List.of(OpCase.of(new Dims(s(-1)), s(2, 3)),
                    OpCase.of(new Dims(s(3, -1)), s(2, 3)), OpCase.of(new Dims(s()), s(1, 1)),
                    OpCase.of(new Dims(s(1, 1, 1)), s()), OpCase.of(new Dims(s(-1, 2)), s(0, 2)),
                    OpCase.of(new Dims(s(3, 0)), s(0, 5))));
            for (int i = 0; i < RANDOM_CASES; i++) {
                long[] shape = shape(r, 0, 3, true);
                List<Long> target = new ArrayList<>();
                for (long d : shape) {
                    target.add(d);
                }
                java.util.Collections.shuffle(target, r);
                if (r.nextBoolean()) {
                    target.add(r.nextInt(target.size() + 1), 1L);
                }
                long[] t = target.stream().mapToLong(Long::longValue).toArray();
                long known = 1;
                for (long d : t) {
                    known *= d;
                }
                if (t.length > 0 && known > 0 && r.nextBoolean()) {
                    t[r.nextInt(t.length)] = -1;
                }
                cases.add(OpCase.of(new Dims(t), shape));
            }
            return cases;
        };
    }

    /** An axis in [-(rank + 1), rank] of the result. */
    static CaseGenerator<Axis> expandDims() {
        return r -> {
            List<OpCase<Axis>> cases = new ArrayList<>(List.of(OpCase.of(new Axis(0), s()),
                    OpCase.of(new Axis(-1), s()), OpCase.of(new Axis(2), s(2, 3)), OpCase.of(new Axis(-3), s(2, 3))));
            for (int i = 0; i < RANDOM_CASES; i++) {
                long[] shape = shape(r, 0, 3, true);
                cases.add(OpCase.of(new Axis(r.nextInt(2 * shape.length + 2) - shape.length - 1), shape));
            }
            return cases;
        };
    }

    /** Some of the size-1 axes (none named: all of them), some negative. */
    static CaseGenerator<Dims> squeezes() {
        return r -> {
            List<OpCase<Dims>> cases = new ArrayList<>(List.of(OpCase.of(new Dims(s()), s(1, 3, 1)),
                    OpCase.of(new Dims(s(-1)), s(1, 3, 1)), OpCase.of(new Dims(s()), s(1)),
                    OpCase.of(new Dims(s(0)), s(1, 0))));
            for (int i = 0; i < RANDOM_CASES; i++) {
                long[] shape = shape(r, 0, 3, true);
                List<Long> axes = new ArrayList<>();
                for (int a = 0; a < shape.length; a++) {
                    if (shape[a] == 1 && r.nextBoolean()) {
                        axes.add(r.nextBoolean() ? a : (long) a - shape.length);
                    }
                }
                cases.add(OpCase.of(new Dims(axes.stream().mapToLong(Long::longValue).toArray()), shape));
            }
            return cases;
        };
    }

    /** A target shape the input broadcasts to. */
    static CaseGenerator<Dims> broadcastTargets() {
        return r -> {
            List<OpCase<Dims>> cases = new ArrayList<>(List.of(OpCase.of(new Dims(s(2, 3)), s(3)),
                    OpCase.of(new Dims(s(4, 5)), s(4, 1)), OpCase.of(new Dims(s(2, 2)), s()),
                    OpCase.of(new Dims(s(0, 3)), s(1, 3)), OpCase.of(new Dims(s(2, 3)), s(2, 3))));
            for (int i = 0; i < RANDOM_CASES; i++) {
                long[] out = shape(r, 0, 3, true);
                cases.add(OpCase.of(new Dims(out), broadcastableTo(r, out)));
            }
            return cases;
        };
    }

    /** An in-bounds block, sometimes with size -1 (to the end) or size 0. */
    static CaseGenerator<Slice> slices() {
        return r -> {
            List<OpCase<Slice>> cases = new ArrayList<>(List.of(OpCase.of(new Slice(s(), s()), s()),
                    OpCase.of(new Slice(s(1, 0), s(1, -1)), s(3, 4)), OpCase.of(new Slice(s(2), s(0)), s(2))));
            for (int i = 0; i < RANDOM_CASES; i++) {
                long[] shape = shape(r, 1, 3, true);
                long[] begin = new long[shape.length];
                long[] size = new long[shape.length];
                for (int a = 0; a < shape.length; a++) {
                    begin[a] = r.nextInt((int) shape[a] + 1);
                    size[a] = r.nextDouble() < 0.25 ? -1 : r.nextInt((int) (shape[a] - begin[a]) + 1);
                }
                cases.add(OpCase.of(new Slice(begin, size), shape));
            }
            return cases;
        };
    }

    /** {@code n} shapes equal except along the (possibly negative) axis, whose sizes may be 0. */
    static CaseGenerator<Axis> concats(int n) {
        return r -> {
            List<OpCase<Axis>> cases = new ArrayList<>(List.of(OpCase.of(new Axis(0), s(2), s(0), s(3)),
                    OpCase.of(new Axis(-1), s(2, 1), s(2, 3), s(2, 2))));
            for (int i = 0; i < RANDOM_CASES; i++) {
                long[] base = shape(r, 1, 3, true);
                int axis = r.nextInt(base.length);
                long[][] shapes = new long[n][];
                for (int j = 0; j < n; j++) {
                    shapes[j] = base.clone();
                    shapes[j][axis] = dim(r, true);
                }
                cases.add(OpCase.of(new Axis(r.nextBoolean() ? axis : axis - base.length), shapes));
            }
            return cases;
        };
    }

    /** {@code n} equal shapes and a new axis in [-(rank + 1), rank]. */
    static CaseGenerator<Axis> stacks(int n) {
        return r -> {
            List<OpCase<Axis>> cases = new ArrayList<>(List.of(OpCase.of(new Axis(0), s(), s(), s()),
                    OpCase.of(new Axis(-1), s(2), s(2), s(2))));
            for (int i = 0; i < RANDOM_CASES; i++) {
                long[] base = shape(r, 0, 2, true);
                long[][] shapes = new long[n][];
                Arrays.setAll(shapes, j -> base.clone());
                cases.add(OpCase.of(new Axis(r.nextInt(2 * base.length + 2) - base.length - 1), shapes));
            }
            return cases;
        };
    }

    /** Params of rank >= 1, an axis, and in-range indices of rank 0..2 with repeats. */
    static CaseGenerator<Gather> gathers() {
        return r -> {
            List<OpCase<Gather>> cases = new ArrayList<>(List.of(
                    OpCase.of(new Gather(new int[] {2, 0, 2}, s(3), 0), s(3)),
                    OpCase.of(new Gather(new int[] {1}, s(), -1), s(2, 3)),
                    OpCase.of(new Gather(new int[0], s(0), 0), s(2, 3)),
                    OpCase.of(new Gather(new int[] {1, 1, 0, 1}, s(2, 2), 1), s(2, 2, 2))));
            for (int i = 0; i < RANDOM_CASES; i++) {
                long[] params = shape(r, 1, 3, false);
                int axis = r.nextInt(params.length);
                long[] idxShape = shape(r, 0, 2, true);
                int[] idx = new int[(int) HostTensor.sizeOf(idxShape)];
                Arrays.setAll(idx, j -> r.nextInt((int) params[axis]));
                cases.add(OpCase.of(new Gather(idx, idxShape, r.nextBoolean() ? axis : axis - params.length), params));
            }
            return cases;
        };
    }

    /** Two inputs and a condition, all three broadcasting together. */
    static CaseGenerator<Condition> wheres() {
        return r -> {
            List<OpCase<Condition>> cases = new ArrayList<>(List.of(
                    OpCase.of(new Condition(new boolean[] {true, false, true}, s(3)), s(2, 3), s()),
                    OpCase.of(new Condition(new boolean[] {false}, s()), s(2), s(2)),
                    OpCase.of(new Condition(new boolean[] {true, false}, s(2, 1)), s(1, 3), s(3))));
            for (int i = 0; i < RANDOM_CASES; i++) {
                long[] out = shape(r, 0, 3, true);
                long[] condShape = broadcastableTo(r, out);
                boolean[] cond = new boolean[(int) HostTensor.sizeOf(condShape)];
                for (int j = 0; j < cond.length; j++) {
                    cond[j] = r.nextBoolean();
                }
                cases.add(OpCase.of(new Condition(cond, condShape), broadcastableTo(r, out), broadcastableTo(r, out)));
            }
            return cases;
        };
    }

    /** Labels of any shape and a depth; the labels' domain reaches outside [0, depth). */
    static CaseGenerator<Depth> oneHots() {
        return r -> {
            List<OpCase<Depth>> cases = new ArrayList<>(List.of(OpCase.of(new Depth(3), s()),
                    OpCase.of(new Depth(0), s(2)), OpCase.of(new Depth(4), s(0))));
            for (int i = 0; i < RANDOM_CASES; i++) {
                cases.add(OpCase.of(new Depth(1 + r.nextInt(3)), shape(r, 0, 2, true)));
            }
            return cases;
        };
    }

    /** A result shape at least the input's on every axis (0 to 2 more) and an offset that keeps the input inside. */
    static CaseGenerator<OpArgs.Pad> pads() {
        return r -> {
            List<OpCase<OpArgs.Pad>> cases = new ArrayList<>(List.of(OpCase.of(new OpArgs.Pad(s(), s()), s()),
                    OpCase.of(new OpArgs.Pad(s(5), s(1)), s(3)), OpCase.of(new OpArgs.Pad(s(2, 3), s(2, 0)), s(0, 3)),
                    OpCase.of(new OpArgs.Pad(s(2, 2), s(0, 0)), s(2, 2)),
                    OpCase.of(new OpArgs.Pad(s(3, 0, 4), s(1, 0, 2)), s(1, 0, 2))));
            for (int i = 0; i < RANDOM_CASES; i++) {
                long[] shape = shape(r, 0, 3, true);
                long[] out = new long[shape.length];
                long[] begin = new long[shape.length];
                for (int a = 0; a < shape.length; a++) {
                    long extra = r.nextInt(3);
                    out[a] = shape[a] + extra;
                    begin[a] = r.nextInt((int) extra + 1);
                }
                cases.add(OpCase.of(new OpArgs.Pad(out, begin), shape));
            }
            return cases;
        };
    }

    /**
     * A result shape of rank >= 1, an axis, in-range indices of rank 0..2 with repeats, and the updates' shape
     * (result dimensions before the axis, the indices' shape, those after).
     */
    static CaseGenerator<OpArgs.Scatter> scatterAdds() {
        return r -> {
            List<OpCase<OpArgs.Scatter>> cases = new ArrayList<>(List.of(
                    OpCase.of(new OpArgs.Scatter(s(3), 0, new int[] {2, 0, 2}, s(3)), s(3)),
                    OpCase.of(new OpArgs.Scatter(s(2, 3), -1, new int[] {1}, s()), s(2)),
                    OpCase.of(new OpArgs.Scatter(s(2, 3), 0, new int[0], s(0)), s(0, 3)),
                    OpCase.of(new OpArgs.Scatter(s(2, 2, 2), 1, new int[] {1, 1, 0, 1}, s(2, 2)), s(2, 2, 2, 2)),
                    OpCase.of(new OpArgs.Scatter(s(0, 2), 1, new int[] {1, 1}, s(2)), s(0, 2))));
            for (int i = 0; i < RANDOM_CASES; i++) {
                long[] shape = shape(r, 1, 3, true);
                int axis = r.nextInt(shape.length);
                shape[axis] = Math.max(1, shape[axis]);
                long[] idxShape = shape(r, 0, 2, true);
                int[] idx = new int[(int) HostTensor.sizeOf(idxShape)];
                Arrays.setAll(idx, j -> r.nextInt((int) shape[axis]));
                long[] updates = new long[shape.length - 1 + idxShape.length];
                System.arraycopy(shape, 0, updates, 0, axis);
                System.arraycopy(idxShape, 0, updates, axis, idxShape.length);
                System.arraycopy(shape, axis + 1, updates, axis + idxShape.length, shape.length - axis - 1);
                cases.add(OpCase.of(new OpArgs.Scatter(shape, r.nextBoolean() ? axis : axis - shape.length, idx,
                        idxShape), updates));
            }
            return cases;
        };
    }

    // ---- large cases: past the sizes where backends switch to vectorized, blocked or parallel kernels ----------

    /** One input: a long vector with a ragged tail and a matrix. */
    static CaseGenerator<Void> largeSingle() {
        return r -> List.of(OpCase.of(null, s(100_003)), OpCase.of(null, s(301, 257)));
    }

    /** Dense, row-broadcast, column-broadcast and scalar operands. */
    static CaseGenerator<Void> largeBroadcastPair() {
        return r -> List.of(OpCase.of(null, s(301, 257), s(301, 257)), OpCase.of(null, s(301, 257), s(257)),
                OpCase.of(null, s(301, 1), s(1, 257)), OpCase.of(null, s(), s(301, 257)),
                OpCase.of(null, s(301, 257), s()));
    }

    /** Whole-tensor, inner-axis, outer-axis and middle-axis reductions. */
    static CaseGenerator<Axes> largeReductions() {
        // 2^20 and rows of 40000: long, 4-aligned rows take the GPU's packed, unrolled row loop
        return r -> List.of(OpCase.of(new Axes(null, false), s(100_003)), OpCase.of(new Axes(null, false),
                s(1 << 20)), OpCase.of(new Axes(new int[] {-1}, true), s(301, 257)),
                OpCase.of(new Axes(new int[] {-1}, false), s(3, 40_000)),
                OpCase.of(new Axes(new int[] {0}, false), s(301, 257)),
                OpCase.of(new Axes(new int[] {1}, false), s(17, 129, 33)));
    }

    /** Inner and outer axes of a matrix. */
    static CaseGenerator<Axis> largeAxis() {
        return r -> List.of(OpCase.of(new Axis(-1), s(301, 257)), OpCase.of(new Axis(0), s(301, 257)),
                OpCase.of(new Axis(-1), s(3, 40_000)));
    }

    /** Products larger than a GEMM block, with ragged edges, batched and broadcast. */
    static CaseGenerator<Void> largeMatmul() {
        return r -> List.of(OpCase.of(null, s(129, 70), s(70, 131)), OpCase.of(null, s(3, 33, 65), s(65, 47)),
                OpCase.of(null, s(2, 1, 17, 40), s(3, 40, 19)));
    }
}
