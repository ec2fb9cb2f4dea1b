package dev.nabla.conformance.graph;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nabla.DType;
import dev.nabla.Device;
import dev.nabla.GradientTape;
import dev.nabla.Nabla;
import dev.nabla.Tensor;
import dev.nabla.Variable;
import dev.nabla.conformance.OnEachDevice;
import dev.nabla.graph.GraphFunction;
import dev.nabla.graph.TracedFunction;
import dev.nabla.optim.SGD;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.Function;

/** Fused element-wise chains against the unfused ops (eager), bit for bit, on random programs and inputs. */
class FusionTest {
    private static final String[] UNARY = {"neg", "abs", "exp", "log", "sqrt", "square", "sin", "tanh", "sigmoid",
        "relu", "reciprocal", "rsqrt", "cos", "sign"};
    private static final String[] BINARY = {"add", "sub", "mul", "div", "maximum", "minimum", "pow"};

    private static Tensor unary(String op, Tensor x) {
        return switch (op) {
            case "neg" -> x.neg();
            case "abs" -> x.abs();
            case "exp" -> x.exp();
            case "log" -> x.log();
            case "sqrt" -> x.sqrt();
            case "square" -> x.square();
            case "sin" -> x.sin();
            case "tanh" -> x.tanh();
            case "sigmoid" -> x.sigmoid();
            case "relu" -> x.relu();
            case "reciprocal" -> x.reciprocal();
            case "rsqrt" -> x.rsqrt();
            case "cos" -> x.cos();
            default -> x.sign();
        };
    }

    private static Tensor binary(String op, Tensor a, Tensor b) {
        return switch (op) {
            case "add" -> a.add(b);
            case "sub" -> a.sub(b);
            case "mul" -> a.mul(b);
            case "div" -> a.div(b);
            case "maximum" -> a.maximum(b);
            case "minimum" -> a.minimum(b);
            default -> a.pow(b);
        };
    }

    /** A random expression over four inputs: (m, k), a (k) row, an (m, 1) column and a scalar, from a seed. */
    private static Function<Tensor[], Tensor> program(long seed, List<String> text) {
        Random r = new Random(seed);
        int length = 2 + r.nextInt(8);
        String[] ops = new String[length];
        int[] operand = new int[length];
        for (int i = 0; i < length; i++) {
            boolean isUnary = r.nextBoolean();
            ops[i] = isUnary ? UNARY[r.nextInt(UNARY.length)] : BINARY[r.nextInt(BINARY.length)];
            operand[i] = isUnary ? -1 : r.nextInt(4);
        }
        text.add(Arrays.toString(ops) + " " + Arrays.toString(operand));
        return in -> {
            Tensor x = in[0];
            for (int i = 0; i < length; i++) {
                x = operand[i] < 0 ? unary(ops[i], x) : (i % 2 == 0 ? binary(ops[i], x, in[operand[i]])
                        : binary(ops[i], in[operand[i]], x));
            }
            return x;
        };
    }

    /** Gaussians times 3, one in twenty of them 0, of {@code shape} and dtype {@code t} on {@code d}. */
    static Tensor random(Device d, DType t, Random r, long... shape) {
        long n = 1;
        for (long s : shape) {
            n *= s;
        }
        double[] v = new double[(int) n];
        for (int i = 0; i < v.length; i++) {
            v[i] = r.nextInt(20) == 0 ? 0 : r.nextGaussian() * 3;
        }
        Tensor x = Tensor.of(d, v, shape);
        return t == DType.FLOAT64 ? x : x.to(t);
    }

