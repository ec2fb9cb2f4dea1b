package dev.nabla.summary;

import com.google.protobuf.ByteString;
import dev.nabla.Tensor;
import dev.nabla.graph.GraphFunction;
import dev.nabla.graph.TracedFunction;
import dev.nabla.ops.Checks;
import dev.nabla.summary.proto.DataType;
import dev.nabla.summary.proto.Event;
import dev.nabla.summary.proto.HistogramProto;
import dev.nabla.summary.proto.Summary;
import dev.nabla.summary.proto.SummaryMetadata;
import dev.nabla.summary.proto.TensorProto;
import dev.nabla.summary.proto.TensorShapeProto;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Writes TensorBoard event files: scalars, histograms and text, as TensorFlow's {@code tf.summary} writer does.
 * Point TensorBoard at the log directory ({@code tensorboard --logdir runs}).
 *
 * <pre>{@code
 * try (SummaryWriter w = SummaryWriter.create(Path.of("runs/demo"))) {
 *     w.scalar("loss", 0.25, 1);
 *     w.histogram("weights", Tensor.of(new float[] {0.1f, -0.3f, 0.7f}), 1);
 *     w.text("note", "first run", 1);
 * }
 * }</pre>
 *
 * <p>The file is {@code events.out.tfevents.<seconds>.<host>}, a sequence of TFRecord-framed {@code Event} protos
 * whose first event is the file version {@code brain.Event:2}. Writes are buffered until {@link #flush()} or
 * {@link #close()}. Thread-safe.
 */
public final class SummaryWriter implements AutoCloseable {
    private final Path file;
    private final OutputStream stream;
    private final RecordWriter records;
    private boolean closed;

    private SummaryWriter(Path file, OutputStream out) {
        this.file = file;
        this.stream = new BufferedOutputStream(out);
        this.records = new RecordWriter(stream);
        write(Event.newBuilder().setWallTime(now()).setFileVersion("brain.Event:2").build());
    }

    /**
     * A writer of a new event file in {@code logdir} (created if missing). A writer started in the same second as
     * another one in {@code logdir} gets the name with {@code .1}, {@code .2}... appended, never the other's file.
     *
     * @throws UncheckedIOException if the directory or the file cannot be created
     */
    public static SummaryWriter create(Path logdir) {
        Checks.notNull("SummaryWriter.create", "logdir", logdir);
        try {
            Files.createDirectories(logdir);
            String base = "events.out.tfevents." + System.currentTimeMillis() / 1000 + "." + hostName();
            // CREATE_NEW: opening an existing name would truncate the events another writer wrote there. TensorBoard
            // reads every file whose name contains "tfevents", so a suffix keeps the file visible.
            for (int n = 0;; n++) {
                Path file = logdir.resolve(n == 0 ? base : base + "." + n);
                try {
                    return new SummaryWriter(file, Files.newOutputStream(file, StandardOpenOption.CREATE_NEW));
                } catch (FileAlreadyExistsException taken) {
                    // try the next suffix
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("SummaryWriter: cannot create an event file in " + logdir, e);
        }
    }

    /** This machine's name; where it does not resolve (common in containers) the environment's, or localhost. */
    private static String hostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            // the name only labels the file, so a name that DNS does not know is as good
            String env = System.getenv("HOSTNAME");
            return env != null && !env.isBlank() && !env.contains("/") ? env.strip() : "localhost";
        }
    }

    /** The event file. */
    public Path file() {
        return file;
    }

    private static double now() {
        return System.currentTimeMillis() / 1000.0;
    }

    private synchronized void write(Event e) {
        if (closed) {
            throw new IllegalStateException("SummaryWriter: " + file + " was used after close()");
        }
        try {
            records.write(e.toByteArray());
        } catch (IOException ex) {
            throw new UncheckedIOException("SummaryWriter: cannot write " + file, ex);
        }
    }

    private void summary(Summary.Value value, long step) {
        write(Event.newBuilder().setWallTime(now()).setStep(step)
                .setSummary(Summary.newBuilder().addValue(value)).build());
    }

    /** A scalar (TensorBoard's Scalars tab). */
    public void scalar(String tag, double value, long step) {
        Checks.notNull("SummaryWriter.scalar", "tag", tag);
        summary(Summary.Value.newBuilder().setTag(tag).setSimpleValue((float) value).build(), step);
    }

    /**
     * The distribution of a tensor's values, on any device (TensorBoard's Histograms and Distributions tabs), in
     * TensorFlow's default buckets.
     *
     * @throws IllegalArgumentException if a value is NaN or infinite, as in TensorFlow
     */
    public void histogram(String tag, Tensor values, long step) {
        String op = "SummaryWriter.histogram";
        Checks.notNull(op, "tag", tag);
        Checks.open(op, "values", values);
        HistogramProto histogram = Histograms.of(tag, values.toDoubleArray());
        summary(Summary.Value.newBuilder().setTag(tag).setHisto(histogram).build(), step);
    }

    /** A text (TensorBoard's Text tab, which renders Markdown). */
    public void text(String tag, String value, long step) {
        Checks.notNull("SummaryWriter.text", "tag", tag);
        Checks.notNull("SummaryWriter.text", "value", value);
        TensorProto tensor = TensorProto.newBuilder().setDtype(DataType.DT_STRING)
                .setTensorShape(TensorShapeProto.getDefaultInstance())
                .addStringVal(ByteString.copyFrom(value, StandardCharsets.UTF_8)).build();
        SummaryMetadata metadata = SummaryMetadata.newBuilder()
                .setPluginData(SummaryMetadata.PluginData.newBuilder().setPluginName("text")).build();
        summary(Summary.Value.newBuilder().setTag(tag).setMetadata(metadata).setTensor(tensor).build(), step);
    }

    /**
     * The graph of {@code f}'s most recent trace (TensorBoard's Graphs tab): a {@code GraphDef} whose nodes are the
     * function's inputs, captured Variables and constants, and ops, each with its inputs and the {@code dtype} and
     * {@code _output_shapes} attributes, all under the name scope {@code name}.
     *
     * <pre>{@code
     * TracedFunction step = Nabla.function(() -> sgd.minimize(loss, vars));
     * step.call();
     * writer.graph("train_step", step);
     * }</pre>
     *
     * @throws IllegalStateException before {@code f}'s first call
     * @throws IllegalArgumentException for a TracedFunction that {@code Nabla.function} did not make
     */
    public void graph(String name, TracedFunction f) {
        String op = "SummaryWriter.graph";
        Checks.notNull(op, "name", name);
        Checks.notNull(op, "f", f);
        if (!(f instanceof GraphFunction g)) {
            throw new IllegalArgumentException(op + ": " + f.getClass().getName() + " is not a Nabla.function");
        }
        write(Event.newBuilder().setWallTime(now()).setGraphDef(GraphDefs.of(name, g.nodes()).toByteString()).build());
    }

    /** Writes buffered events through to the file. */
    public synchronized void flush() {
        if (closed) {
            throw new IllegalStateException("SummaryWriter: " + file + " was used after close()");
        }
        try {
            stream.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("SummaryWriter: cannot flush " + file, e);
        }
    }

    /** Flushes and closes the file; idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            stream.close();
        } catch (IOException e) {
            throw new UncheckedIOException("SummaryWriter: cannot close " + file, e);
        }
    }
}
