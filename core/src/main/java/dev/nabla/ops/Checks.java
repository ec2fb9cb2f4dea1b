package dev.nabla.ops;

import dev.nabla.DType;
import dev.nabla.Shape;
import dev.nabla.Tensor;
import dev.nabla.internal.TensorAccess;
import java.util.List;
import java.util.Map;

/**
 * Argument checks shared by the ops and the rest of the library; every message names the op. Internal: public only
 * so that the other packages of nabla-core use the same checks and messages.
 *
 * <p>Conventions: a null argument is a {@link NullPointerException} {@code "<op>: argument <name> is null"}; a null
 * element of a list, array or map argument is {@code "<op>: argument <name>[<index>] is null"}; a user function that
 * returns null is {@code "<op>: <function> returned null"}. Use of a closed tensor is an
 * {@link IllegalStateException} naming the op. Bad shapes, sizes, dtypes and values are
 * {@link IllegalArgumentException}s naming the op, with shapes as tuples.
 */
public final class Checks {
    private Checks() {
    }

    /** {@code value}, or a NullPointerException {@code "<op>: argument <name> is null"}. */
    public static <T> T notNull(String op, String name, T value) {
        if (value == null) {
            throw new NullPointerException(op + ": argument " + name + " is null");
        }
        return value;
    }

    /** {@code list}, checked non-null and free of null elements ({@code "<op>: argument <name>[i] is null"}). */
    public static <L extends List<?>> L notNullElements(String op, String name, L list) {
        notNull(op, name, list);
        for (int i = 0; i < list.size(); i++) {
            if (list.get(i) == null) {
                throw new NullPointerException(op + ": argument " + name + "[" + i + "] is null");
            }
        }
        return list;
    }

    /** {@code array}, checked non-null and free of null elements. */
    public static <T> T[] notNullElements(String op, String name, T[] array) {
        notNull(op, name, array);
        for (int i = 0; i < array.length; i++) {
            if (array[i] == null) {
                throw new NullPointerException(op + ": argument " + name + "[" + i + "] is null");
            }
        }
        return array;
    }

    /** {@code map}, checked non-null and free of null keys and values ({@code "<op>: argument <name>['key'] is null"}). */
    public static <M extends Map<String, ?>> M notNullEntries(String op, String name, M map) {
        notNull(op, name, map);
        for (Map.Entry<String, ?> e : map.entrySet()) {
            if (e.getKey() == null) {
                throw new NullPointerException(op + ": argument " + name + " has a null key");
            }
            if (e.getValue() == null) {
                throw new NullPointerException(op + ": argument " + name + "['" + e.getKey() + "'] is null");
            }
        }
        return map;
    }

    /** What a user function returned, or a NullPointerException {@code "<op>: <function> returned null"}. */
    public static <T> T returned(String op, String function, T value) {
        if (value == null) {
            throw new NullPointerException(op + ": " + function + " returned null");
        }
        return value;
    }

    /** {@code t}, checked non-null and open (an IllegalStateException naming {@code op} after close()). */
    public static Tensor open(String op, String name, Tensor t) {
        TensorAccess.storage(notNull(op, name, t), op);
        return t;
    }

    /** Every tensor of {@code ts}, checked non-null and open. */
    public static <L extends List<? extends Tensor>> L open(String op, String name, L ts) {
        notNullElements(op, name, ts);
        for (Tensor t : ts) {
            TensorAccess.storage(t, op);
        }
        return ts;
    }

    /** What is wrong with {@code dims} as a shape (a negative dimension, too many elements), or null. */
    public static String shapeProblem(long[] dims) {
        long size = 1;
        boolean overflow = false;
        for (long d : dims) {
            if (d < 0) {
                return "has a negative dimension";
            }
        }
        for (long d : dims) {
            if (d == 0) {
                return null;
            }
            long next = size * d;
            if (Math.multiplyHigh(size, d) != 0 || next < 0) {
                overflow = true;
            }
            size = next;
        }
        return overflow ? "has more elements than a long can count (2^63 - 1)" : null;
    }

    /** The shape of {@code dims}: an IllegalArgumentException naming {@code op} for a negative or too big one. */
    public static Shape shape(String op, long[] dims) {
        notNull(op, "shape", dims);
        String problem = shapeProblem(dims);
        if (problem != null) {
            throw new IllegalArgumentException(op + ": shape " + Shape.format(dims) + " " + problem);
        }
        return Shape.of(dims);
    }

    /** Both tensors open, on one device, of one dtype; {@code b} may not be null. */
    public static void sameDeviceAndDtype(String op, Tensor a, Tensor b) {
        notNull(op, "a", a);
        notNull(op, "b", b);
        TensorAccess.storage(a, op);
        TensorAccess.storage(b, op);
        sameDevice(op, a, b);
        if (a.dtype() != b.dtype()) {
            throw new IllegalArgumentException(op + ": dtype mismatch: " + a.dtype() + " " + a.shape() + " vs "
                    + b.dtype() + " " + b.shape() + " (cast one with to(DType))");
        }
    }

    static void sameDevice(String op, Tensor a, Tensor b) {
        if (!a.device().equals(b.device())) {
            throw new IllegalArgumentException(op + ": tensors are on different devices: " + a.device() + " "
                    + a.shape() + " and " + b.device() + " " + b.shape());
        }
    }

    /** {@code t} is float32 or float64. */
    public static void floating(String op, Tensor t) {
        if (!t.dtype().isFloating()) {
            throw new IllegalArgumentException(op + ": expected a float32 or float64 tensor, got " + t.dtype() + " "
                    + t.shape());
        }
    }

    /** For an op along one axis of a float tensor (softmax and friends): open, floating, axis in range. */
    public static int floatingAxis(String op, Tensor t, int axis) {
        TensorAccess.storage(t, op);
        floating(op, t);
        return Shape.normalizeAxis(axis, t.rank(), op);
    }

    /** {@code t} is not BOOL (arithmetic is not defined on it). */
    public static void notBool(String op, Tensor t) {
        if (t.dtype() == DType.BOOL) {
            throw new IllegalArgumentException(op + ": not defined for bool tensors " + t.shape());
        }
    }

    static void dtype(String op, String what, Tensor t, DType expected) {
        if (t.dtype() != expected) {
            throw new IllegalArgumentException(op + ": " + what + " must be " + expected + ", got " + t.dtype() + " "
                    + t.shape());
        }
    }

    /** A checked int size for host arrays and index math. */
    static int intSize(String op, long size) {
        if (size > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException(op + ": " + size + " elements exceed the 2^31 limit of one tensor");
        }
        return (int) size;
    }
}