    @OnEachDevice
    void fusedChainsEqualTheUnfusedOpsBitForBit(Device d) {
        Random values = new Random(11);
        int fusedPrograms = 0;
        for (DType t : List.of(DType.FLOAT32, DType.FLOAT64)) {
            for (long seed = 0; seed < 40; seed++) {
                List<String> text = new ArrayList<>();
                Function<Tensor[], Tensor> body = program(seed, text);
                // one in five large: three fused blocks of 8,192 and a partial one (split across threads in the width
                // runs)
                long m = seed % 5 == 0 ? 101 : 1 + seed % 7;
                long k = seed % 5 == 0 ? 257 : 1 + seed * 5;
                TracedFunction f = GraphFunction.of("chain", 4, body);
                for (int call = 0; call < 3; call++) {
                    Tensor[] in = {random(d, t, values, m, k), random(d, t, values, k), random(d, t, values, m, 1),
                        random(d, t, values)};
                    Tensor eager = body.apply(in);
                    Tensor traced = f.call(in);
                    assertArrayEquals(eager.toDoubleArray(), traced.toDoubleArray(), t + " " + text + " call " + call);
                    assertArrayEquals(eager.toFloatArray(), traced.toFloatArray());
                }
                fusedPrograms += f.listing().contains("= fused(") ? 1 : 0;
                assertEquals(1, f.traceCount());
            }
        }
        assertTrue(fusedPrograms > 40, "fused " + fusedPrograms + " of 80 programs");
    }

    /**
     * A random tree of element-wise ops (each intermediate read once, so the whole tree fuses into one program whose
     * steps keep several intermediates alive at a time) over the four inputs of {@link #program}.
     */
    private static Function<Tensor[], Tensor> tree(long seed, List<String> text) {
        Random r = new Random(seed);
        int length = 3 + r.nextInt(10);
        long[] draws = new long[length];
        for (int i = 0; i < length; i++) {
            draws[i] = r.nextLong();
        }
        text.add("tree " + seed);
        return in -> {
            List<Tensor> pending = new ArrayList<>();
            for (int i = 0; i < length; i++) {
                Random step = new Random(draws[i]);
                Tensor a = !pending.isEmpty() && step.nextBoolean() ? pending.remove(step.nextInt(pending.size()))
                        : in[step.nextInt(4)];
                if (step.nextInt(3) == 0) {
                    pending.add(unary(UNARY[step.nextInt(UNARY.length)], a));
                    continue;
                }
                Tensor b = !pending.isEmpty() && step.nextBoolean() ? pending.remove(step.nextInt(pending.size()))
                        : in[step.nextInt(4)];
                pending.add(binary(BINARY[step.nextInt(BINARY.length)], a, b));
            }
            Tensor x = pending.remove(0).add(in[0]);    // the (m, k) shape, whatever the tree made
            while (!pending.isEmpty()) {
                x = x.mul(pending.remove(pending.size() - 1));
            }
            return x;
        };
    }

    @OnEachDevice
    void fusedTreesEqualTheUnfusedOpsBitForBit(Device d) {
        Random values = new Random(13);
        for (DType t : List.of(DType.FLOAT32, DType.FLOAT64)) {
            for (long seed = 0; seed < 30; seed++) {
                List<String> text = new ArrayList<>();
                Function<Tensor[], Tensor> body = tree(seed, text);
                long m = 1 + seed % 4;
                long k = seed % 3 == 0 ? 9000 : 1 + seed;
                TracedFunction f = GraphFunction.of("tree", 4, body);
                for (int call = 0; call < 2; call++) {
                    Tensor[] in = {random(d, t, values, m, k), random(d, t, values, k), random(d, t, values, m, 1),
                        random(d, t, values)};
                    double[] eager = body.apply(in).toDoubleArray();
                    assertArrayEquals(eager, f.call(in).toDoubleArray(), t + " " + text + " call " + call);
                }
            }
        }
    }

