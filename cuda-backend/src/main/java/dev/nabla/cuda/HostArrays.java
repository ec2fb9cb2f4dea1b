package dev.nabla.cuda;

import dev.nabla.DType;

/** Conversions between the host arrays of the Backend interface and the arrays a device buffer copies. */
final class HostArrays {
    private HostArrays() {
    }

    /**
     * {@code data} as the Java array type of {@code dtype} (float[], double[], int[], byte[] 0/1 for BOOL), converted
     * element-wise with Java's casts when the types differ.
     */
    static Object toDeviceLayout(Object data, DType dtype) {
        switch (dtype) {
            case FLOAT32 -> {
                if (data instanceof float[]) {
                    return data;
                }
                double[] d = toDoubles(data);
                float[] out = new float[d.length];
                for (int i = 0; i < d.length; i++) {
                    out[i] = (float) d[i];
                }
                return out;
            }
            case FLOAT64 -> {
                return data instanceof double[] ? data : toDoubles(data);
            }
            case INT32 -> {
                if (data instanceof int[]) {
                    return data;
                }
                double[] d = toDoubles(data);
                int[] out = new int[d.length];
                for (int i = 0; i < d.length; i++) {
                    out[i] = (int) d[i];
                }
                return out;
            }
            case BOOL -> {
                double[] d = toDoubles(data);
                byte[] out = new byte[d.length];
                for (int i = 0; i < d.length; i++) {
                    out[i] = (byte) (d[i] != 0 ? 1 : 0);
                }
                return out;
            }
            default -> throw new IllegalArgumentException("unknown dtype " + dtype);
        }
    }

    /** Any supported host array as doubles. */
    static double[] toDoubles(Object data) {
        return switch (data) {
            case double[] d -> d;
            case float[] f -> {
                double[] out = new double[f.length];
                for (int i = 0; i < f.length; i++) {
                    out[i] = f[i];
                }
                yield out;
            }
            case int[] v -> {
                double[] out = new double[v.length];
                for (int i = 0; i < v.length; i++) {
                    out[i] = v[i];
                }
                yield out;
            }
            case byte[] b -> {
                double[] out = new double[b.length];
                for (int i = 0; i < b.length; i++) {
                    out[i] = b[i];
                }
                yield out;
            }
            case boolean[] z -> {
                double[] out = new double[z.length];
                for (int i = 0; i < z.length; i++) {
                    out[i] = z[i] ? 1 : 0;
                }
                yield out;
            }
            default -> throw new IllegalArgumentException("cannot upload a " + data.getClass().getSimpleName());
        };
    }

    /** A downloaded array as floats. */
    static float[] toFloats(Object data) {
        if (data instanceof float[] f) {
            return f;
        }
        double[] d = toDoubles(data);
        float[] out = new float[d.length];
        for (int i = 0; i < d.length; i++) {
            out[i] = (float) d[i];
        }
        return out;
    }

    /** A downloaded array as ints (truncation toward zero, as Java's cast). */
    static int[] toInts(Object data) {
        if (data instanceof int[] v) {
            return v;
        }
        if (data instanceof float[] f) { // direct, so no float -> double -> int detour (same result, less garbage)
            int[] out = new int[f.length];
            for (int i = 0; i < f.length; i++) {
                out[i] = (int) f[i];
            }
            return out;
        }
        double[] d = toDoubles(data);
        int[] out = new int[d.length];
        for (int i = 0; i < d.length; i++) {
            out[i] = (int) d[i];
        }
        return out;
    }
}
