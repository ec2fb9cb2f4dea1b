package dev.nabla.ops;

import dev.nabla.DType;
import dev.nabla.Device;
import dev.nabla.Shape;
import dev.nabla.Tensor;
import dev.nabla.autograd.Recorder;
import dev.nabla.backend.Backend;
import dev.nabla.backend.Backends;
import dev.nabla.backend.Storage;

/** Making tensors: from host data, filled, ranges, copies, casts and device transfers. */
public final class Creation {
    private Creation() {
    }

    /** A new tensor with an uninitialised buffer, for an op to write. */
    public static Tensor empty(Backend backend, DType dtype, Shape shape) {
        return Tensor.wrap(new Storage(backend, backend.allocate(dtype, shape.size())), shape);
    }

    /** A tensor of host {@code data} ({@code float[]}, {@code double[]}, {@code int[]}, {@code boolean[]}); no shape: 1-D. */
    public static Tensor of(Device d, Object data, long... shape) {
        int n = java.lang.reflect.Array.getLength(data);
        return withShape(d, data, shape.length == 0 ? Shape.of(n) : Shape.of(shape));
    }

    /** A 0-d tensor from a one-element host array. */
    public static Tensor scalar(Device d, Object oneElement) {
        return withShape(d, oneElement, Shape.scalar());
    }

    /** A tensor of host {@code data} with an explicit shape (the only way to pass a scalar shape). */
    public static Tensor withShape(Device d, Object data, Shape s) {
        int n = java.lang.reflect.Array.getLength(data);
        DType dtype = switch (data) {
            case float[] x -> DType.FLOAT32;
            case double[] x -> DType.FLOAT64;
            case int[] x -> DType.INT32;
            case boolean[] x -> DType.BOOL;
            default -> throw new IllegalArgumentException("of: unsupported array type " + data.getClass());
        };
        if (s.size() != n) {
            throw new IllegalArgumentException("of: " + n + " values do not fill shape " + s + " (" + s.size()
                    + " elements)");
        }
        Backend b = Backends.get(d);
        return Tensor.wrap(new Storage(b, b.upload(data, dtype)), s);
    }

    /** A FLOAT32 matrix from rows. @throws IllegalArgumentException for ragged rows */
    public static Tensor of(Device d, float[][] rows) {
        int cols = rows.length == 0 ? 0 : rows[0].length;
        float[] flat = new float[Checks.intSize("of", (long) rows.length * cols)];
        for (int r = 0; r < rows.length; r++) {
            if (rows[r] == null || rows[r].length != cols) {
                throw new IllegalArgumentException("of: ragged rows: row " + r + " has "
                        + (rows[r] == null ? "null" : rows[r].length + " values") + ", row 0 has " + cols);
            }
            System.arraycopy(rows[r], 0, flat, r * cols, cols);
        }
        return of(d, flat, rows.length, cols);
    }

    /** A tensor filled with {@code value}. */
    public static Tensor full(Device d, double value, DType t, long... shape) {
        Backend b = Backends.get(d);
        Tensor out = empty(b, t, Shape.of(shape));
        b.fill(out.buffer("full"), value);
        return out;
    }

    /** INT32 0 .. n-1. */
    public static Tensor arange(Device d, int n) {
        if (n < 0) {
            throw new IllegalArgumentException("arange: n must be >= 0, got " + n);
        }
        Backend b = Backends.get(d);
        Tensor out = empty(b, DType.INT32, Shape.of(n));
        b.iota(out.buffer("arange"));
        return out;
    }

    /** A scalar of {@code like}'s dtype and device: how a Java number joins a tensor op. */
    public static Tensor scalarLike(Tensor like, double v) {
        // no open check here: the op taking the number checks `like` and names itself ("add: ... after close()")
        Backend b = like.backend();
        Tensor out = empty(b, like.dtype(), Shape.scalar());
        b.fill(out.buffer("scalar"), v);
        return out;
    }

    /** A fresh storage holding a copy of {@code t}'s elements on its device. */
    public static Storage copyStorage(Tensor t, String op) {
        Storage src = t.storage(op);
        Backend b = src.backend();
        Storage dst = new Storage(b, b.allocate(t.dtype(), t.size()));
        long[] strides = t.shape().strides();
        b.copy(src.buffer(), 0, strides, dst.buffer(), 0, strides, t.shape().dims());
        return dst;
    }

    /** {@code t} on device {@code d}; gradients flow back to {@code t}'s device. */
    public static Tensor toDevice(Tensor t, Device d) {
        t.storage("to");
        if (t.device().equals(d)) {
            return t;
        }
        Backend target = Backends.get(d);
        Object host = switch (t.dtype()) {
            case FLOAT32 -> t.toFloatArray();
            case FLOAT64 -> t.toDoubleArray();
            case INT32 -> t.toIntArray();
            case BOOL -> toBooleans(t.toIntArray());
        };
        Tensor out = Tensor.wrap(new Storage(target, target.upload(host, t.dtype())), t.shape());
        Device from = t.device();
        Recorder.recordLinear("to", new Tensor[] {t}, out, (g, needed) -> new Tensor[] {g.to(from)});
        return out;
    }

    private static boolean[] toBooleans(int[] v) {
        boolean[] r = new boolean[v.length];
        for (int i = 0; i < v.length; i++) {
            r[i] = v[i] != 0;
        }
        return r;
    }

    /** {@code t} converted to {@code dtype}; differentiable between float types. */
    public static Tensor cast(Tensor t, DType dtype) {
        Backend b = t.storage("cast").backend();
        if (t.dtype() == dtype) {
            return t;
        }
        Tensor out = empty(b, dtype, t.shape());
        b.cast(t.buffer("cast"), out.buffer("cast"));
        DType from = t.dtype();
        if (from.isFloating() && dtype.isFloating()) {
            Recorder.recordLinear("cast", new Tensor[] {t}, out, (g, needed) -> new Tensor[] {g.to(from)});
        }
        return out;
    }
}