    /**
     * A chain ending in a sum: over the last axis, all axes, kept dims, the first axis (not fused: not the last axes)
     * and a mean, on shapes with empty and one-element dimensions and rows longer than one or two summation blocks
     * of the CPU (4096 elements) or many rows to a block, against the unfused ops bit for bit.
     */
    @OnEachDevice
    void chainsEndingInASumEqualTheUnfusedOpsBitForBit(Device d) {
        Random values = new Random(17);
        long[][] shapes = {{3, 5}, {1, 1}, {4, 1}, {1, 9}, {0, 4}, {3, 0}, {2, 4096}, {3, 4103}, {1, 8193}, {1200, 33}};
        int fused = 0;
        for (DType t : List.of(DType.FLOAT32, DType.FLOAT64)) {
            for (long seed = 0; seed < 30; seed++) {
                List<String> text = new ArrayList<>();
                Function<Tensor[], Tensor> chain = program(100 + seed, text);
                int reduction = (int) ((seed + seed / 10) % 5);   // each shape meets three reductions
                boolean oneOp = seed % 3 == 0;
                Function<Tensor[], Tensor> body = in -> {
                    Tensor x = oneOp ? in[0].square() : chain.apply(in);
                    return switch (reduction) {
                        case 0 -> x.sum(1);
                        case 1 -> x.sum();
                        case 2 -> x.sum(new int[] {1}, true);
                        case 3 -> x.sum(0);
                        default -> x.mean();
                    };
                };
                long[] shape = shapes[(int) (seed % shapes.length)];
                long m = shape[0];
                long k = shape[1];
                TracedFunction f = GraphFunction.of("chainThenSum", 4, body);
                for (int call = 0; call < 3; call++) {
                    Tensor[] in = {random(d, t, values, m, k), random(d, t, values, k), random(d, t, values, m, 1),
                        random(d, t, values)};
                    double[] eager = body.apply(in).toDoubleArray();
                    String what = t + " " + Arrays.toString(shape) + " reduction " + reduction + " "
                            + (oneOp ? "[square]" : text.get(0)) + " call " + call;
                    assertArrayEquals(eager, f.call(in).toDoubleArray(), what);
                }
                fused += f.listing().contains("= fused_sum(") ? 1 : 0;
            }
        }
        assertTrue(fused > 20, "fused " + fused + " of 60 programs");
    }

    /**
     * A plan is built at the second call, which here runs inside a memory scope (as each step of {@code ./nabla
     * mnist} does): its planned buffers belong to the plan, not to that scope, so later calls still find them.
     */
    @OnEachDevice
    void aPlanBuiltInsideAScopeOutlivesTheScope(Device d) {
        Random r = new Random(21);
        Tensor x = random(d, DType.FLOAT32, r, 64, 300);
        Variable v = new Variable(random(d, DType.FLOAT32, r, 64, 300), "v", false);
        Function<Tensor[], Tensor> body = in -> {
            Tensor h = in[0].mul(v).tanh();
            v.assign(h.add(v).mul(0.5));
            return h.sum(1).add(in[0].sum(1));
        };
        Variable e = new Variable(v, "e", false);
        Function<Tensor[], Tensor> eagerBody = in -> {
            Tensor h = in[0].mul(e).tanh();
            e.assign(h.add(e).mul(0.5));
            return h.sum(1).add(in[0].sum(1));
        };
        TracedFunction f = GraphFunction.of("scoped", 1, body);
        for (int call = 0; call < 4; call++) {
            try (dev.nabla.Scope scope = Nabla.scope()) {
                float[] eager = eagerBody.apply(new Tensor[] {x}).toFloatArray();
                assertArrayEquals(eager, f.call(x).toFloatArray(), "call " + call);
                assertArrayEquals(e.toFloatArray(), v.toFloatArray(), "call " + call);
            }
        }
        assertTrue(f.listing().contains("planned buffers"), f.listing());
    }

    /** The replayed plan's part of a listing. */
    static String plan(TracedFunction f) {
        String listing = f.listing();
        int at = listing.indexOf("replayed without a tape");
        assertTrue(at >= 0, listing);
        return listing.substring(at);
    }

