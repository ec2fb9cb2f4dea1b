package dev.nabla.bench.suite;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import jdk.incubator.vector.FloatVector;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * {@code ./nabla bench}: runs W1-W7 (Nabla, the plain-Java references and, with {@code --peers}, DJL and TensorFlow
 * Java), prints a table of medians and ratios with the machine, and writes it to {@code benchmarks/RESULTS.md}
 * ({@code --out FILE} elsewhere).
 *
 * <p>The run is a sequence of short JMH runs, one per workload, each holding the workload's Nabla, plain-Java and
 * peer variants, so that the variants compared in a row run within a minute of each other. With the peers the whole
 * sequence is repeated in {@code --rounds} rounds (3 unless given; 1 without the peers) and each variant's figure is
 * the median of its rounds' medians: on a shared host a slow phase of a minute or two (another tenant on the same
 * cores) then costs one round of one variant, not a row's verdict. The rounds' own figures are listed below the table.
 */
public final class Report {
    private Report() {
    }

    /** One measured variant: its median (over rounds: the median of the rounds' medians) in the row's unit. */
    private record Cell(double median, String unit) {
    }

    /**
     * A workload's variants, run together: JMH include patterns of the suite's (and, with peers, the peers'), and the
     * warm-up in seconds.
     */
    private record Group(String suite, String peers, int warmup) {
        Group(String suite, String peers) {
            this(suite, peers, 5);
        }
    }

    private static final String SUITE = "dev\\.nabla\\.bench\\.suite\\.";
    private static final String PEERS = "dev\\.nabla\\.bench\\.peers\\.";

    private static final List<Group> GROUPS = List.of(
            new Group(SUITE + "W1Notebook\\.warm.*", PEERS + "W1NotebookPeers\\.warm.*"),
            // code that closes nothing (W2, W6 as written) settles in 5-6 s of a fresh JVM: its heap grows and the
            // pool fills through collections (W2's first seconds ran 25-100 ms an op, then 16; W6's 8.7, 3.8, 2.6,
            // 2.4, 1.9, then 1.5-1.6 ms)
            new Group(SUITE + "W2MulAdd\\..*", PEERS + "W2to4Peers\\.mulAdd.*", 8),
            new Group(SUITE + "W3Sum\\..*", PEERS + "W2to4Peers\\.sum.*"),
            new Group(SUITE + "(W4Matmul|PeakFma)\\..*", PEERS + "W2to4Peers\\.matmul.*"),
            new Group(SUITE + "W5Mlp\\..*", PEERS + "W5to7Peers\\.mlp.*"),
            new Group(SUITE + "W6SquaredSum\\..*", PEERS + "W5to7Peers\\.squaredSum.*", 8),
            // W7 eager settles late: its steps run through dozens of kernels that C2 compiles one after another on
            // the same two cores (fresh JVMs, 1 s iterations: 23, 15, 12, 11, 10.5, 10.6, 8.7, 7.3, 6.9, 6.8, 6.5,
            // 5.9 ms; another 63, 24, 10, 7.6, 7.1 ms, then flat), and 5 s of warm-up measured the compiler's queue
            new Group(SUITE + "W7MnistCnn\\..*", PEERS + "W5to7Peers\\.cnn.*", 12),
            // issue 10's two figures outside W1-W7: the traced notebook step, and a fused chain against a loop
            new Group("dev\\.nabla\\.bench\\.(TracedStepBench\\.(eager|traced)"
                    + "|FusedExpressionBench\\.(traced|javaLoopParallel))$", null));

