package dev.nabla.graph;

import dev.nabla.DType;
import dev.nabla.Shape;
import dev.nabla.backend.Backend;
import dev.nabla.backend.Buffer;
import dev.nabla.backend.MatrixEpilogue;
import dev.nabla.backend.MatrixRuns;
import dev.nabla.backend.WindowGeometry;
import dev.nabla.ops.LinearAlgebra;
import dev.nabla.ops.Primitive;
import dev.nabla.ops.Shapes;
import java.util.ArrayList;
import java.util.List;

/**
 * Plan rewrites for matrix products and permutes, through {@link MatrixRuns}. A permute whose copy only matrix
 * products read is not copied; they read its source in place ({@link #apply}). A convolution's backward pass permutes
 * its output gradient {@code (N, O, H·W)} into the {@code (O, N·H·W)} matrix of the kernel gradient's product and of
 * the input gradient's: rows {@code H·W} apart, each row in runs of {@code H·W}. The products pack their operands
 * anyway, so they pack from the runs. The other way round, a product whose result only a permute reads writes the
 * permuted layout itself ({@link #applyToResults}): a convolution's forward product, permuted into NCHW. The bits are
 * those of the copies. Eager execution cannot do this: it runs the permutes as the tape recorded them.
 *
 * <p>Taken when every reader of the copy (through views) is an unbatched product that reads it as one operand, the
 * copy is no result of the plan, no side effect lies between the copy and its last reader (one may change a Variable
 * the copy reads), all run on one backend, and the copy's elements, in the row-major order of the operand's stored
 * matrix, are rows of runs: its shape, less size-1 dimensions and with dimensions that step through memory as one
 * merged, is {@code (rows, runs, run)} with stride 1 on the last, or {@code (rows, cols)} with stride 1 on the last.
 */
final class PermutedOperands {
    private PermutedOperands() {
    }

    /**
     * Before fusion: a product whose result only a permute reads (a convolution's forward product, permuted into
     * NCHW) writes its tiles straight into the permute's layout, and the permute goes; the chain after it (the bias
     * add and relu) then reads its input dense instead of through strides. Taken when the permute is a permutation of
     * the whole product, on its backend, and the product is no result of the plan.
     */
    static void applyToResults(List<Plan.Step> steps, int[] root, int[] results) {
        List<Integer> dropped = new ArrayList<>();
        for (int i = 0; i < steps.size(); i++) {
            Plan.Step s = steps.get(i);
            if (s.isEffect() || !isProduct(s.primitive) || RunsMatMul.of(s.primitive).outRuns() != null
                    || isResult(root[s.out], root, results)) {
                continue;
            }
            int reader = onlyReader(steps, i, root[s.out], root);
            if (reader < 0 || !(steps.get(reader).primitive instanceof Shapes.StridedCopy sc)
                    || steps.get(reader).backend != s.backend || sc.srcOffset() != 0) {
                continue;
            }
            long[] written = destinationStrides(sc);
            LinearAlgebra.MatMul mm = RunsMatMul.of(s.primitive).product();
            MatrixRuns runs = written == null ? null : runsOf(sc.from().dims(), written, mm.m(), mm.n());
            if (runs == null) {
                continue;
            }
            s.primitive = RunsMatMul.of(s.primitive).writing(runs);
            s.out = steps.get(reader).out;
            dropped.add(reader);
        }
        dropped.sort(null);
        for (int i = dropped.size() - 1; i >= 0; i--) {
            steps.remove((int) dropped.get(i));
        }
    }

    /** The one step after {@code from} that reads value root {@code r} (through views), or -1. */
    private static int onlyReader(List<Plan.Step> steps, int from, int r, int[] root) {
        int reader = -1;
        for (int i = from + 1; i < steps.size(); i++) {
            for (int v : steps.get(i).in) {
                if (v >= 0 && root[v] == r) {
                    if (reader >= 0) {
                        return -1;
                    }
                    reader = i;
                }
            }
        }
        return reader;
    }

    /**
     * Where each element of a permute's source lands in its result: per source dimension, its stride in the result
     * (0 for a dimension of size 1); null when the copy is no permutation of its whole source (a slice, a broadcast).
     */
    static long[] destinationStrides(Shapes.StridedCopy sc) {
        long[] from = sc.from().dims();
        long[] dense = sc.from().strides();
        long[] dims = sc.shape().dims();
        long[] out = sc.shape().strides();
        if (sc.from().size() != sc.shape().size()) {
            return null;
        }
        long[] written = new long[from.length];
        boolean[] matched = new boolean[from.length];
        for (int d = 0; d < dims.length; d++) {
            if (dims[d] == 1) {
                continue;
            }
            int e = 0;
            while (e < from.length && (matched[e] || from[e] != dims[d] || dense[e] != sc.srcStrides()[d])) {
                e++;
            }
            if (e == from.length) {
                return null;
            }
            matched[e] = true;
            written[e] = out[d];
        }
        for (int e = 0; e < from.length; e++) {
            if (from[e] != 1 && !matched[e]) {
                return null;
            }
        }
        return written;
    }