    /**
     * A permute or broadcast whose copy only a fused chain reads is read through strides by the fused step (the
     * plan has no copy), with eager's bits; so is a reshape of it that strides can express (a convolution's product
     * split back into rows); a reshape they cannot, a copy read elsewhere too, or one an assign separates from the
     * chain keeps its copy, and so does a copy the chain reads both ways.
     */
    @OnEachDevice
    void copiesThatOnlyAFusedChainReadsAreReadThroughStrides(Device d) {
        Random r = new Random(5);
        for (DType t : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            Tensor product = random(d, t, r, 4, 3, 10);
            Tensor bias = random(d, t, r, 1, 4, 1, 1);
            Tensor row = random(d, t, r, 10);
            check(true, "conv output", in -> in[0].permute(1, 0, 2).reshape(3, 4, 2, 5).add(in[1]).relu(), product,
                    bias);
            check(true, "broadcast", in -> in[1].broadcastTo(3, 4, 10).mul(in[0]).neg(), product.permute(1, 0, 2),
                    row);
            check(true, "transpose", in -> in[0].reshape(12, 10).permute(1, 0).exp().add(in[0].sum()), product,
                    bias);
            check(false, "merged across the permute", in -> in[0].permute(0, 2, 1).reshape(4, 30).abs().sqrt(),
                    product, bias);
            check(false, "read twice", in -> {
                Tensor p = in[0].permute(2, 1, 0);
                return p.square().add(p.sum());
            }, product, bias);
            // the chain reads the copy directly and through a reshape strides cannot express: the copy stays for
            // both (absorbed for the first, it was computed for neither; fuzz seed 82214391477215, program 867659)
            check(false, "read as is and merged", in -> {
                Tensor p = in[0].permute(2, 0, 1);
                return p.sub(p.reshape(120)).neg().exp();
            }, product.reshape(4, 1, 30), bias);
            Variable v = new Variable(random(d, t, r, 4, 3, 10), "v", false);
            Variable e = new Variable(v, "e", false);
            TracedFunction f = GraphFunction.of("assign between", 1, in -> {
                Tensor p = v.permute(1, 0, 2);
                v.assign(in[0]);
                return p.add(in[0].permute(1, 0, 2)).tanh();
            });
            for (int call = 0; call < 3; call++) {
                Tensor p = e.permute(1, 0, 2);
                e.assign(product);
                double[] eager = p.add(product.permute(1, 0, 2)).tanh().toDoubleArray();
                assertArrayEquals(eager, f.call(product).toDoubleArray(), "call " + call);
            }
            assertTrue(plan(f).contains("permute("), f.listing());
        }
    }

    private static void check(boolean absorbed, String name, Function<Tensor[], Tensor> body, Tensor... in) {
        TracedFunction f = GraphFunction.of(name, in.length, body);
        double[] eager = body.apply(in).toDoubleArray();
        for (int call = 0; call < 3; call++) {
            assertArrayEquals(eager, f.call(in).toDoubleArray(), name + ", call " + call);
        }
        String plan = plan(f);
        assertTrue(plan.contains("= fused"), f.listing());
        assertEquals(absorbed, !plan.contains("permute(") && !plan.contains("broadcastTo("), name + "\n"
                + f.listing());
    }

    /**
     * A relu's gradient through max pooling is masked at the pooled size, in the scatter's own step (the plan's
     * pool-gradient rewrite: {@code maskedMaxPoolGradient}), with eager's bits: windows that tile the image and
     * windows that overlap, float32 and float64, windows of only non-positive values (whose maximum the relu made a
     * tie at zero) and non-finite gradients. A plan that also reads the unmasked image gradient keeps the image-sized
     * mask.
     */
    @OnEachDevice
    void aReluGradientThroughMaxPoolingIsMaskedAtThePooledSize(Device d) {
        Random r = new Random(12);
        for (DType t : List.of(DType.FLOAT32, DType.FLOAT64)) {
            for (int[] window : new int[][] {{2, 2}, {3, 1}}) {                  // size, stride
                int out = (8 - window[0]) / window[1] + 1;
                Tensor x = random(d, t, r, 3, 4, 8, 8).sub(1);
                double[] weights = random(d, DType.FLOAT64, r, 3, 4, out, out).toDoubleArray();
                weights[1] = Double.NaN;
                weights[7] = Double.POSITIVE_INFINITY;
                weights[8] = Double.NEGATIVE_INFINITY;
                Tensor w = Tensor.of(d, weights, 3, 4, out, out).to(t);
                String image = "(3, 4, 8, 8) " + t;
                String plan = check(x, w, false, window);
                assertEquals(List.of(), plan.lines().filter(l -> l.contains("relu_gradient(")).toList(), plan);
                List<String> masked = plan.lines().filter(l -> l.contains("= maskedMaxPoolGradient(")).toList();
                assertEquals(1, masked.size(), plan);
                assertTrue(masked.get(0).endsWith(" : " + image), plan);
                assertEquals(0, plan.lines().filter(l -> l.contains("= maxPoolGradient(")).count(), plan);
                String unmasked = reluGradientType(check(x, w, true, window));
                assertEquals(image, unmasked, "mask of " + Arrays.toString(window) + " " + t);
            }
        }
    }

