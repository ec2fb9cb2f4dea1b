package dev.nabla;

import dev.nabla.backend.Backend;
import dev.nabla.ops.Broadcasting;
import dev.nabla.ops.Checks;
import dev.nabla.ops.Creation;

/**
 * A mutable, named tensor: the state a model trains. Reading it inside a {@link GradientTape} records it (trainable
 * variables are watched automatically); {@link #assign} and friends change it in place and are not recorded.
 *
 * <pre>{@code
 * Variable x = Variable.of(3.0f);
 * try (GradientTape tape = new GradientTape()) {
 *     Tensor y = x.mul(x);
 *     Tensor dy = tape.gradient(y, x);     // 6.0
 *     x.assignSub(dy.mul(0.1));            // x = 2.4
 * }
 * }</pre>
 */
public class Variable extends Tensor {
    private final String name;
    /** The name of an assignment in a traced graph, made once: every assign would otherwise build it. */
    private final String assignEffect;
    private final boolean trainable;
    private volatile long version;

    /** A trainable variable named {@code Variable} holding a copy of {@code initial}. */
    public Variable(Tensor initial) {
        this(initial, "Variable", true);
    }

    /** A variable holding a copy of {@code initial}. */
    public Variable(Tensor initial, String name, boolean trainable) {
        super(Creation.copyStorage(Checks.open("Variable", "initial", initial), "Variable"), initial.shape());
        this.name = Checks.notNull("Variable", "name", name);
        this.assignEffect = "assign '" + name + "'";
        this.trainable = trainable;
        storage("Variable").markWrittenInPlace();
    }

    /** A FLOAT32 scalar variable. */
    public static Variable of(float v) {
        return fromTemporary(Tensor.scalar(v));
    }

    /** A FLOAT32 matrix variable. */
    public static Variable of(float[][] rows) {
        return fromTemporary(Tensor.of(rows));
    }

    /** A FLOAT32 variable of the given shape (1-D when none). */
    public static Variable of(float[] data, long... shape) {
        return fromTemporary(Tensor.of(data, shape));
    }

    private static Variable fromTemporary(Tensor t) {
        try (t) {
            return new Variable(t);
        }
    }

    /** True when optimizers update it and tapes watch it automatically. */
    public boolean trainable() {
        return trainable;
    }

    /** The name given at construction. */
    public String name() {
        return name;
    }

    /** Increases on every in-place change; tapes compare it to detect stale saved values. */
    public long version() {
        return version;
    }

    /** Replaces the value in place; {@code v} must have this variable's shape, dtype and device. */
    public void assign(Tensor v) {
        checkCompatible("assign", v);
        write(v);
    }

    /** Adds {@code d} in place ({@code d} may broadcast to this shape). */
    public void assignAdd(Tensor d) {
        checkDelta("assignAdd", d);
        try (Tensor next = GradientTape.withoutRecording(() -> this.add(d))) {
            checkCompatible("assignAdd", next);
            write(next);
        }
    }

    /** Subtracts {@code d} in place ({@code d} may broadcast to this shape). */
    public void assignSub(Tensor d) {
        checkDelta("assignSub", d);
        try (Tensor next = GradientTape.withoutRecording(() -> this.sub(d))) {
            checkCompatible("assignSub", next);
            write(next);
        }
    }

    /** A delta must be open and of this variable's dtype and device, and broadcast to its shape. */
    private void checkDelta(String op, Tensor d) {
        Checks.open(op, "delta", d);
        storage(op);
        if (d.dtype() != dtype() || !Broadcasting.broadcastsTo(d.shape(), shape())) {
            throw new IllegalArgumentException(op + ": variable '" + name + "' has shape " + shape() + " and dtype "
                    + dtype() + ", delta has shape " + d.shape() + " and dtype " + d.dtype());
        }
        if (!d.device().equals(device())) {
            throw new IllegalArgumentException(op + ": variable '" + name + "' is on " + device() + ", delta on "
                    + d.device());
        }
    }

    private void checkCompatible(String op, Tensor v) {
        Checks.open(op, "value", v);
        storage(op);
        if (!v.shape().equals(shape()) || v.dtype() != dtype()) {
            throw new IllegalArgumentException(op + ": variable '" + name + "' has shape " + shape() + " and dtype "
                    + dtype() + ", value has shape " + v.shape() + " and dtype " + v.dtype());
        }
        if (!v.device().equals(device())) {
            throw new IllegalArgumentException(op + ": variable '" + name + "' is on " + device() + ", value on "
                    + v.device());
        }
    }

    private void write(Tensor v) {
        dev.nabla.ops.Dispatch.effect(assignEffect, new Tensor[] {v}, in -> writeNow(in[0]),
                () -> writeNow(v));
    }

    private void writeNow(Tensor v) {
        Backend b = backend();
        long[] strides = shape().strides();
        b.copy(v.buffer("assign"), 0, strides, buffer("assign"), 0, strides, shape().dims());
        version++;
    }

    /**
     * Records that the buffer was written in place by other means than {@code assign} (a fused optimizer update),
     * so that tapes which saved the old value refuse to use it.
     */
    void markModified() {
        storage("markModified");
        version++;
    }

    /** A copy of this variable's current value as a plain tensor (not recorded). */
    public Tensor value() {
        return new Tensor(Creation.copyStorage(this, "value"), shape());
    }

    @Override
    public String toString() {
        if (isClosed()) {
            return "Variable '" + name + "' <closed>";
        }
        return TensorFormat.describe("Variable '" + name + "'", this);
    }
}