    /** After fusion: every permute that only products read is read by them in place (conditions above). */
    static void apply(List<Plan.Step> steps, int[] root, int[] results) {
        List<Integer> dropped = new ArrayList<>();
        for (int c = 0; c < steps.size(); c++) {
            Plan.Step copy = steps.get(c);
            if (copy.isEffect() || !(copy.primitive instanceof Shapes.StridedCopy sc) || sc.srcOffset() != 0
                    || sc.shape().size() == 0 || isResult(copy.out, root, results)) {
                continue;
            }
            List<int[]> reads = readers(steps, c, root);
            if (reads == null) {
                continue;
            }
            List<MatrixRuns> runs = new ArrayList<>();
            for (int[] read : reads) {
                MatrixRuns r = runsOf(sc, steps.get(read[0]), read[1]);
                if (r == null) {
                    break;
                }
                runs.add(r);
            }
            if (runs.size() != reads.size()) {
                continue;
            }
            for (int i = 0; i < reads.size(); i++) {
                Plan.Step s = steps.get(reads.get(i)[0]);
                int slot = reads.get(i)[1];
                s.primitive = RunsMatMul.of(s.primitive).reading(slot, runs.get(i));
                s.in = s.in.clone();
                s.in[slot] = copy.in[0];
            }
            dropped.add(c);
        }
        for (int i = dropped.size() - 1; i >= 0; i--) {
            steps.remove((int) dropped.get(i));
        }
    }

    static boolean isResult(int v, int[] root, int[] results) {
        for (int r : results) {
            if (root[r] == v) {
                return true;
            }
        }
        return false;
    }

    /**
     * The (step, operand slot) of each reader of copy {@code c}'s result, when all are products on the copy's
     * backend reading it as one operand and no effect lies between the copy and the last of them; else null.
     */
    static List<int[]> readers(List<Plan.Step> steps, int c, int[] root) {
        Plan.Step copy = steps.get(c);
        List<int[]> reads = new ArrayList<>();
        boolean effectSince = false;
        for (int i = c + 1; i < steps.size(); i++) {
            Plan.Step s = steps.get(i);
            int slots = 0;
            int slot = -1;
            for (int j = 0; j < s.in.length; j++) {
                if (s.in[j] >= 0 && root[s.in[j]] == copy.out) {
                    slots++;
                    slot = j;
                }
            }
            if (slots > 0 && (effectSince || s.isEffect() || slots != 1 || s.backend != copy.backend
                    || !isProduct(s.primitive))) {
                return null;
            }
            if (slots == 1) {
                reads.add(new int[] {i, slot});
            }
            effectSince |= s.isEffect();
        }
        return reads.isEmpty() ? null : reads;
    }

    static boolean isProduct(Primitive p) {
        return p instanceof RunsMatMul || p instanceof LinearAlgebra.MatMul mm && mm.batch().rank() == 0
                && mm.aShape().rank() == 2 && mm.bShape().rank() == 2;
    }

    /**
     * The runs through which the copy's source gives the operand in {@code slot} of product {@code s} (its stored
     * matrix in row-major order is the copy's elements in theirs), or null when they are no rows of runs.
     */
    static MatrixRuns runsOf(Shapes.StridedCopy sc, Plan.Step s, int slot) {
        LinearAlgebra.MatMul mm = RunsMatMul.of(s.primitive).product();
        Shape stored = slot == 0 ? mm.aShape() : mm.bShape();
        return runsOf(sc.shape().dims(), sc.srcStrides(), stored.dim(0), stored.dim(1));
    }

    /** {@link #runsOf(Shapes.StridedCopy, Plan.Step, int)} for a copy of {@code dims} read at {@code strides}. */
    static MatrixRuns runsOf(long[] dims, long[] strides, long rows, long cols) {
        if (rows < 1 || cols < 1) {
            return null;
        }
        // merge the dimensions that step through memory as one, dropping those of size 1
        long[] d = new long[dims.length + 1];
        long[] st = new long[dims.length + 1];
        int n = 0;
        d[n] = 1;                                   // a leading row dimension of 1 when rows = 1
        st[n++] = 0;
        for (int i = 0; i < dims.length; i++) {
            if (dims[i] == 1) {
                continue;
            }
            if (n > 1 && st[n - 1] == dims[i] * strides[i]) {
                d[n - 1] *= dims[i];
                st[n - 1] = strides[i];
            } else {
                d[n] = dims[i];
                st[n++] = strides[i];
            }
        }
        // (1, rows...) when rows > 1 starts at index 1
        int first = rows == 1 ? 0 : 1;
        int count = n - first;
        if (count < 2 || count > 3 || d[first] != rows || st[n - 1] != 1) {
            return null;
        }
        if (count == 2) {
            return d[first + 1] == cols ? new MatrixRuns(st[first], cols, 0) : null;
        }
        return d[first + 1] * d[first + 2] == cols ? new MatrixRuns(st[first], d[first + 2], st[first + 1]) : null;
    }