    /**
     * The traced gradient of {@code sum((p² + p) * w)}, {@code p = maxPool2d(relu(x))}, for x (with that of the
     * relu's output added when {@code alsoImage}) against eager's, bit for bit; the plan's part of the listing. (The
     * square's gradient reads the pooled values, so the plan keeps the forward's maxPool, as a network's next layer
     * does; the gradient reaching a window is {@code (2p + 1) w}, not zero where the relu made p zero, so the mask
     * decides those windows.)
     */
    private static String check(Tensor x, Tensor w, boolean alsoImage, int[] window) {
        Function<Tensor[], Tensor> body = in -> {
            try (GradientTape tape = new GradientTape()) {
                tape.watch(in[0]);
                Tensor y = in[0].relu();
                Tensor pooled = dev.nabla.nn.Functional.maxPool2d(y, window[0], window[1]);
                Tensor loss = pooled.square().add(pooled).mul(in[1]).sum();
                if (!alsoImage) {
                    return tape.gradient(loss, in[0]);
                }
                List<Tensor> g = tape.gradient(loss, List.of(in[0], y));
                return g.get(0).add(g.get(1));
            }
        };
        TracedFunction f = GraphFunction.of("pooled relu", 2, body);
        double[] eager = body.apply(new Tensor[] {x, w}).toDoubleArray();
        for (int call = 0; call < 3; call++) {
            assertArrayEquals(eager, f.call(x, w).toDoubleArray(), "call " + call + "\n" + f.listing());
        }
        return plan(f);
    }

    /** The type of the one step of a plan that computes a relu_gradient (alone or in a fused chain). */
    private static String reluGradientType(String plan) {
        List<String> lines = plan.lines().filter(l -> l.contains("relu_gradient(")).toList();
        assertEquals(1, lines.size(), plan);
        return lines.get(0).substring(lines.get(0).lastIndexOf(" : ") + 3);
    }

    @OnEachDevice
    void theBenchmarkExpressionIsOneFusedStep(Device d) {
        Random r = new Random(3);
        TracedFunction f = GraphFunction.of("expr", 4, in -> in[0].mul(in[1]).add(in[2]).mul(in[3]).relu());
        Tensor[] in = new Tensor[4];
        for (int i = 0; i < 4; i++) {
            in[i] = random(d, DType.FLOAT32, r, 100_000);
        }
        float[] eager = in[0].mul(in[1]).add(in[2]).mul(in[3]).relu().toFloatArray();
        assertArrayEquals(eager, f.call(in).toFloatArray());
        assertArrayEquals(eager, f.call(in).toFloatArray());
        String listing = f.listing();
        assertTrue(listing.contains("= fused(%0, %1, %2, %3) {relu(mul(add(mul(in0, in1), in2), in3))} : (100000,) "
                + "float32"), listing);
    }

    @OnEachDevice
    void aPlannedTrainingStepKeepsItsBuffersAndMatchesEager(Device d) {
        Random r = new Random(5);
        Variable w1 = new Variable(random(d, DType.FLOAT32, r, 64, 32).mul(0.1), "w1", true);
        Variable w2 = new Variable(random(d, DType.FLOAT32, r, 32, 10).mul(0.1), "w2", true);
        Variable e1 = new Variable(w1, "e1", true);
        Variable e2 = new Variable(w2, "e2", true);
        Tensor x = random(d, DType.FLOAT32, r, 16, 64);
        SGD tracedSgd = new SGD(0.05);
        SGD eagerSgd = new SGD(0.05);
        TracedFunction step = Nabla.function((Tensor in) -> {
            try (GradientTape tape = new GradientTape()) {
                Tensor loss = in.matmul(w1).relu().matmul(w2).logSoftmax(1).mean().neg();
                tracedSgd.applyGradients(tape.gradient(loss, List.of(w1, w2)), List.of(w1, w2));
                return loss;
            }
        });
        for (int i = 0; i < 30; i++) {
            Tensor eager;
            try (GradientTape tape = new GradientTape()) {
                eager = x.matmul(e1).relu().matmul(e2).logSoftmax(1).mean().neg();
                eagerSgd.applyGradients(tape.gradient(eager, List.of(e1, e2)), List.of(e1, e2));
            }
            try (Tensor loss = step.call(x)) {
                assertEquals(eager.toFloatArray()[0], loss.toFloatArray()[0], 0f, "step " + i);
            }
            assertArrayEquals(e1.toFloatArray(), w1.toFloatArray(), "step " + i);
            assertArrayEquals(e2.toFloatArray(), w2.toFloatArray(), "step " + i);
        }
        assertTrue(step.listing().contains("planned buffers"), step.listing());
    }

