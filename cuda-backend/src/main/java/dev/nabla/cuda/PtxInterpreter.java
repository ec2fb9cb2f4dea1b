package dev.nabla.cuda;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The emulator's JIT for PTX it has no host code for (the kernels {@link FusedPtx} renders at run time): it
 * "compiles" exactly the subset the renderer writes and runs it thread by thread, so CI executes the generated text
 * itself, not a second rendering of the program.
 *
 * <p>The subset: one {@code .visible .entry} with {@code .u64} parameters; {@code .reg} declarations; labels,
 * {@code bra} and {@code @%p}/{@code @!%p} guards; {@code ret}; {@code ld.param.u64}, {@code cvta.to.global.u64},
 * {@code mov} (special registers {@code %tid.x}, {@code %ntid.x}, {@code %ctaid.x}, {@code %nctaid.x}, immediates,
 * bit copies between float and integer registers), 64-bit integer {@code add sub mul.lo mad.lo div.u64 shl},
 * {@code mul.wide.u32}, {@code cvt.u64.u32}, {@code and}/{@code or} on {@code .b32}/{@code .b64},
 * {@code setp.{ge,lt}.s64}, and for {@code .f32}/{@code .f64}: {@code ld.global}, {@code st.global},
 * {@code add sub mul div sqrt rcp} with {@code .rn}, {@code neg}, {@code abs}, {@code setp.{eq,lt,gt,gtu,nan}},
 * {@code selp}. Float instructions are Java's float and double arithmetic, which is IEEE round-to-nearest-even
 * without flushing subnormals, as the {@code .rn} instructions without {@code .ftz} are. Calls of the math
 * library's functions ({@link MathLibrary}: their {@code .func} text precedes the kernel, called with nvcc's
 * sequence of {@code .param} variables, {@code st.param}, {@code call.uni}, {@code ld.param}) run the host build of
 * the same source ({@link HostFunctions}), which the eager kernels on the emulator call too; the functions' PTX text
 * itself is not interpreted. Anything else fails the load as a JIT error naming the statement, and a memory access
 * outside the buffers the launch's pointers point into, or misaligned, fails the launch, as a GPU's would.
 *
 * <pre>{@code
 * PtxInterpreter.Kernel k = PtxInterpreter.compile(ptx, hostFunctions);   // Unsupported if outside the subset
 * k.run(new long[] {out, in0, n}, 2, 256, new long[][] {{out, outEnd}, {in0, in0End}});
 * }</pre>
 */