    /**
     * A plan's product with operands read, or its result written, through {@link MatrixRuns} ({@link Backend#matmul}
     * with runs), an operand read as the column matrix of its image where {@code aWindows} or {@code bWindows} is not
     * null ({@link ImageColumns}), and, where {@code epilogue} is not null, the bias add and relu after it done as it
     * writes its result ({@link ProductEpilogue}; the bias is its third input).
     */
    record RunsMatMul(LinearAlgebra.MatMul product, MatrixRuns aRuns, MatrixRuns bRuns, MatrixRuns outRuns,
            MatrixEpilogue epilogue, WindowGeometry aWindows, WindowGeometry bWindows) implements Primitive {
        static RunsMatMul of(Primitive p) {
            return p instanceof RunsMatMul r ? r
                    : new RunsMatMul((LinearAlgebra.MatMul) p, null, null, null, null, null, null);
        }

        RunsMatMul reading(int slot, MatrixRuns runs) {
            return slot == 0 ? new RunsMatMul(product, runs, bRuns, outRuns, epilogue, aWindows, bWindows)
                    : new RunsMatMul(product, aRuns, runs, outRuns, epilogue, aWindows, bWindows);
        }

        /** This product reading the operand in {@code slot} as the column matrix of an image of {@code g}. */
        RunsMatMul windowing(int slot, WindowGeometry g) {
            return slot == 0 ? new RunsMatMul(product, aRuns, bRuns, outRuns, epilogue, g, bWindows)
                    : new RunsMatMul(product, aRuns, bRuns, outRuns, epilogue, aWindows, g);
        }

        RunsMatMul writing(MatrixRuns runs) {
            return new RunsMatMul(product, aRuns, bRuns, runs, epilogue, aWindows, bWindows);
        }

        RunsMatMul finishing(MatrixEpilogue e) {
            return new RunsMatMul(product, aRuns, bRuns, outRuns, e, aWindows, bWindows);
        }

        @Override public String name() { return "matmul"; }
        @Override public Shape shape() { return product.shape(); }
        @Override public DType dtype() { return product.dtype(); }
        @Override public Recording recording() { return Recording.NONE; }
        @Override public String attributes() {
            String t = product.attributes();
            String runs = (aRuns != null ? " a=" + describe(aRuns) : "") + (bRuns != null ? " b=" + describe(bRuns) : "")
                    + (aWindows != null ? " a=" + describe(aWindows) : "")
                    + (bWindows != null ? " b=" + describe(bWindows) : "")
                    + (outRuns != null ? " out=" + describe(outRuns) : "")
                    + (epilogue != null ? " then=" + (epilogue.relu() ? "relu(" : "(") + (epilogue.biasFirst()
                    ? "bias + c" : "c + bias") + (epilogue.perRow() ? " per row)" : " per column)") : "");
            return t.isEmpty() ? runs.substring(1) : t + runs;
        }
        @Override public void compute(Backend backend, Buffer[] in, Buffer out) {
            if (aWindows != null || bWindows != null) {
                backend.matmul(in[0], aRuns, aWindows, product.transposeA(), in[1], bRuns, bWindows,
                        product.transposeB(), out, outRuns, product.m(), product.k(), product.n(), epilogue,
                        epilogue != null ? in[2] : null);
                return;
            }
            if (epilogue != null) {
                backend.matmul(in[0], aRuns, product.transposeA(), in[1], bRuns, product.transposeB(), out, outRuns,
                        product.m(), product.k(), product.n(), epilogue, in[2]);
                return;
            }
            backend.matmul(in[0], aRuns, product.transposeA(), in[1], bRuns, product.transposeB(), out, outRuns,
                    product.m(), product.k(), product.n());
        }

        private static String describe(WindowGeometry g) {
            return "im2col(kernel=(" + g.kernelH() + ", " + g.kernelW() + ") stride=" + g.stride() + " pad=("
                    + g.padTop() + ", " + g.padLeft() + "))";
        }

        private static String describe(MatrixRuns r) {
            return "runs(rowStride=" + r.rowStride() + " run=" + r.run() + " runStride=" + r.runStride() + ")";
        }
    }
}
