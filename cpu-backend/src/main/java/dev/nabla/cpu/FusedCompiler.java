package dev.nabla.cpu;

import static java.lang.constant.ConstantDescs.CD_Object;
import static java.lang.constant.ConstantDescs.CD_double;
import static java.lang.constant.ConstantDescs.CD_float;
import static java.lang.constant.ConstantDescs.CD_int;
import static java.lang.constant.ConstantDescs.CD_void;
import static java.lang.constant.ConstantDescs.INIT_NAME;
import static java.lang.constant.ConstantDescs.MTD_void;

import dev.nabla.DType;
import dev.nabla.backend.FusedProgram;
import dev.nabla.backend.BinaryOp;
import dev.nabla.backend.UnaryOp;
import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassHierarchyResolver;
import java.lang.classfile.CodeBuilder;
import java.lang.classfile.Label;
import java.lang.constant.ClassDesc;
import java.lang.constant.MethodTypeDesc;
import java.lang.invoke.MethodHandles;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Compiles a fused program into a class of its own whose loop computes the whole chain one vector at a time, every
 * intermediate in a register: one pass over memory with all inputs streaming at once, where the block interpreter
 * ({@link FusedKernels}) streams them step by step and measured about 0.6 of a plain Java loop on a
 * memory-bound chain. Each op is written with the very Vector API calls of its unfused vector form
 * ({@link FloatLanes}, {@link DoubleLanes}: same operations, same bits); only exact ops compile (the transcendentals'
 * vector forms differ from their scalar definitions, so they keep the interpreter's scalar path). A kernel does the
 * whole vectors of its range and returns how many elements that was; the caller finishes the tail.
 *
 * <pre>{@code
 * FusedCompiler.FloatKernel k = FusedCompiler.floatKernel(program, scalarInputs, false);  // null: not (yet)
 * int done = k.run(inputArrays, inputOffsets, out, outOffset, n);
 * }</pre>
 */
final class FusedCompiler {
    /** A compiled FLOAT32 program: elements {@code [0, returned)} of {@code n}; input k at {@code in[k][at[k] + i]}. */
    interface FloatKernel {
        int run(float[][] in, int[] at, float[] z, int zAt, int n);
    }

    /** A compiled FLOAT64 program, as {@link FloatKernel}. */
    interface DoubleKernel {
        int run(double[][] in, int[] at, double[] z, int zAt, int n);
    }

    /** Programs compiled at most (-Dnabla.cpu.fusedClasses): a trace has few; random tests make many. */
    private static final int MAX_CLASSES = Integer.getInteger("nabla.cpu.fusedClasses", 512);
    /**
     * Whether a kernel waits for the JIT before it is used (-Dnabla.cpu.fusedWarmup, default true). Until C2 has
     * compiled a new kernel its Vector API calls run their Java fallback, tens of times slower than the
     * interpreter's loops (a 2^20-element chain took about 1 s of calls at 70-300 ms each before its kernel was
     * hot), so a background thread calls it on 64 elements until it runs at compiled speed, and the interpreter
     * serves the program meanwhile.
     */
    private static final boolean WARM_UP = Boolean.parseBoolean(System.getProperty("nabla.cpu.fusedWarmup", "true"));
    /** Warm-up calls on 64 elements: past C2's invocation threshold (5,000), and the most before giving up. */
    private static final int WARM_CALLS = 6_000;
    private static final int MAX_WARM_CALLS = 200_000;
    /** A warm-up call under this many ns runs compiled code (the fallback takes µs per vector op). */
    private static final long HOT_NANOS = 1_000;
    /** A kernel per program structure; {@link #NONE} for one that does not compile. */
    private static final Map<Key, Object> KERNELS = new ConcurrentHashMap<>();
    private static final Object NONE = new Object();
    private static final ExecutorService WARMER = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "nabla-fused-warmup");
        t.setDaemon(true);
        return t;
    });

    private record Key(DType dtype, List<FusedProgram.Step> steps, List<Boolean> scalar) {
    }

    /** A compiled program, and whether the JIT has compiled its loop yet. */
    private static final class Compiled {
        final Object kernel;
        volatile boolean hot;

        Compiled(Object kernel) {
            this.kernel = kernel;
        }
    }

    private FusedCompiler() {
    }

    /**
     * The FLOAT32 kernel of {@code p} with its one-value inputs {@code scalar}; null when it does not compile, or
     * while it is still warming up unless {@code evenCold}.
     */
    static FloatKernel floatKernel(FusedProgram p, boolean[] scalar, boolean evenCold) {
        Compiled c = compiled(p, scalar);
        return c != null && (evenCold || c.hot) ? (FloatKernel) c.kernel : null;
    }

    /** The FLOAT64 kernel, as {@link #floatKernel}. */
    static DoubleKernel doubleKernel(FusedProgram p, boolean[] scalar, boolean evenCold) {
        Compiled c = compiled(p, scalar);
        return c != null && (evenCold || c.hot) ? (DoubleKernel) c.kernel : null;
    }

    private static Compiled compiled(FusedProgram p, boolean[] scalar) {
        Boolean[] flags = new Boolean[scalar.length];
        for (int i = 0; i < scalar.length; i++) {
            flags[i] = scalar[i];
        }
        Key key = new Key(p.dtype(), List.of(p.steps()), Arrays.asList(flags));
        Object k = KERNELS.get(key);
        if (k == null) {
            if (KERNELS.size() >= MAX_CLASSES) {
                return null;
            }
            k = KERNELS.computeIfAbsent(key, x -> {
                if (!compilable(p)) {
                    return NONE;
                }
                Compiled c = new Compiled(define(new Lanes(p.dtype()), p, scalar));
                if (WARM_UP) {
                    WARMER.execute(() -> warmUp(c, p.dtype(), scalar.length));
                } else {
                    c.hot = true;
                }
                return c;
            });
        }
        return k == NONE ? null : (Compiled) k;
    }

    /** Calls the kernel on 64 elements until a call runs at compiled speed; the kernel stays cold if none does. */
    private static void warmUp(Compiled c, DType dtype, int inputs) {
        int n = 64;
        int[] at = new int[inputs];
        boolean single = dtype == DType.FLOAT32;
        float[][] fin = single ? new float[inputs][n] : null;
        double[][] din = single ? null : new double[inputs][n];
        float[] fz = single ? new float[n] : null;
        double[] dz = single ? null : new double[n];
        for (int calls = 0; calls < MAX_WARM_CALLS; calls += 50) {
            long start = System.nanoTime();
            for (int i = 0; i < 50; i++) {
                if (single) {
                    ((FloatKernel) c.kernel).run(fin, at, fz, 0, n);
                } else {
                    ((DoubleKernel) c.kernel).run(din, at, dz, 0, n);
                }
            }
            if (calls >= WARM_CALLS && (System.nanoTime() - start) / 50 < HOT_NANOS) {
                c.hot = true;
                return;
            }
        }
    }

    /** True when every step has an exact vector form, the only ones a kernel writes. */
    static boolean compilable(FusedProgram p) {
        if (p.dtype() != DType.FLOAT32 && p.dtype() != DType.FLOAT64) {
            return false;
        }
        for (FusedProgram.Step s : p.steps()) {
            boolean ok = s.unary() != null
                    ? (p.dtype() == DType.FLOAT32 ? FloatLanes.isExact(s.unary()) : DoubleLanes.isExact(s.unary()))
                    : switch (s.binary()) {
                        case ADD, SUB, MUL, DIV, MAXIMUM, MINIMUM, RELU_GRADIENT -> true;
                        default -> false;
                    };
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    private static final ClassDesc CD_SPECIES = ClassDesc.of("jdk.incubator.vector.VectorSpecies");
    private static final ClassDesc CD_ANY_VECTOR = ClassDesc.of("jdk.incubator.vector.Vector");
    private static final ClassDesc CD_MASK = ClassDesc.of("jdk.incubator.vector.VectorMask");
    private static final ClassDesc CD_OPERATORS = ClassDesc.of("jdk.incubator.vector.VectorOperators");
    private static final ClassDesc CD_COMPARISON = ClassDesc.of("jdk.incubator.vector.VectorOperators$Comparison");
    private static final ClassDesc CD_TEST = ClassDesc.of("jdk.incubator.vector.VectorOperators$Test");

    /** The element type's names: FloatVector over float[] with FloatLanes.SPECIES, or DoubleVector with DoubleLanes.SPECIES. */
    private record Lanes(ClassDesc element, ClassDesc vector, ClassDesc array, ClassDesc speciesOwner,
            ClassDesc kernel) {
        Lanes(DType dtype) {
            this(dtype == DType.FLOAT32 ? CD_float : CD_double,
                    ClassDesc.of(dtype == DType.FLOAT32 ? "jdk.incubator.vector.FloatVector"
                            : "jdk.incubator.vector.DoubleVector"),
                    (dtype == DType.FLOAT32 ? CD_float : CD_double).arrayType(),
                    ClassDesc.of(dtype == DType.FLOAT32 ? "dev.nabla.cpu.FloatLanes" : "dev.nabla.cpu.DoubleLanes"),
                    ClassDesc.of(dtype == DType.FLOAT32 ? "dev.nabla.cpu.FusedCompiler$FloatKernel"
                            : "dev.nabla.cpu.FusedCompiler$DoubleKernel"));
        }

        boolean single() {
            return element.equals(CD_float);
        }

        void species(CodeBuilder c) {
            c.getstatic(speciesOwner, "SPECIES", CD_SPECIES);
        }

        void constant(CodeBuilder c, double v) {
            if (single()) {
                c.loadConstant((float) v);
            } else {
                c.loadConstant(v);
            }
        }

        /** Pushes a vector of {@code v} in every lane. */
        void broadcast(CodeBuilder c, double v) {
            species(c);
            constant(c, v);
            c.invokestatic(vector, "broadcast", MethodTypeDesc.of(vector, CD_SPECIES, element));
        }

        void invoke(CodeBuilder c, String name, ClassDesc... params) {
            c.invokevirtual(vector, name, MethodTypeDesc.of(vector, params));
        }

        /** Stack: vector → mask of {@code lanes op v}. */
        void compare(CodeBuilder c, String op, double v) {
            c.getstatic(CD_OPERATORS, op, CD_COMPARISON);
            constant(c, v);
            c.invokevirtual(vector, "compare", MethodTypeDesc.of(CD_MASK, CD_COMPARISON, element));
        }
    }

    /** Local variable slots of the generated {@code run}. */
    private static final int IN = 1;
    private static final int AT = 2;
    private static final int Z = 3;
    private static final int Z_AT = 4;
    private static final int N = 5;
    private static final int BOUND = 6;
    private static final int I = 7;
    private static final int FIRST_FREE = 8;

    private static Object define(Lanes l, FusedProgram p, boolean[] scalar) {
        int inputs = scalar.length;
        FusedProgram.Step[] steps = p.steps();
        // per input: its array, its offset, its broadcast vector; per step: its vector; then zero, one, a temporary
        int stepBase = FIRST_FREE + 3 * inputs;
        int zero = stepBase + steps.length;
        int one = zero + 1;
        int temp = one + 1;
        ClassDesc self = ClassDesc.of("dev.nabla.cpu.CompiledFusedProgram");
        MethodTypeDesc runType = MethodTypeDesc.of(CD_int, l.array().arrayType(), CD_int.arrayType(), l.array(), CD_int,
                CD_int);
        byte[] bytes = ClassFile.of(ClassFile.ClassHierarchyResolverOption.of(
                ClassHierarchyResolver.ofClassLoading(FusedCompiler.class.getClassLoader())))
                .build(self, cb -> {
                    cb.withFlags(ClassFile.ACC_FINAL | ClassFile.ACC_SYNTHETIC);
                    cb.withInterfaceSymbols(l.kernel());
                    cb.withMethodBody(INIT_NAME, MTD_void, ClassFile.ACC_PUBLIC,
                            c -> c.aload(0).invokespecial(CD_Object, INIT_NAME, MTD_void).return_());
                    cb.withMethodBody("run", runType, ClassFile.ACC_PUBLIC, c -> {
                        for (int k = 0; k < inputs; k++) {
                            c.aload(IN).loadConstant(k).aaload().astore(array(k));
                            c.aload(AT).loadConstant(k).iaload().istore(offset(k));
                            if (scalar[k]) {
                                l.species(c);
                                c.aload(array(k)).iload(offset(k));
                                if (l.single()) {
                                    c.faload();
                                } else {
                                    c.daload();
                                }
                                c.invokestatic(l.vector(), "broadcast",
                                        MethodTypeDesc.of(l.vector(), CD_SPECIES, l.element()));
                                c.astore(vector(k));
                            }
                        }
                        l.broadcast(c, 0);
                        c.astore(zero);
                        l.broadcast(c, 1);
                        c.astore(one);
                        l.species(c);
                        c.iload(N).invokeinterface(CD_SPECIES, "loopBound", MethodTypeDesc.of(CD_int, CD_int))
                                .istore(BOUND);
                        c.loadConstant(0).istore(I);
                        Label top = c.newLabel();
                        Label done = c.newLabel();
                        c.labelBinding(top);
                        c.iload(I).iload(BOUND).if_icmpge(done);
                        for (int k = 0; k < steps.length; k++) {
                            step(c, l, steps[k], scalar, stepBase, zero, one, temp);
                            c.astore(stepBase + k);
                        }
                        c.aload(stepBase + steps.length - 1).aload(Z).iload(Z_AT).iload(I).iadd();
                        c.invokevirtual(l.vector(), "intoArray", MethodTypeDesc.of(CD_void, l.array(), CD_int));
                        c.iload(I);
                        l.species(c);
                        c.invokeinterface(CD_SPECIES, "length", MethodTypeDesc.of(CD_int)).iadd().istore(I);
                        c.goto_(top);
                        c.labelBinding(done);
                        c.iload(BOUND).ireturn();
                    });
                });
        try {
            MethodHandles.Lookup hidden = MethodHandles.lookup().defineHiddenClass(bytes, true);
            return hidden.lookupClass().getConstructor().newInstance();
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("fused: could not define the kernel of " + p, e);
        }
    }

    private static int array(int k) {
        return FIRST_FREE + 3 * k;
    }

    private static int offset(int k) {
        return FIRST_FREE + 3 * k + 1;
    }

    private static int vector(int k) {
        return FIRST_FREE + 3 * k + 2;
    }

    /** Pushes operand {@code code}: a step's vector, an input's broadcast, or an input's vector at {@code i}. */
    private static void operand(CodeBuilder c, Lanes l, int code, boolean[] scalar, int stepBase) {
        if (code >= 0) {
            c.aload(stepBase + code);
            return;
        }
        int k = -1 - code;
        if (scalar[k]) {
            c.aload(vector(k));
            return;
        }
        l.species(c);
        c.aload(array(k)).iload(offset(k)).iload(I).iadd();
        c.invokestatic(l.vector(), "fromArray", MethodTypeDesc.of(l.vector(), CD_SPECIES, l.array(), CD_int));
    }

    /** Pushes the step's result vector: the same calls as the op's loop in FloatLanes/DoubleLanes. */
    private static void step(CodeBuilder c, Lanes l, FusedProgram.Step s, boolean[] scalar, int stepBase, int zero,
            int one, int temp) {
        if (s.binary() == BinaryOp.RELU_GRADIENT) {
            // zero.blend(b, a > 0)
            operand(c, l, s.b(), scalar, stepBase);
            c.astore(temp);
            c.aload(zero).aload(temp);
            operand(c, l, s.a(), scalar, stepBase);
            l.compare(c, "GT", 0);
            l.invoke(c, "blend", CD_ANY_VECTOR, CD_MASK);
            return;
        }
        if (s.binary() != null) {
            operand(c, l, s.a(), scalar, stepBase);
            operand(c, l, s.b(), scalar, stepBase);
            String name = switch (s.binary()) {
                case ADD -> "add";
                case SUB -> "sub";
                case MUL -> "mul";
                case DIV -> "div";
                case MAXIMUM -> "max";
                case MINIMUM -> "min";
                default -> throw new AssertionError(s.binary());
            };
            l.invoke(c, name, CD_ANY_VECTOR);
            return;
        }
        operand(c, l, s.a(), scalar, stepBase);
        c.astore(temp);
        switch (s.unary()) {
            case NEG, ABS, SQRT -> {
                c.aload(temp);
                l.invoke(c, s.unary().name().toLowerCase(java.util.Locale.ROOT));
            }
            case SQUARE -> {
                c.aload(temp).aload(temp);
                l.invoke(c, "mul", CD_ANY_VECTOR);
            }
            case RECIPROCAL -> {
                c.aload(one).aload(temp);
                l.invoke(c, "div", CD_ANY_VECTOR);
            }
            case RSQRT -> {
                c.aload(one).aload(temp);
                l.invoke(c, "sqrt");
                l.invoke(c, "div", CD_ANY_VECTOR);
            }
            case RELU -> {
                // zero.blend(v, v > 0 | isNaN(v))
                c.aload(zero).aload(temp).aload(temp);
                l.compare(c, "GT", 0);
                c.aload(temp).getstatic(CD_OPERATORS, "IS_NAN", CD_TEST);
                c.invokevirtual(l.vector(), "test", MethodTypeDesc.of(CD_MASK, CD_TEST));
                c.invokevirtual(CD_MASK, "or", MethodTypeDesc.of(CD_MASK, CD_MASK));
                l.invoke(c, "blend", CD_ANY_VECTOR, CD_MASK);
            }
            case SIGN -> {
                // v.blend(1, v > 0).blend(-1, v < 0)
                c.aload(temp);
                l.constant(c, 1);
                c.aload(temp);
                l.compare(c, "GT", 0);
                l.invoke(c, "blend", l.element(), CD_MASK);
                l.constant(c, -1);
                c.aload(temp);
                l.compare(c, "LT", 0);
                l.invoke(c, "blend", l.element(), CD_MASK);
            }
            default -> throw new AssertionError(s.unary());
        }
    }
}