    public static void main(String[] args) throws RunnerException, IOException {
        boolean peers = false;
        int rounds = 0;
        Path out = null;
        Pattern only = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--peers" -> peers = true;
                case "--out" -> out = Path.of(args[++i]);
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                case "--only" -> only = Pattern.compile(args[++i]);
                default -> throw new IllegalArgumentException("bench: unknown option " + args[i]
                        + " (--peers, --rounds N, --only REGEX, --out FILE)");
            }
        }
        if (out == null) {
            // a partial run must not replace the full table
            out = only == null ? Path.of("benchmarks", "RESULTS.md") : Path.of("benchmarks", "target", "RESULTS-only.md");
        }
        List<Group> groups = new ArrayList<>();
        for (Group g : GROUPS) {
            if (only == null || only.matcher(g.suite()).find()) {
                groups.add(g);
            }
        }
        boolean cold = only == null || only.matcher("W1Notebook.cold").find();
        if (peers) {
            try {
                Class.forName("dev.nabla.bench.peers.Djl");
            } catch (ClassNotFoundException e) {
                System.err.println("bench: the peers' variants are not built (./nabla bench --peers builds them with"
                        + " -Ppeers)");
                System.exit(2);
            }
        }
        if (rounds <= 0) {
            rounds = peers ? 3 : 1;
        }
        // a round measures fewer iterations, as the rounds' median does the smoothing
        int mi = rounds > 1 ? 3 : 5;
        Map<String, List<Double>> medians = new LinkedHashMap<>();
        Map<String, String> units = new LinkedHashMap<>();
        String loadBefore = loadAverage();
        for (int r = 0; r < rounds; r++) {
            for (Group g : groups) {
                // Nabla's variants and the peers' run as two JMH runs, in an order that alternates by round: in one
                // run JMH takes them in name order, the peers' first, and Nabla's W4 took 7.1-7.7 ms in every round
                // of two side-by-side runs against 6.3-6.4 in JMH runs of its own; run apart, 6.6-6.7 either way
                // round (the cause is not pinned down; neither side now always follows the other)
                List<String> order = new ArrayList<>(List.of(g.suite()));
                if (peers && g.peers() != null) {
                    order.add(r % 2 == 0 ? 0 : 1, g.peers());
                }
                for (String include : order) {
                    Options o = new OptionsBuilder().include(include).forks(1)
                            .warmupIterations(g.warmup()).warmupTime(TimeValue.seconds(1))
                            .measurementIterations(mi).measurementTime(TimeValue.seconds(1)).build();
                    collect(new Runner(o).run(), medians, units);
                }
            }
        }
        if (cold) {
            ChainedOptionsBuilder coldRuns = new OptionsBuilder().include(SUITE + "W1Notebook\\.cold.*")
                    .forks(3).warmupIterations(0).measurementIterations(1).mode(Mode.SingleShotTime);
            if (peers) {
                coldRuns.include(PEERS + "W1NotebookPeers\\.cold.*");
            }
            collect(new Runner(coldRuns.build()).run(), medians, units);
        }
        Map<String, Cell> cells = new LinkedHashMap<>();
        medians.forEach((key, values) -> cells.put(key, new Cell(median(values), units.get(key))));
        String table = table(cells, peers) + "\nLoad average (1, 5, 15 min) before the run: " + loadBefore
                + "; after: " + loadAverage() + ". On a machine shared with other work (a load above the core count)"
                + " every number is pessimistic and noisy, the peers' thread pools suffer most, and the FMA peak is"
                + " under-measured.\n" + (rounds > 1 ? roundsList(medians, units, rounds) : "");
        System.out.println();
        System.out.println(table);
        Files.writeString(out, "# Benchmark results\n\n" + "Written by `./nabla bench" + (peers ? " --peers" : "")
                + (only == null ? "" : " --only " + only.pattern())
                + "` (`dev.nabla.bench.suite.Report`); medians of JMH iterations"
                + (rounds > 1 ? ", each figure the median of " + rounds + " rounds' medians (a round runs one workload after"
                        + " another, Nabla's variants and the peers' back to back, which first alternating by round)" : "")
                + " (W1 cold: of 3 fresh JVMs). Times: lower is better. Ratios are Nabla's time over the other's:"
                + " below 1 Nabla is faster.\n\n" + table);
        System.out.println("written to " + out);
    }

    private static void collect(Collection<RunResult> results, Map<String, List<Double>> medians,
            Map<String, String> units) {
        for (RunResult r : results) {
            String label = r.getParams().getBenchmark();
            String key = label.substring(label.lastIndexOf('.', label.lastIndexOf('.') - 1) + 1);
            medians.computeIfAbsent(key, k -> new ArrayList<>())
                    .add(r.getPrimaryResult().getStatistics().getPercentile(50));
            units.put(key, r.getPrimaryResult().getScoreUnit());
        }
    }

    private static double median(List<Double> values) {
        List<Double> sorted = new ArrayList<>(values);
        sorted.sort(null);
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    /** Each variant's figure per round, in round order, so that a reader sees how much the host moved. */
    private static String roundsList(Map<String, List<Double>> medians, Map<String, String> units, int rounds) {
        StringBuilder sb = new StringBuilder("\nPer round (" + rounds + " rounds, in order):\n\n");
        medians.forEach((key, values) -> {
            if (values.size() > 1) {
                List<String> f = new ArrayList<>();
                values.forEach(v -> f.add(fmt(new Cell(v, units.get(key)))));
                sb.append("- ").append(key).append(": ").append(String.join(" / ", f)).append(' ')
                        .append(units.get(key)).append('\n');
            }
        });
        return sb.toString();
    }

    private static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f[0] + ", " + f[1] + ", " + f[2];
        } catch (IOException | RuntimeException e) {
            return "unknown";
        }
    }

    private static String machine() {
        String cpu = "unknown CPU";
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    cpu = line.substring(line.indexOf(':') + 1).trim();
                    break;
                }
            }
        } catch (IOException | RuntimeException e) {
            cpu = System.getProperty("os.arch");
        }
        return String.format(Locale.ROOT, "%s, %d-bit vectors (Vector API preferred species), %d cores, JDK %s, %s, %s",
                cpu, FloatVector.SPECIES_PREFERRED.vectorBitSize(), Runtime.getRuntime().availableProcessors(),
                Runtime.version(), System.getProperty("os.name"),
                ZonedDateTime.now().format(DateTimeFormatter.ISO_LOCAL_DATE));
    }

    private static String table(Map<String, Cell> c, boolean peers) {
        StringBuilder sb = new StringBuilder();
        sb.append("Machine: ").append(machine()).append("\n\n");
        sb.append("| workload | unit | Nabla | Nabla scoped | Nabla traced | plain Java | DJL (PyTorch)"
                + " | TF Java (graph) | Nabla/DJL | Nabla/TF | goal (issue 9) | met |\n");
        sb.append("|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        List<String> notes = new ArrayList<>();
        row(sb, c, "W1 notebook step, warm", "µs/step", "W1Notebook.warmNabla", null, null, null,
                "W1NotebookPeers.warmDjl", "W1NotebookPeers.warmTf", Goal.FASTER_THAN_PEERS_BY_10, peers);
        row(sb, c, "W1 notebook step, cold (first 600)", "µs/step", "W1Notebook.coldNabla", null, null, null,
                "W1NotebookPeers.coldDjl", "W1NotebookPeers.coldTf", Goal.FASTER_THAN_PEERS_BY_10, peers);
        row(sb, c, "W2 a*b + a, 2^24 float32", "ms", "W2MulAdd.nabla", "W2MulAdd.nablaScoped",
                "W2MulAdd.nablaTraced", "W2MulAdd.javaLoop", "W2to4Peers.mulAddDjl", "W2to4Peers.mulAddTf",
                Goal.TF_0_9, peers);
        row(sb, c, "W3 sum, 2^24 float32", "ms", "W3Sum.nabla", null, null, "W3Sum.javaVector2T",
                "W2to4Peers.sumDjl", "W2to4Peers.sumTf", Goal.W3, peers);
        row(sb, c, "W4 matmul 1024^3 float32", "ms", "W4Matmul.nabla", "W4Matmul.nablaScoped", null, null,
                "W2to4Peers.matmulDjl", "W2to4Peers.matmulTf", Goal.W4, peers);
        row(sb, c, "W5 MLP training step", "ms", "W5Mlp.nabla", null, "W5Mlp.nablaTraced", null,
                "W5to7Peers.mlpDjl", "W5to7Peers.mlpTf", Goal.DJL_0_8, peers);
        row(sb, c, "W6 sum((A + b)^2), forward + backward", "ms", "W6SquaredSum.nablaAsWritten",
                "W6SquaredSum.nablaScoped", null, null, "W5to7Peers.squaredSumDjl", "W5to7Peers.squaredSumTf",
                Goal.W6, peers);
        row(sb, c, "W7 MNIST CNN Adam step (batch 64)", "ms", "W7MnistCnn.nabla", null, "W7MnistCnn.nablaTraced",
                null, "W5to7Peers.cnnDjl", "W5to7Peers.cnnTf", Goal.DJL_0_8, peers);
        Cell peak = c.get("PeakFma.fma");
        Cell mm = best(c.get("W4Matmul.nabla"), c.get("W4Matmul.nablaScoped"));
        sb.append('\n');
        if (peak != null) {
            double peakGflops = PeakFma.flops() / (peak.median() * 1e6);
            sb.append(String.format(Locale.ROOT, "Host FMA peak (plain Java, Vector API, all cores): %.0f GFLOP/s.",
                    peakGflops));
            if (mm != null) {
                sb.append(String.format(Locale.ROOT, " W4 GFLOP/s: Nabla %.0f (%.0f%% of the peak)",
                        gflops(mm), 100 * gflops(mm) / peakGflops));
                Cell tf = c.get("W2to4Peers.matmulTf");
                Cell djl = c.get("W2to4Peers.matmulDjl");
                if (tf != null) {
                    sb.append(String.format(Locale.ROOT, ", TF Java %.0f", gflops(tf)));
                }
                if (djl != null) {
                    sb.append(String.format(Locale.ROOT, ", DJL %.0f", gflops(djl)));
                }
                sb.append('.');
            }
            sb.append('\n');
        }
        Cell w6 = c.get("W6SquaredSum.nablaAsWritten");
        Cell w6s = c.get("W6SquaredSum.nablaScoped");
        if (w6 != null && w6s != null) {
            sb.append(String.format(Locale.ROOT, "W6 as written (no close, no scope) / in a scope: %.2f (goal <= 1.3: %s)."
                    + "\n", w6.median() / w6s.median(), w6.median() <= 1.3 * w6s.median() ? "met" : "missed"));
        }
        Cell w2 = c.get("W2MulAdd.nabla");
        Cell w2s = c.get("W2MulAdd.nablaScoped");
        if (w2 != null && w2s != null) {
            sb.append(String.format(Locale.ROOT, "W2 as written / in a scope: %.2f.\n", w2.median() / w2s.median()));
        }
        Cell two = c.get("W2MulAdd.javaTwoPass");
        if (w2s != null && two != null) {
            sb.append(String.format(Locale.ROOT, "W2 in plain Java as two passes on two threads (t = a*b, then"
                    + " t + a, as any eager library runs it): %.2f ms; Nabla scoped / two passes: %.2f.\n",
                    two.median(), w2s.median() / two.median()));
        }
        tracedGoals(sb, c);
        sb.append("\n\"Nabla\" is the code as a new user writes it (no close(), no scope; optimizers' minimize has its own"
                + " scope); \"Nabla scoped\" the same in a memory scope; \"Nabla traced\" the same step as one"
                + " Nabla.function, replayed as an optimized plan. Issue 9's goals are judged on the better of the"
                + " first two Nabla columns (W6: on the scoped one, as the issue says), issue 10's on the traced one."
                + " DJL closes each step's temporaries with a sub-manager; TF runs one graph per workload through a"
                + " session.\n");
        notes.forEach(n -> sb.append(n).append('\n'));
        return sb.toString();
    }

    /**
     * Issue 10's goals for the traced steps ({@code Nabla.function} around the whole step): W5 traced faster than TF
     * Java's graph, W7 traced at least 1.5 times as fast as eager.
     */
    private static void tracedGoals(StringBuilder sb, Map<String, Cell> c) {
        Cell w1 = c.get("TracedStepBench.eager");
        Cell w1t = c.get("TracedStepBench.traced");
        if (w1 != null && w1t != null) {
            sb.append(String.format(Locale.ROOT, "W1 traced (TracedStepBench): eager %.0f ns, traced %.0f ns per step;"
                    + " eager / traced: %.2f (goal (issue 10) >= 3: %s).\n", w1.median(), w1t.median(),
                    w1.median() / w1t.median(), w1.median() >= 3 * w1t.median() ? "met" : "missed"));
        }
        Cell fx = c.get("FusedExpressionBench.traced");
        Cell loop = c.get("FusedExpressionBench.javaLoopParallel");
        if (fx != null && loop != null) {
            sb.append(String.format(Locale.ROOT, "((a*b + c) * d).relu() on 2^24 float32: traced %.2f ms, a plain Java"
                    + " loop on as many threads %.2f ms; traced speed / loop speed: %.2f (goal (issue 10) >= 0.8: %s).\n",
                    fx.median(), loop.median(), loop.median() / fx.median(),
                    loop.median() >= 0.8 * fx.median() ? "met" : "missed"));
        }
        Cell w5 = c.get("W5Mlp.nabla");
        Cell w5t = c.get("W5Mlp.nablaTraced");
        Cell w5tf = c.get("W5to7Peers.mlpTf");
        if (w5 != null && w5t != null) {
            sb.append(String.format(Locale.ROOT, "W5 eager / traced: %.2f", w5.median() / w5t.median()));
            if (w5tf != null) {
                sb.append(String.format(Locale.ROOT, "; traced / TF graph: %.2f (goal (issue 10) < 1: %s)",
                        w5t.median() / w5tf.median(), w5t.median() < w5tf.median() ? "met" : "missed"));
            }
            sb.append(".\n");
        }
        Cell w7 = c.get("W7MnistCnn.nabla");
        Cell w7t = c.get("W7MnistCnn.nablaTraced");
        if (w7 != null && w7t != null) {
            sb.append(String.format(Locale.ROOT, "W7 eager / traced: %.2f (goal (issue 10) >= 1.5: %s)",
                    w7.median() / w7t.median(), w7.median() >= 1.5 * w7t.median() ? "met" : "missed"));
            Cell w7tf = c.get("W5to7Peers.cnnTf");
            if (w7tf != null) {
                sb.append(String.format(Locale.ROOT, "; traced / TF graph: %.2f", w7t.median() / w7tf.median()));
            }
            sb.append(".\n");
        }
    }

    private static double gflops(Cell c) {
        return W4Matmul.FLOPS / (c.median() * 1e6);
    }

    private enum Goal { FASTER_THAN_PEERS_BY_10, TF_0_9, W3, W4, DJL_0_8, W6 }

    private static Cell best(Cell a, Cell b) {
        if (a == null) {
            return b;
        }
        if (b == null) {
            return a;
        }
        return a.median() <= b.median() ? a : b;
    }

    private static void row(StringBuilder sb, Map<String, Cell> c, String name, String unit, String nabla,
            String scoped, String traced, String java, String djl, String tf, Goal goal, boolean peers) {
        Cell n = c.get(nabla);
        Cell s = scoped == null ? null : c.get(scoped);
        Cell tr = traced == null ? null : c.get(traced);
        Cell j = java == null ? null : c.get(java);
        Cell d = c.get(djl);
        Cell t = c.get(tf);
        Cell b = goal == Goal.W6 ? (s != null ? s : n) : best(n, s);
        String goalText;
        String met = "–";
        switch (goal) {
            case FASTER_THAN_PEERS_BY_10 -> {
                goalText = "≤ 0.1× the faster peer";
                if (b != null && d != null && t != null) {
                    met = yes(b.median() <= 0.1 * Math.min(d.median(), t.median()));
                }
            }
            case TF_0_9 -> {
                goalText = "≤ 0.9× TF";
                if (b != null && t != null) {
                    met = yes(b.median() <= 0.9 * t.median());
                }
            }
            case W3 -> {
                goalText = "≤ 0.9× the faster peer, ≥ 0.8 of the 2-thread Java loop";
                if (b != null && d != null && t != null && j != null) {
                    met = yes(b.median() <= 0.9 * Math.min(d.median(), t.median()) && b.median() * 0.8 <= j.median());
                } else if (b != null && j != null) {
                    met = "Java part " + yes(b.median() * 0.8 <= j.median());
                }
            }
            case W4 -> {
                goalText = "≥ TF's GFLOP/s and ≥ 80% of the FMA peak";
                Cell peak = c.get("PeakFma.fma");
                if (b != null && peak != null) {
                    boolean peakOk = gflops(b) >= 0.8 * PeakFma.flops() / (peak.median() * 1e6);
                    met = t != null ? yes(peakOk && b.median() <= t.median()) : "peak part " + yes(peakOk);
                }
            }
            case DJL_0_8 -> {
                goalText = "≤ 0.8× DJL";
                if (b != null && d != null) {
                    met = yes(b.median() <= 0.8 * d.median());
                }
            }
            default -> {
                goalText = "scoped ≤ TF; as written ≤ 1.3× scoped";
                if (s != null && n != null) {
                    boolean gc = n.median() <= 1.3 * s.median();
                    met = t != null ? yes(s.median() <= t.median() && gc) : "GC part " + yes(gc);
                }
            }
        }
        sb.append("| ").append(name).append(" | ").append(unit).append(" | ").append(fmt(n)).append(" | ")
                .append(fmt(s)).append(" | ").append(fmt(tr)).append(" | ").append(fmt(j)).append(" | ").append(peers ? fmt(d) : "not run")
                .append(" | ").append(peers ? fmt(t) : "not run").append(" | ").append(ratio(b, d)).append(" | ")
                .append(ratio(b, t)).append(" | ").append(goalText).append(" | ").append(met).append(" |\n");
    }

    private static String yes(boolean ok) {
        return ok ? "yes" : "**no**";
    }

    private static String fmt(Cell c) {
        if (c == null) {
            return "–";
        }
        double v = c.median();
        return String.format(Locale.ROOT, v >= 100 ? "%.0f" : v >= 10 ? "%.1f" : "%.2f", v);
    }

    private static String ratio(Cell a, Cell b) {
        if (a == null || b == null) {
            return "–";
        }
        return String.format(Locale.ROOT, "%.2f", a.median() / b.median());
    }
}