    /**
     * Memory planning: once planned, a replayed training step takes no buffer from the allocator (the JFR event
     * {@code dev.nabla.Allocation} that every pooled allocation emits), where the eager step takes dozens. The loss it
     * returns is a scalar, below the pooled size. (No matmul here: the CPU GEMM takes its packing scratch from the
     * pool on every call, traced or not.)
     */
    @OnEachDevice
    void aReplayedTrainingStepAllocatesNothing(Device d) throws Exception {
        Random r = new Random(8);
        Variable w1 = new Variable(random(d, DType.FLOAT32, r, 64, 256).mul(0.05), "w1", true);
        Variable w2 = new Variable(random(d, DType.FLOAT32, r, 256).mul(0.05), "w2", true);
        Tensor x = random(d, DType.FLOAT32, r, 64, 256);
        SGD sgd = new SGD(0.01);
        java.util.function.Supplier<Tensor> body = () -> {
            try (GradientTape tape = new GradientTape()) {
                Tensor loss = x.mul(w1).add(w2).tanh().logSoftmax(1).mean().neg();
                sgd.applyGradients(tape.gradient(loss, List.of(w1, w2)), List.of(w1, w2));
                return loss;
            }
        };
        TracedFunction step = Nabla.function(body);
        for (int i = 0; i < 3; i++) {
            step.call().close();
        }
        long traced = allocations(() -> {
            for (int i = 0; i < 5; i++) {
                step.call().close();
            }
        });
        long eager = allocations(() -> {
            for (int i = 0; i < 5; i++) {
                body.get().close();
            }
        });
        assertTrue(eager > 20, "eager allocations " + eager);
        if (d.equals(Device.cpu())) {
            assertEquals(0, traced, "allocations in 5 replayed steps (eager: " + eager + ")\n" + step.listing());
        } else {
            // NOTE: CUDA runs each fused chain as one generated PTX kernel (no temporaries). What a CUDA step still
            // takes is two blocks, neither from fusion: the returned loss (a scalar, which the CPU's pool does not
            // see below its 16 KiB threshold) and the partial sums of a segmented reduction (Reduction.run takes
            // one block per call)
            assertTrue(traced <= 2 * 5, "allocations in 5 replayed steps: " + traced + " (eager: " + eager
                    + ")\n" + step.listing());
        }
    }

    private static long allocations(Runnable work) throws Exception {
        java.nio.file.Path file = java.nio.file.Files.createTempFile("nabla-alloc", ".jfr");
        try (jdk.jfr.Recording recording = new jdk.jfr.Recording()) {
            recording.enable("dev.nabla.Allocation");
            recording.start();
            work.run();
            recording.stop();
            recording.dump(file);
            var events = jdk.jfr.consumer.RecordingFile.readAllEvents(file).stream()
                    .filter(e -> e.getEventType().getName().equals("dev.nabla.Allocation")).toList();
            if (System.getProperty("nabla.test.printAllocations") != null && !events.isEmpty()) {
                System.out.println("ALLOC " + events.get(0).getStackTrace().getFrames().stream().limit(12)
                        .map(f -> f.getMethod().getType().getName() + "." + f.getMethod().getName()).toList());
            }
            return events.size();
        } finally {
            java.nio.file.Files.deleteIfExists(file);
        }
    }
}
