package dev.nabla.cuda;

import dev.nabla.DType;
import dev.nabla.backend.BinaryOp;
import dev.nabla.backend.FusedProgram;
import dev.nabla.backend.UnaryOp;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Renders a {@link FusedProgram} as the PTX text of one kernel, {@value #ENTRY}, which the driver JIT-compiles at
 * run time (no toolkit, no NVRTC). The kernel is a grid-stride loop over the dense output with 64-bit indices;
 * each external input is read as the {@link Layout} classified it: {@code DENSE} at the output's index,
 * {@code SCALAR} once before the loop, {@code STRIDED} through the merged shape's per-dimension index math (one
 * division per dimension per element, shared by every strided input).
 *
 * <p>Each step is the eager kernel's operation with the same IEEE meaning: arithmetic is written with explicit
 * {@code .rn} rounding, which ptxas never contracts into an FMA, so every step rounds to the dtype as the unfused
 * op does and the fused result is the unfused one bit for bit. Ops whose eager kernels call CUDA's math library
 * (exp, log, sin, cos, tanh, sigmoid, pow) call the same {@code nabla_<op>_<dtype>} function of the
 * {@link MathLibrary} that those kernels call; its text is copied into the module. A program is
 * {@link #declines declined} (and run step by step) only for a dtype other than FLOAT32/FLOAT64 or an op outside
 * the fusible set. {@link PtxInterpreter} runs exactly the instructions written here on the emulator.
 *
 * <pre>{@code
 * FusedPtx.Layout layout = FusedPtx.Layout.of(program);
 * String ptx = FusedPtx.render(program, layout);   // .entry fused(out, in0.., n, shape.., strides..)
 * }</pre>
 */
final class FusedPtx {
    /** The kernel's name in every rendered module. */
    static final String ENTRY = "fused";

    private FusedPtx() {
    }

    /** How the kernel reads one external input. */
    enum Access { DENSE, SCALAR, STRIDED }

    /**
     * The index space of a program after size-1 dimensions are dropped and neighbours every input walks
     * contiguously are merged (so dense inputs leave rank 1), and how each input is read in it.
     *
     * @param size    elements of the output
     * @param shape   the merged shape, outermost first
     * @param access  per external input
     * @param strides per external input, its element strides in the merged shape
     */
    record Layout(long size, long[] shape, Access[] access, long[][] strides) {
        static Layout of(FusedProgram p) {
            long[] full = p.shape();
            long[][] in = p.inputStrides();
            int k = in.length;
            long[] dims = new long[full.length];
            long[][] st = new long[k][full.length];
            int rank = 0;
            for (int d = full.length - 1; d >= 0; d--) { // innermost first, merging into the inner neighbour
                if (full[d] == 1) {
                    continue;
                }
                boolean merge = rank > 0;
                for (int j = 0; merge && j < k; j++) {
                    merge = in[j][d] == st[j][rank - 1] * dims[rank - 1];
                }
                if (merge) {
                    dims[rank - 1] *= full[d];
                    continue;
                }
                dims[rank] = full[d];
                for (int j = 0; j < k; j++) {
                    st[j][rank] = in[j][d];
                }
                rank++;
            }
            long[] shape = new long[rank];
            long[][] strides = new long[k][rank];
            for (int i = 0; i < rank; i++) {
                shape[i] = dims[rank - 1 - i];
                for (int j = 0; j < k; j++) {
                    strides[j][i] = st[j][rank - 1 - i];
                }
            }
            long[] dense = new long[rank];
            long step = 1;
            for (int i = rank - 1; i >= 0; i--) {
                dense[i] = step;
                step *= shape[i];
            }
            Access[] access = new Access[k];
            for (int j = 0; j < k; j++) {
                access[j] = Arrays.stream(strides[j]).allMatch(s -> s == 0) ? Access.SCALAR
                        : Arrays.equals(strides[j], dense) ? Access.DENSE : Access.STRIDED;
            }
            return new Layout(p.size(), shape, access, strides);
        }

        boolean anyStrided() {
            return Arrays.asList(access).contains(Access.STRIDED);
        }

        /** The kernel's parameters (8 bytes each): out, the inputs, n, and for strided reads the shape and strides. */
        int parameters() {
            int strided = (int) Arrays.stream(access).filter(a -> a == Access.STRIDED).count();
            return 2 + access.length + (strided > 0 ? shape.length * (1 + strided) : 0);
        }
    }

    /** Why the program is not rendered, or null when it is. */
    static String declines(FusedProgram p) {
        if (p.dtype() != DType.FLOAT32 && p.dtype() != DType.FLOAT64) {
            return "dtype " + p.dtype() + " (FLOAT32 and FLOAT64 only)";
        }
        for (FusedProgram.Step s : p.steps()) {
            Enum<?> op = s.unary() != null ? s.unary() : s.binary();
            if (!rendered(s, p.dtype())) {
                return op.name().toLowerCase(Locale.ROOT) + " (not a fusible op, or missing from the math library)";
            }
        }
        return null;
    }

    private static boolean rendered(FusedProgram.Step s, DType dtype) {
        if (s.unary() != null) {
            return switch (s.unary()) {
                case NEG, ABS, SIGN, SQRT, RSQRT, SQUARE, RECIPROCAL, RELU -> true;
                case EXP, LOG, SIN, COS, TANH, SIGMOID -> MathLibrary.shipped().defines(mathFunction(s.unary(), dtype));
                case LOGICAL_NOT -> false;
            };
        }
        return switch (s.binary()) {
            case ADD, SUB, MUL, DIV, MAXIMUM, MINIMUM, RELU_GRADIENT -> true;
            case POW -> MathLibrary.shipped().defines(mathFunction(s.binary(), dtype));
            default -> false;
        };
    }

    /** The math library's function of an op in a dtype ({@code nabla_exp_float32}). */
    static String mathFunction(Enum<?> op, DType dtype) {
        return MathLibrary.function(op.name().toLowerCase(Locale.ROOT), dtype.displayName());
    }

    /**
     * What the rendered text depends on: the dtype, the steps, each input's access and, when an input is strided,
     * the merged rank (sizes and strides are kernel parameters, so one kernel serves every shape of a structure).
     */
    static String key(FusedProgram p, Layout l) {
        StringBuilder sb = new StringBuilder(p.dtype().displayName());
        for (FusedProgram.Step s : p.steps()) {
            sb.append(' ').append(s.unary() != null ? s.unary() : s.binary()).append('(').append(s.a());
            if (s.binary() != null) {
                sb.append(',').append(s.b());
            }
            sb.append(')');
        }
        sb.append(' ').append(Arrays.toString(l.access()));
        if (l.anyStrided()) {
            sb.append(" rank ").append(l.shape().length);
        }
        return sb.toString();
    }

    /** Parameter names are prefixed, so none can clash with a PTX name. */
    private static final String PARAM_PREFIX = "fused_";

    /** The most parameters a kernel takes: 4 KiB of parameter space, which every GPU and driver accepts. */
    static final int MAX_PARAMETERS = 4096 / 8;

    /** The PTX ISA version and target of the rendered modules: those of the shipped PTX (see kernels/README.md). */
    static final String HEADER = ".version 9.0\n.target sm_75\n.address_size 64\n";

    /** The module's text: one {@value #ENTRY} kernel. */
    static String render(FusedProgram p, Layout l) {
        String why = declines(p);
        if (why != null) {
            throw new IllegalArgumentException("fused program " + p + " is not rendered as PTX: " + why);
        }
        return new Writer(p, l).write();
    }

    /** One rendering: registers are numbered as they are taken; the declarations come last, with the counts. */
    private static final class Writer {
        private final FusedProgram p;
        private final Layout l;
        private final boolean f64;
        private final String t;      // f32 / f64
        private final String b;      // b32 / b64: the bit pattern of a value
        private final String fr;     // float register prefix
        private final String ir;     // integer register prefix of the bit pattern
        private final StringBuilder code = new StringBuilder();
        private int nf;
        private int nrd;
        private int nr;
        private int np;
        private int calls;
        private final java.util.Set<String> library = new java.util.LinkedHashSet<>();

        Writer(FusedProgram p, Layout l) {
            this.p = p;
            this.l = l;
            this.f64 = p.dtype() == DType.FLOAT64;
            this.t = f64 ? "f64" : "f32";
            this.b = f64 ? "b64" : "b32";
            this.fr = f64 ? "%fd" : "%f";
            this.ir = f64 ? "%rd" : "%r";
        }

        private String f() {
            return fr + nf++;
        }

        private String rd() {
            return "%rd" + nrd++;
        }

        private String bits() {
            return f64 ? rd() : "%r" + nr++;
        }

        private String pred() {
            return "%p" + np++;
        }

        private void emit(String instruction) {
            code.append('\t').append(instruction).append(";\n");
        }

        private String constant(double v) {
            return f64 ? String.format(Locale.ROOT, "0d%016X", Double.doubleToRawLongBits(v))
                    : String.format(Locale.ROOT, "0f%08X", Float.floatToRawIntBits((float) v));
        }

        String write() {
            int inputs = l.access().length;
            int rank = l.shape().length;
            List<String> params = new ArrayList<>();
            params.add("out");
            for (int k = 0; k < inputs; k++) {
                params.add("in" + k);
            }
            params.add("n");
            boolean strided = l.anyStrided();
            if (strided) {
                for (int d = 0; d < rank; d++) {
                    params.add("shape" + d);
                }
                for (int k = 0; k < inputs; k++) {
                    if (l.access()[k] == Access.STRIDED) {
                        for (int d = 0; d < rank; d++) {
                            params.add("stride" + k + "_" + d);
                        }
                    }
                }
            }
            String out = load(params.get(0), true);
            String[] base = new String[inputs];
            for (int k = 0; k < inputs; k++) {
                base[k] = load("in" + k, true);
            }
            String n = load("n", false);
            String[] shape = new String[rank];
            String[][] strides = new String[inputs][];
            if (strided) {
                for (int d = 0; d < rank; d++) {
                    shape[d] = load("shape" + d, false);
                }
                for (int k = 0; k < inputs; k++) {
                    if (l.access()[k] == Access.STRIDED) {
                        strides[k] = new String[rank];
                        for (int d = 0; d < rank; d++) {
                            strides[k][d] = load("stride" + k + "_" + d, false);
                        }
                    }
                }
            }
            // i = blockIdx.x * blockDim.x + threadIdx.x; step = blockDim.x * gridDim.x (both 64-bit)
            String ctaid = "%r" + nr++;
            String ntid = "%r" + nr++;
            String tid = "%r" + nr++;
            String nctaid = "%r" + nr++;
            emit("mov.u32 " + ctaid + ", %ctaid.x");
            emit("mov.u32 " + ntid + ", %ntid.x");
            emit("mov.u32 " + tid + ", %tid.x");
            emit("mov.u32 " + nctaid + ", %nctaid.x");
            String i = rd();
            String tid64 = rd();
            String gridStep = rd();
            emit("mul.wide.u32 " + i + ", " + ctaid + ", " + ntid);
            emit("cvt.u64.u32 " + tid64 + ", " + tid);
            emit("add.s64 " + i + ", " + i + ", " + tid64);
            emit("mul.wide.u32 " + gridStep + ", " + ntid + ", " + nctaid);
            String[] value = new String[inputs];
            String done = pred();
            emit("setp.ge.s64 " + done + ", " + i + ", " + n);
            emit("@" + done + " bra DONE");
            for (int k = 0; k < inputs; k++) { // one value for every element: read once per thread
                if (l.access()[k] == Access.SCALAR) {
                    value[k] = f();
                    emit("ld.global." + t + " " + value[k] + ", [" + base[k] + "]");
                }
            }
            code.append("LOOP:\n");
            String[] offset = stridedOffsets(i, shape, strides);
            int shift = f64 ? 3 : 2;
            for (int k = 0; k < inputs; k++) {
                if (l.access()[k] != Access.SCALAR) {
                    String element = l.access()[k] == Access.DENSE ? i : offset[k];
                    value[k] = f();
                    emit("ld.global." + t + " " + value[k] + ", [" + address(base[k], element, shift) + "]");
                }
            }
            String[] result = new String[p.steps().length];
            for (int s = 0; s < result.length; s++) {
                FusedProgram.Step st = p.steps()[s];
                String a = st.a() >= 0 ? result[st.a()] : value[-1 - st.a()];
                result[s] = st.unary() != null ? unary(st.unary(), a)
                        : binary(st.binary(), a, st.b() >= 0 ? result[st.b()] : value[-1 - st.b()]);
            }
            emit("st.global." + t + " [" + address(out, i, shift) + "], " + result[result.length - 1]);
            emit("add.s64 " + i + ", " + i + ", " + gridStep);
            String more = pred();
            emit("setp.lt.s64 " + more + ", " + i + ", " + n);
            emit("@" + more + " bra LOOP");
            code.append("DONE:\n");
            emit("ret");

            StringBuilder sb = new StringBuilder();
            sb.append("// Nabla fused element-wise kernel: ").append(p.describe()).append(' ').append(p.dtype())
                    .append(", inputs ").append(Arrays.toString(l.access())).append('\n');
            sb.append(HEADER).append('\n');
            if (!library.isEmpty()) {
                sb.append("// the math library functions the steps call (fused_math.ptx)\n");
                sb.append(MathLibrary.shipped().closure(library)).append('\n');
            }
            sb.append(".visible .entry ").append(ENTRY).append("(\n");
            for (int j = 0; j < params.size(); j++) {
                sb.append("\t.param .u64 ").append(PARAM_PREFIX).append(params.get(j))
                        .append(j + 1 < params.size() ? ",\n" : "\n");
            }
            sb.append(")\n{\n");
            sb.append("\t.reg .pred %p<").append(Math.max(1, np)).append(">;\n");
            sb.append("\t.reg .b32 %r<").append(Math.max(1, nr)).append(">;\n");
            sb.append("\t.reg .b64 %rd<").append(Math.max(1, nrd)).append(">;\n");
            sb.append("\t.reg .").append(t).append(' ').append(fr).append('<').append(Math.max(1, nf)).append(">;\n");
            sb.append(code).append("}\n");
            return sb.toString();
        }

        /** A parameter into a register; a pointer is converted to a global address. */
        private String load(String param, boolean pointer) {
            String r = rd();
            emit("ld.param.u64 " + r + ", [" + PARAM_PREFIX + param + "]");
            if (pointer) {
                emit("cvta.to.global.u64 " + r + ", " + r);
            }
            return r;
        }

        private String address(String base, String element, int shift) {
            String bytes = rd();
            emit("shl.b64 " + bytes + ", " + element + ", " + shift);
            emit("add.s64 " + bytes + ", " + base + ", " + bytes);
            return bytes;
        }

        /** Per strided input, its element offset of output element {@code i}: innermost dimension first. */
        private String[] stridedOffsets(String i, String[] shape, String[][] strides) {
            String[] offset = new String[strides.length];
            if (!l.anyStrided()) {
                return offset;
            }
            for (int k = 0; k < strides.length; k++) {
                if (strides[k] != null) {
                    offset[k] = rd();
                    emit("mov.u64 " + offset[k] + ", 0");
                }
            }
            String q = rd();
            emit("mov.u64 " + q + ", " + i);
            for (int d = shape.length - 1; d >= 0; d--) {
                String idx;
                if (d > 0) {
                    String next = rd();
                    String whole = rd();
                    idx = rd();
                    emit("div.u64 " + next + ", " + q + ", " + shape[d]);
                    emit("mul.lo.s64 " + whole + ", " + next + ", " + shape[d]);
                    emit("sub.s64 " + idx + ", " + q + ", " + whole);
                    q = next;
                } else {
                    idx = q; // the outermost index is what is left
                }
                for (int k = 0; k < strides.length; k++) {
                    if (strides[k] != null) {
                        emit("mad.lo.s64 " + offset[k] + ", " + idx + ", " + strides[k][d] + ", " + offset[k]);
                    }
                }
            }
            return offset;
        }

        private String unary(UnaryOp op, String x) {
            String r = f();
            switch (op) {
                case NEG -> emit("neg." + t + " " + r + ", " + x);
                case ABS -> emit("abs." + t + " " + r + ", " + x);
                case SQRT -> emit("sqrt.rn." + t + " " + r + ", " + x);
                case SQUARE -> emit("mul.rn." + t + " " + r + ", " + x + ", " + x);
                case RECIPROCAL -> emit("rcp.rn." + t + " " + r + ", " + x);
                case RSQRT -> { // 1 / sqrt(x), two roundings, as the eager kernel (not the approximate rsqrt)
                    String root = f();
                    emit("sqrt.rn." + t + " " + root + ", " + x);
                    emit("rcp.rn." + t + " " + r + ", " + root);
                }
                case RELU -> { // x where x > 0 or NaN ("greater or unordered"), else +0
                    String keep = pred();
                    emit("setp.gtu." + t + " " + keep + ", " + x + ", " + constant(0));
                    emit("selp." + t + " " + r + ", " + x + ", " + constant(0) + ", " + keep);
                }
                case SIGN -> { // Math.signum: NaN and signed zeros come back unchanged
                    String positive = pred();
                    String negative = pred();
                    String partial = f();
                    emit("setp.gt." + t + " " + positive + ", " + x + ", " + constant(0));
                    emit("setp.lt." + t + " " + negative + ", " + x + ", " + constant(0));
                    emit("selp." + t + " " + partial + ", " + constant(-1) + ", " + x + ", " + negative);
                    emit("selp." + t + " " + r + ", " + constant(1) + ", " + partial + ", " + positive);
                }
                case EXP, LOG, SIN, COS, TANH, SIGMOID -> call(mathFunction(op, p.dtype()), r, x);
                default -> throw new IllegalArgumentException("not rendered: " + op);
            }
            return r;
        }

        /** A call of a math library function with nvcc's calling sequence: arguments and result in .param space. */
        private void call(String function, String result, String... args) {
            int site = calls++;
            code.append("\t{\n");
            StringBuilder list = new StringBuilder();
            for (int j = 0; j < args.length; j++) {
                String param = "arg" + site + "_" + j;
                emit(".param ." + b + " " + param);
                emit("st.param." + t + " [" + param + "], " + args[j]);
                list.append(j > 0 ? ", " : "").append(param);
            }
            String ret = "ret" + site;
            emit(".param ." + b + " " + ret);
            emit("call.uni (" + ret + "), " + function + ", (" + list + ")");
            emit("ld.param." + t + " " + result + ", [" + ret + "]");
            code.append("\t}\n");
            library.add(function);
        }

        private String binary(BinaryOp op, String a, String bv) {
            String r = f();
            switch (op) {
                case ADD -> emit("add.rn." + t + " " + r + ", " + a + ", " + bv);
                case SUB -> emit("sub.rn." + t + " " + r + ", " + a + ", " + bv);
                case MUL -> emit("mul.rn." + t + " " + r + ", " + a + ", " + bv);
                case DIV -> emit("div.rn." + t + " " + r + ", " + a + ", " + bv);
                case MAXIMUM -> javaMaxMin(r, a, bv, "gt", "and");
                case MINIMUM -> javaMaxMin(r, a, bv, "lt", "or");
                case RELU_GRADIENT -> { // b where a > 0 (not NaN), else +0
                    String positive = pred();
                    emit("setp.gt." + t + " " + positive + ", " + a + ", " + constant(0));
                    emit("selp." + t + " " + r + ", " + bv + ", " + constant(0) + ", " + positive);
                }
                case POW -> call(mathFunction(op, p.dtype()), r, a, bv);
                default -> throw new IllegalArgumentException("not rendered: " + op);
            }
            return r;
        }

        /**
         * Math.max/min (java_max/java_min in common.cuh), not PTX max/min, which return the other operand of a NaN:
         * a NaN operand wins (the first one first); equal operands are the same bits except for a pair of zeros, of
         * which max is the AND of the sign bits (+0 unless both are -0) and min the OR; else the greater (lesser).
         */
        private void javaMaxMin(String r, String a, String bv, String compare, String combine) {
            String pick = pred();
            emit("setp." + compare + "." + t + " " + pick + ", " + a + ", " + bv);
            emit("selp." + t + " " + r + ", " + a + ", " + bv + ", " + pick);
            String ia = bits();
            String ib = bits();
            String both = f();
            emit("mov." + b + " " + ia + ", " + a);
            emit("mov." + b + " " + ib + ", " + bv);
            emit(combine + "." + b + " " + ia + ", " + ia + ", " + ib);
            emit("mov." + b + " " + both + ", " + ia);
            String equal = pred();
            emit("setp.eq." + t + " " + equal + ", " + a + ", " + bv);
            emit("selp." + t + " " + r + ", " + both + ", " + r + ", " + equal);
            String bNan = pred();
            emit("setp.nan." + t + " " + bNan + ", " + bv + ", " + bv);
            emit("selp." + t + " " + r + ", " + bv + ", " + r + ", " + bNan);
            String aNan = pred();
            emit("setp.nan." + t + " " + aNan + ", " + a + ", " + a);
            emit("selp." + t + " " + r + ", " + a + ", " + r + ", " + aNan);
        }
    }
}