final class PtxInterpreter {
    private static final Pattern ENTRY = Pattern.compile("\\.visible\\s+\\.entry\\s+(\\w+)\\s*\\(([^)]*)\\)\\s*\\{");
    private static final Pattern PARAM = Pattern.compile("\\.param\\s+\\.(u64|b64|s64)\\s+(\\w+)");
    private static final Pattern LABEL = Pattern.compile("^(\\w+):\\s*");
    private static final MemorySegment ALL = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);

    private PtxInterpreter() {
    }

    /** PTX outside the interpreter's subset: the emulator reports it as the JIT's failure. */
    static final class Unsupported extends RuntimeException {
        Unsupported(String message) {
            super(message);
        }
    }

    /** The host build of the functions a kernel may call: a downcall handle, or null when there is none. */
    interface HostFunctions {
        java.lang.invoke.MethodHandle find(String name, java.lang.foreign.FunctionDescriptor descriptor);
    }

    /** The special registers a thread reads. */
    private static final class Ids {
        long tid;
        long ntid;
        long ctaid;
        long nctaid;
    }

    /** One thread's state: registers (raw bits), the launch's ids and memory bounds. */
    private interface Exec {
        void run(long[] r, Ids ids, Launch launch);
    }

    private record Launch(long[] params, long[][] ranges) {
    }

    /** An instruction: an optional guard, and a branch target, a return or an operation. */
    private record Insn(int guard, boolean negate, int target, boolean ret, Exec exec, int line) {
    }

    /** A compiled kernel. */
    static final class Kernel {
        private final String name;
        private final List<String> params;
        private final Insn[] code;
        private final long[] initial;

        private Kernel(String name, List<String> params, Insn[] code, long[] initial) {
            this.name = name;
            this.params = params;
            this.code = code;
            this.initial = initial;
        }

        String name() {
            return name;
        }

        /** Parameter count (all 8 bytes). */
        int parameters() {
            return params.size();
        }

        /**
         * Runs a 1-D grid, block after block and thread after thread (the subset has no barriers); {@code ranges}
         * are the {@code [start, end)} byte ranges a thread may touch.
         */
        void run(long[] paramValues, int grid, int block, long[][] ranges) {
            Launch launch = new Launch(paramValues, ranges);
            Ids ids = new Ids();
            ids.ntid = block;
            ids.nctaid = grid;
            long[] regs = new long[initial.length];
            for (int b = 0; b < grid; b++) {
                ids.ctaid = b;
                for (int t = 0; t < block; t++) {
                    ids.tid = t;
                    System.arraycopy(initial, 0, regs, 0, regs.length);
                    execute(regs, ids, launch);
                }
            }
        }

        private void execute(long[] regs, Ids ids, Launch launch) {
            int pc = 0;
            while (true) {
                if (pc >= code.length) {
                    throw new IllegalStateException("kernel " + name + " ran past its last instruction");
                }
                Insn in = code[pc];
                if (in.guard >= 0 && (regs[in.guard] != 0) == in.negate) {
                    pc++;
                } else if (in.ret) {
                    return;
                } else if (in.target >= 0) {
                    pc = in.target;
                } else {
                    in.exec.run(regs, ids, launch);
                    pc++;
                }
            }
        }
    }

    /** Compiles a module of one kernel; throws {@link Unsupported} naming the first construct outside the subset. */
    static Kernel compile(String ptx, HostFunctions host) {
        String text = ptx.replaceAll("//[^\n]*", "");
        Matcher m = ENTRY.matcher(text);
        if (!m.find()) {
            throw new Unsupported("no .visible .entry kernel");
        }
        String name = m.group(1);
        java.util.Set<String> functions = new java.util.HashSet<>();
        try {
            for (MathLibrary.Item item : MathLibrary.items(text.substring(0, m.start()))) {
                if (item.function() && item.definition()) {
                    functions.add(item.name());
                }
            }
        } catch (IllegalArgumentException e) {
            throw new Unsupported("module-level text: " + e.getMessage());
        }
        List<String> params = new ArrayList<>();
        for (String p : m.group(2).split(",")) {
            if (p.isBlank()) {
                continue;
            }
            Matcher pm = PARAM.matcher(p.trim());
            if (!pm.matches()) {
                throw new Unsupported("parameter '" + p.trim() + "' (only .u64, .b64, .s64)");
            }
            params.add(pm.group(2));
        }
        int end = text.lastIndexOf('}');
        if (end < m.end() || !text.substring(end + 1).isBlank()) {
            throw new Unsupported("a module of more than one kernel body");
        }
        return new Compiler(name, params, functions, host).compile(text.substring(m.end(), end));
    }

    private static final class Compiler {
        private final String name;
        private final List<String> params;
        private final Map<String, Integer> registers = new HashMap<>();
        private final List<Long> initial = new ArrayList<>();
        private final Map<String, Integer> labels = new HashMap<>();
        private final List<Object[]> branches = new ArrayList<>(); // {insn index, label, line}
        private final java.util.Set<String> functions;
        private final HostFunctions host;
        private final Map<String, Integer> localBits = new HashMap<>(); // .param variables of call sequences
        private int line;

        Compiler(String name, List<String> params, java.util.Set<String> functions, HostFunctions host) {
            this.name = name;
            this.params = params;
            this.functions = functions;
            this.host = host;
        }

        Kernel compile(String body) {
            List<Insn> code = new ArrayList<>();
            for (String statement : body.split(";")) {
                String s = statement.trim();
                line++;
                boolean changed = true;
                while (changed) { // call sequences' scope braces carry no meaning here (their names are unique)
                    String before = s;
                    while (s.startsWith("{") || s.startsWith("}")) {
                        s = s.substring(1).trim();
                    }
                    Matcher label = LABEL.matcher(s);
                    if (label.find()) {
                        labels.put(label.group(1), code.size());
                        s = s.substring(label.end()).trim();
                    }
                    changed = !s.equals(before);
                }
                if (s.isEmpty() || s.startsWith(".reg")) {
                    continue;
                }
                if (s.startsWith(".param")) {
                    local(s);
                    continue;
                }
                code.add(instruction(s, code.size()));
            }
            Insn[] out = code.toArray(new Insn[0]);
            for (Object[] b : branches) {
                Integer target = labels.get((String) b[1]);
                if (target == null) {
                    throw new Unsupported("statement " + b[2] + ": branch to unknown label " + b[1]);
                }
                Insn old = out[(int) b[0]];
                out[(int) b[0]] = new Insn(old.guard, old.negate, target, false, null, old.line);
            }
            long[] init = initial.stream().mapToLong(Long::longValue).toArray();
            return new Kernel(name, params, out, init);
        }

        private int register(String operand) {
            if (!operand.startsWith("%") || operand.indexOf('.') >= 0) {
                throw new Unsupported("statement " + line + ": expected a register, got '" + operand + "'");
            }
            return registers.computeIfAbsent(operand, k -> {
                initial.add(0L);
                return initial.size() - 1;
            });
        }

        /** A register or an immediate (which becomes a register holding its bits). */
        private int source(String operand) {
            if (operand.startsWith("%")) {
                return register(operand);
            }
            long bits;
            if (operand.startsWith("0f") && operand.length() == 10) {
                bits = Integer.parseUnsignedInt(operand.substring(2), 16);
            } else if (operand.startsWith("0d") && operand.length() == 18) {
                bits = Long.parseUnsignedLong(operand.substring(2), 16);
            } else if (operand.matches("-?\\d+")) {
                bits = Long.parseLong(operand);
            } else {
                throw new Unsupported("statement " + line + ": operand '" + operand + "'");
            }
            initial.add(bits);
            return initial.size() - 1;
        }

        private static String address(String operand) {
            if (!operand.startsWith("[") || !operand.endsWith("]")) {
                throw new Unsupported("expected [address], got '" + operand + "'");
            }
            return operand.substring(1, operand.length() - 1).trim();
        }

        private Insn instruction(String s, int index) {
            int guard = -1;
            boolean negate = false;
            if (s.startsWith("@")) {
                int space = s.indexOf(' ');
                String g = s.substring(1, space);
                negate = g.startsWith("!");
                guard = register(negate ? g.substring(1) : g);
                s = s.substring(space + 1).trim();
            }
            int space = s.indexOf(' ');
            String op = space < 0 ? s : s.substring(0, space);
            String[] o = space < 0 ? new String[0] : s.substring(space + 1).split("\\s*,\\s*");
            for (int i = 0; i < o.length; i++) {
                o[i] = o[i].trim();
            }
            if (op.equals("ret")) {
                return new Insn(guard, negate, -1, true, null, line);
            }
            if (op.equals("call") || op.equals("call.uni")) {
                if (guard >= 0) {
                    throw new Unsupported("statement " + line + ": a guarded call");
                }
                return new Insn(-1, false, -1, false, call(s.substring(space + 1).trim()), line);
            }
            if (op.equals("bra") || op.equals("bra.uni")) {
                branches.add(new Object[] {index, o[0], line});
                return new Insn(guard, negate, -1, false, null, line); // target resolved at the end
            }
            return new Insn(guard, negate, -1, false, exec(op, o), line);
        }

        private static final Pattern LOCAL = Pattern.compile("\\.param\\s+\\.b(32|64)\\s+(\\w+)");
        private static final Pattern CALL = Pattern.compile("\\(\\s*(\\w+)\\s*\\)\\s*,\\s*(\\w+)\\s*,\\s*\\(([^)]*)\\)");

        /** A {@code .param .b32/.b64 name} variable of a call sequence: a register of its own. */
        private void local(String s) {
            Matcher m = LOCAL.matcher(s);
            if (!m.matches()) {
                throw new Unsupported("statement " + line + ": '" + s + "' (call-sequence .param .b32/.b64 only)");
            }
            localBits.put(m.group(2), Integer.parseInt(m.group(1)));
            registers.computeIfAbsent("param " + m.group(2), k -> {
                initial.add(0L);
                return initial.size() - 1;
            });
        }

        private int localRegister(String name) {
            Integer r = registers.get("param " + name);
            if (r == null) {
                throw new Unsupported("statement " + line + ": undeclared .param variable " + name);
            }
            return r;
        }

        /** {@code call.uni (ret), function, (args)}: the host function of the same name, float or double. */
        private Exec call(String text) {
            Matcher m = CALL.matcher(text);
            if (!m.matches()) {
                throw new Unsupported("statement " + line + ": call '" + text + "'");
            }
            String function = m.group(2);
            if (!functions.contains(function)) {
                throw new Unsupported("statement " + line + ": call of " + function + ", which the module does not "
                        + "define");
            }
            String[] args = m.group(3).isBlank() ? new String[0] : m.group(3).trim().split("\\s*,\\s*");
            int ret = localRegister(m.group(1));
            int bits = localBits.get(m.group(1));
            int[] a = new int[args.length];
            for (int i = 0; i < args.length; i++) {
                a[i] = localRegister(args[i]);
                if (localBits.get(args[i]) != bits) {
                    throw new Unsupported("statement " + line + ": call of " + function + " mixing widths");
                }
            }
            ValueLayout.OfFloat f32 = ValueLayout.JAVA_FLOAT;
            ValueLayout.OfDouble f64 = ValueLayout.JAVA_DOUBLE;
            java.lang.foreign.MemoryLayout[] argLayouts = new java.lang.foreign.MemoryLayout[args.length];
            java.util.Arrays.fill(argLayouts, bits == 32 ? f32 : f64);
            java.lang.foreign.FunctionDescriptor descriptor = java.lang.foreign.FunctionDescriptor.of(
                    bits == 32 ? f32 : f64, argLayouts);
            java.lang.invoke.MethodHandle h = host == null ? null : host.find(function, descriptor);
            if (h == null) {
                throw new Unsupported("statement " + line + ": call of " + function + ", which the emulator's host "
                        + "library does not export");
            }
            String where = "call of " + function;
            if (bits == 32 && a.length == 1) {
                return (r, ids, l) -> r[ret] = f(invoke(where, () -> (float) h.invokeExact(f(r[a[0]]))));
            } else if (bits == 32 && a.length == 2) {
                return (r, ids, l) -> r[ret] = f(invoke(where, () -> (float) h.invokeExact(f(r[a[0]]), f(r[a[1]]))));
            } else if (bits == 64 && a.length == 1) {
                return (r, ids, l) -> r[ret] = d(invokeD(where, () -> (double) h.invokeExact(d(r[a[0]]))));
            } else if (bits == 64 && a.length == 2) {
                return (r, ids, l) -> r[ret] = d(invokeD(where, () -> (double) h.invokeExact(d(r[a[0]]), d(r[a[1]]))));
            }
            throw new Unsupported("statement " + line + ": call of " + function + " with " + a.length + " arguments");
        }

        private interface FloatCall {
            float call() throws Throwable;
        }

        private interface DoubleCall {
            double call() throws Throwable;
        }

        private static float invoke(String where, FloatCall c) {
            try {
                return c.call();
            } catch (RuntimeException | Error e) {
                throw e;
            } catch (Throwable t) {
                throw new IllegalStateException(where, t);
            }
        }

        private static double invokeD(String where, DoubleCall c) {
            try {
                return c.call();
            } catch (RuntimeException | Error e) {
                throw e;
            } catch (Throwable t) {
                throw new IllegalStateException(where, t);
            }
        }

        private void arity(String op, String[] o, int n) {
            if (o.length != n) {
                throw new Unsupported("statement " + line + ": " + op + " with " + o.length + " operands");
            }
        }

        private Exec exec(String op, String[] o) {
            return switch (op) {
                case "ld.param.u64" -> {
                    arity(op, o, 2);
                    int d = register(o[0]);
                    int p = params.indexOf(address(o[1]));
                    if (p < 0) {
                        throw new Unsupported("statement " + line + ": unknown parameter " + o[1]);
                    }
                    yield (r, ids, l) -> r[d] = l.params()[p];
                }
                case "cvta.to.global.u64", "mov.u64", "mov.b32", "mov.b64", "mov.f32", "mov.f64" -> {
                    arity(op, o, 2);
                    int d = register(o[0]);
                    int a = source(o[1]);
                    yield (r, ids, l) -> r[d] = r[a];
                }
                case "mov.u32" -> {
                    arity(op, o, 2);
                    int d = register(o[0]);
                    yield switch (o[1]) {
                        case "%tid.x" -> (r, ids, l) -> r[d] = ids.tid;
                        case "%ntid.x" -> (r, ids, l) -> r[d] = ids.ntid;
                        case "%ctaid.x" -> (r, ids, l) -> r[d] = ids.ctaid;
                        case "%nctaid.x" -> (r, ids, l) -> r[d] = ids.nctaid;
                        default -> {
                            int a = source(o[1]);
                            yield (r, ids, l) -> r[d] = r[a] & 0xFFFFFFFFL;
                        }
                    };
                }
                case "mul.wide.u32" -> {
                    int[] x = operands(op, o, 3);
                    yield (r, ids, l) -> r[x[0]] = (r[x[1]] & 0xFFFFFFFFL) * (r[x[2]] & 0xFFFFFFFFL);
                }
                case "cvt.u64.u32" -> {
                    int[] x = operands(op, o, 2);
                    yield (r, ids, l) -> r[x[0]] = r[x[1]] & 0xFFFFFFFFL;
                }
                case "add.s64" -> {
                    int[] x = operands(op, o, 3);
                    yield (r, ids, l) -> r[x[0]] = r[x[1]] + r[x[2]];
                }
                case "sub.s64" -> {
                    int[] x = operands(op, o, 3);
                    yield (r, ids, l) -> r[x[0]] = r[x[1]] - r[x[2]];
                }
                case "mul.lo.s64" -> {
                    int[] x = operands(op, o, 3);
                    yield (r, ids, l) -> r[x[0]] = r[x[1]] * r[x[2]];
                }
                case "mad.lo.s64" -> {
                    int[] x = operands(op, o, 4);
                    yield (r, ids, l) -> r[x[0]] = r[x[1]] * r[x[2]] + r[x[3]];
                }
                case "div.u64" -> {
                    int[] x = operands(op, o, 3);
                    yield (r, ids, l) -> r[x[0]] = Long.divideUnsigned(r[x[1]], r[x[2]]);
                }
                case "shl.b64" -> {
                    int[] x = operands(op, o, 3);
                    yield (r, ids, l) -> r[x[0]] = r[x[1]] << Math.min(r[x[2]] & 0xFFFFFFFFL, 64);
                }
                case "and.b32" -> {
                    int[] x = operands(op, o, 3);
                    yield (r, ids, l) -> r[x[0]] = (int) r[x[1]] & (int) r[x[2]];
                }
                case "or.b32" -> {
                    int[] x = operands(op, o, 3);
                    yield (r, ids, l) -> r[x[0]] = (int) r[x[1]] | (int) r[x[2]];
                }
                case "and.b64" -> {
                    int[] x = operands(op, o, 3);
                    yield (r, ids, l) -> r[x[0]] = r[x[1]] & r[x[2]];
                }
                case "or.b64" -> {
                    int[] x = operands(op, o, 3);
                    yield (r, ids, l) -> r[x[0]] = r[x[1]] | r[x[2]];
                }
                case "setp.ge.s64" -> {
                    int[] x = operands(op, o, 3);
                    yield (r, ids, l) -> r[x[0]] = r[x[1]] >= r[x[2]] ? 1 : 0;
                }
                case "setp.lt.s64" -> {
                    int[] x = operands(op, o, 3);
                    yield (r, ids, l) -> r[x[0]] = r[x[1]] < r[x[2]] ? 1 : 0;
                }
                case "st.param.f32", "st.param.f64" -> {
                    arity(op, o, 2);
                    int d = localRegister(address(o[0]));
                    int v = source(o[1]);
                    yield (r, ids, l) -> r[d] = r[v];
                }
                case "ld.param.f32", "ld.param.f64" -> {
                    arity(op, o, 2);
                    int d = register(o[0]);
                    int v = localRegister(address(o[1]));
                    yield (r, ids, l) -> r[d] = r[v];
                }
                case "ld.global.f32", "ld.global.f64" -> {
                    arity(op, o, 2);
                    int d = register(o[0]);
                    int a = register(address(o[1]));
                    yield op.endsWith("32")
                            ? (r, ids, l) -> r[d] = ALL.get(ValueLayout.JAVA_INT_UNALIGNED, check(l, r[a], 4))
                            : (r, ids, l) -> r[d] = ALL.get(ValueLayout.JAVA_LONG_UNALIGNED, check(l, r[a], 8));
                }
                case "st.global.f32", "st.global.f64" -> {
                    arity(op, o, 2);
                    int a = register(address(o[0]));
                    int v = source(o[1]);
                    yield op.endsWith("32")
                            ? (r, ids, l) -> ALL.set(ValueLayout.JAVA_INT_UNALIGNED, check(l, r[a], 4), (int) r[v])
                            : (r, ids, l) -> ALL.set(ValueLayout.JAVA_LONG_UNALIGNED, check(l, r[a], 8), r[v]);
                }
                default -> op.endsWith(".f32") ? float32(op, o) : op.endsWith(".f64") ? float64(op, o)
                        : unsupported(op);
            };
        }

        private Exec unsupported(String op) {
            throw new Unsupported("statement " + line + ": instruction " + op + " is outside the emulator's PTX "
                    + "subset");
        }

        /** Destination register, then sources (registers or immediates). */
        private int[] operands(String op, String[] o, int n) {
            arity(op, o, n);
            int[] x = new int[n];
            x[0] = register(o[0]);
            for (int i = 1; i < n; i++) {
                x[i] = source(o[i]);
            }
            return x;
        }

        private static float f(long bits) {
            return Float.intBitsToFloat((int) bits);
        }

        private static long f(float v) {
            return Float.floatToRawIntBits(v);
        }

        private static double d(long bits) {
            return Double.longBitsToDouble(bits);
        }

        private static long d(double v) {
            return Double.doubleToRawLongBits(v);
        }

        private Exec float32(String op, String[] o) {
            return switch (op) {
                case "add.rn.f32" -> { int[] x = operands(op, o, 3); yield (r, i, l) -> r[x[0]] = f(f(r[x[1]]) + f(r[x[2]])); }
                case "sub.rn.f32" -> { int[] x = operands(op, o, 3); yield (r, i, l) -> r[x[0]] = f(f(r[x[1]]) - f(r[x[2]])); }
                case "mul.rn.f32" -> { int[] x = operands(op, o, 3); yield (r, i, l) -> r[x[0]] = f(f(r[x[1]]) * f(r[x[2]])); }
                case "div.rn.f32" -> { int[] x = operands(op, o, 3); yield (r, i, l) -> r[x[0]] = f(f(r[x[1]]) / f(r[x[2]])); }
                // the double square root of a float rounds to the float square root exactly (53 >= 2 * 24 + 2 bits)
                case "sqrt.rn.f32" -> { int[] x = operands(op, o, 2); yield (r, i, l) -> r[x[0]] = f((float) Math.sqrt(f(r[x[1]]))); }
                case "rcp.rn.f32" -> { int[] x = operands(op, o, 2); yield (r, i, l) -> r[x[0]] = f(1.0f / f(r[x[1]])); }
                case "neg.f32" -> { int[] x = operands(op, o, 2); yield (r, i, l) -> r[x[0]] = (int) r[x[1]] ^ 0x80000000; }
                case "abs.f32" -> { int[] x = operands(op, o, 2); yield (r, i, l) -> r[x[0]] = (int) r[x[1]] & 0x7FFFFFFF; }
                case "setp.eq.f32" -> { int[] x = operands(op, o, 3); yield (r, i, l) -> r[x[0]] = f(r[x[1]]) == f(r[x[2]]) ? 1 : 0; }
                case "setp.lt.f32" -> { int[] x = operands(op, o, 3); yield (r, i, l) -> r[x[0]] = f(r[x[1]]) < f(r[x[2]]) ? 1 : 0; }
                case "setp.gt.f32" -> { int[] x = operands(op, o, 3); yield (r, i, l) -> r[x[0]] = f(r[x[1]]) > f(r[x[2]]) ? 1 : 0; }
                case "setp.gtu.f32" -> { int[] x = operands(op, o, 3); yield (r, i, l) -> r[x[0]] = !(f(r[x[1]]) <= f(r[x[2]])) ? 1 : 0; }
                case "setp.nan.f32" -> { int[] x = operands(op, o, 3); yield (r, i, l) -> r[x[0]] = Float.isNaN(f(r[x[1]])) || Float.isNaN(f(r[x[2]])) ? 1 : 0; }
                case "selp.f32" -> { int[] x = operands(op, o, 4); yield (r, i, l) -> r[x[0]] = r[x[3]] != 0 ? r[x[1]] : r[x[2]]; }
                default -> unsupported(op);
            };
        }

        private Exec float64(String op, String[] o) {
            return switch (op) {
                case "add.rn.f64" -> { int[] x = operands(op, o, 3); yield (r, i, l) -> r[x[0]] = d(d(r[x[1]]) + d(r[x[2]])); }
                case "sub.rn.f64" -> { int[] x = operands(op, o, 3); yield (r, i, l) -> r[x[0]] = d(d(r[x[1]]) - d(r[x[2]])); }
                case "mul.rn.f64" -> { int[] x = operands(op, o, 3); yield (r, i, l) -> r[x[0]] = d(d(r[x[1]]) * d(r[x[2]])); }
                case "div.rn.f64" -> { int[] x = operands(op, o, 3); yield (r, i, l) -> r[x[0]] = d(d(r[x[1]]) / d(r[x[2]])); }
                case "sqrt.rn.f64" -> { int[] x = operands(op, o, 2); yield (r, i, l) -> r[x[0]] = d(Math.sqrt(d(r[x[1]]))); }
                case "rcp.rn.f64" -> { int[] x = operands(op, o, 2); yield (r, i, l) -> r[x[0]] = d(1.0 / d(r[x[1]])); }
                case "neg.f64" -> { int[] x = operands(op, o, 2); yield (r, i, l) -> r[x[0]] = r[x[1]] ^ Long.MIN_VALUE; }
                case "abs.f64" -> { int[] x = operands(op, o, 2); yield (r, i, l) -> r[x[0]] = r[x[1]] & Long.MAX_VALUE; }
                case "setp.eq.f64" -> { int[] x = operands(op, o, 3); yield (r, i, l) -> r[x[0]] = d(r[x[1]]) == d(r[x[2]]) ? 1 : 0; }
                case "setp.lt.f64" -> { int[] x = operands(op, o, 3); yield (r, i, l) -> r[x[0]] = d(r[x[1]]) < d(r[x[2]]) ? 1 : 0; }
                case "setp.gt.f64" -> { int[] x = operands(op, o, 3); yield (r, i, l) -> r[x[0]] = d(r[x[1]]) > d(r[x[2]]) ? 1 : 0; }
                case "setp.gtu.f64" -> { int[] x = operands(op, o, 3); yield (r, i, l) -> r[x[0]] = !(d(r[x[1]]) <= d(r[x[2]])) ? 1 : 0; }
                case "setp.nan.f64" -> { int[] x = operands(op, o, 3); yield (r, i, l) -> r[x[0]] = Double.isNaN(d(r[x[1]])) || Double.isNaN(d(r[x[2]])) ? 1 : 0; }
                case "selp.f64" -> { int[] x = operands(op, o, 4); yield (r, i, l) -> r[x[0]] = r[x[3]] != 0 ? r[x[1]] : r[x[2]]; }
                default -> unsupported(op);
            };
        }

        /** The address, when the access is aligned and inside a buffer of the launch; else the launch fails. */
        private static long check(Launch l, long address, int bytes) {
            if (address % bytes != 0) {
                throw new CudaException(716, "misaligned address 0x" + Long.toHexString(address)
                        + " (CUDA_ERROR_MISALIGNED_ADDRESS)");
            }
            for (long[] range : l.ranges()) {
                if (address >= range[0] && address + bytes <= range[1]) {
                    return address;
                }
            }
            throw new CudaException(700, "illegal address 0x" + Long.toHexString(address) + " (" + bytes
                    + " bytes) outside every buffer of the launch (CUDA_ERROR_ILLEGAL_ADDRESS)");
        }
    }
}
