package dev.nabla.conformance;

import dev.nabla.DType;
import dev.nabla.Device;
import dev.nabla.Tensor;
import java.util.Random;

/** Test inputs made on a given device, each with the exact host values a reference computes on. */
final class DeviceTensors {
    private DeviceTensors() {
    }

    /** A device tensor and the same values on the host. */
    record Input(Tensor tensor, HostTensor host) {
    }

    /** Values as the dtype stores them: float32 rounding, INT32 rounding to the nearest integer, BOOL non-zero. */
    static double[] representable(DType t, double[] values) {
        double[] v = values.clone();
        for (int i = 0; i < v.length; i++) {
            v[i] = switch (t) {
                case FLOAT32 -> (float) v[i];
                case FLOAT64 -> v[i];
                case INT32 -> Math.round(v[i]);
                case BOOL -> v[i] != 0 ? 1 : 0;
            };
        }
        return v;
    }

    /** A tensor of {@code shape} (any rank, scalars too) holding {@code values} as dtype {@code t} on {@code d}. */
    static Tensor of(Device d, DType t, long[] shape, double[] values) {
        Tensor flat = switch (t) {
            case FLOAT32 -> {
                float[] f = new float[values.length];
                for (int i = 0; i < f.length; i++) {
                    f[i] = (float) values[i];
                }
                yield Tensor.of(d, f, values.length);
            }
            case FLOAT64 -> Tensor.of(d, values.clone(), values.length);
            case INT32 -> {
                int[] n = new int[values.length];
                for (int i = 0; i < n.length; i++) {
                    n[i] = (int) Math.round(values[i]);
                }
                yield Tensor.of(d, n, values.length);
            }
            case BOOL -> {
                boolean[] b = new boolean[values.length];
                for (int i = 0; i < b.length; i++) {
                    b[i] = values[i] != 0;
                }
                yield Tensor.of(d, b, values.length);
            }
        };
        // NOTE: Tensor.of(data) with no shape means 1-D, so scalars are made by reshaping to ()
        return shape.length == 1 ? flat : flat.reshape(shape);
    }

    /** Random values from {@code domain} for input number {@code input} of an op. */
    static Input random(Device d, DType t, long[] shape, Domain domain, Random r, int input) {
        double[] v = representable(t, domain.draw(r, input, (int) HostTensor.sizeOf(shape)));
        return new Input(of(d, t, shape, v), new HostTensor(shape.clone(), v));
    }

    /** A FLOAT64 tensor of standard normal values from a seeded java.util.Random. */
    static Tensor normal(Device d, Random r, long... shape) {
        double[] v = new double[(int) HostTensor.sizeOf(shape)];
        for (int i = 0; i < v.length; i++) {
            v[i] = r.nextGaussian();
        }
        return of(d, DType.FLOAT64, shape, v);
    }
}
