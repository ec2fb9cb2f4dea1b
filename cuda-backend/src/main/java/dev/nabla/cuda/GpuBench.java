package dev.nabla.cuda;

import dev.nabla.DType;
import dev.nabla.Device;
import dev.nabla.Rng;
import dev.nabla.Tensor;
import dev.nabla.backend.Backend;
import dev.nabla.backend.Backends;
import dev.nabla.backend.Buffer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The GPU benchmarks of the CUDA issue, for {@code scripts/gpu-check.sh}: {@code add} and {@code sum} of 2^26 float32
 * against the device-to-device copy bandwidth of the same run, a 4096 x 4096 float32 matmul, and the host-side cost
 * of a small op. Prints {@code key=value} lines and writes them to {@code OUT/nabla-bench.txt}.
 *
 * <p>Usage: {@code java ... dev.nabla.cuda.GpuBench OUT [cuda:N]}
 */
public final class GpuBench {
    private static final long N = 1L << 26;

    private GpuBench() {
    }

    /** Runs the benchmarks; exits with status 2 when no CUDA device is usable. */
    public static void main(String[] args) throws IOException {
        Path out = Path.of(args.length > 0 ? args[0] : ".");
        Device d = Device.parse(args.length > 1 ? args[1] : "cuda:0");
        if (!Device.cudaAvailable()) {
            System.out.println("skipped: no usable CUDA device (" + new CudaBackendProvider().availabilityReason() + ")");
            System.exit(2);
        }
        Map<String, String> r = new LinkedHashMap<>();
        r.put("device", d + " " + ((CudaBackend) Backends.get(d)).context().name());
        r.put("gemm", ((CudaBackend) Backends.get(d)).cublasStatus());
        double copyGbs = copyBandwidth(d);
        r.put("copy_d2d_GBps", f(copyGbs));
        Tensor a = Rng.seeded(1).uniform(d, 0, 1, DType.FLOAT32, N);
        Tensor b = Rng.seeded(2).uniform(d, 0, 1, DType.FLOAT32, N);
        double addSeconds = time(d, 20, () -> a.add(b).close());
        double addGbs = 3.0 * 4 * N / addSeconds / 1e9;
        r.put("add_2^26_f32_ms", f(addSeconds * 1e3));
        r.put("add_GBps", f(addGbs));
        r.put("add_vs_copy", f(addGbs / copyGbs) + " (goal >= 0.8)");
        double sumSeconds = time(d, 20, () -> a.sum().close());
        double sumGbs = 4.0 * N / sumSeconds / 1e9;
        r.put("sum_2^26_f32_ms", f(sumSeconds * 1e3));
        r.put("sum_GBps", f(sumGbs));
        // a reduction reads once and a copy reads and writes: compare bytes moved per second
        r.put("sum_vs_copy", f(sumGbs / copyGbs) + " (goal >= 0.8)");
        r.put("sum_check", a.sum().item() + " (expect about " + N / 2 + ")");
        // the same row kernel with a float accumulator: where sum lags max, the sum's own arithmetic is the limit
        double maxSeconds = time(d, 20, () -> a.max().close());
        r.put("max_2^26_f32_ms", f(maxSeconds * 1e3));
        r.put("max_vs_copy", f(4.0 * N / maxSeconds / 1e9 / copyGbs));
        a.close();
        b.close();
        Tensor x = Rng.seeded(3).normal(d, DType.FLOAT32, 4096, 4096);
        Tensor y = Rng.seeded(4).normal(d, DType.FLOAT32, 4096, 4096);
        double mmSeconds = time(d, 10, () -> x.matmul(y).close());
        r.put("matmul_4096_f32_ms", f(mmSeconds * 1e3));
        r.put("matmul_TFLOPs", f(2.0 * 4096 * 4096 * 4096 / mmSeconds / 1e12));
        r.put("tf32", String.valueOf(CublasSetup.tf32Requested()));
        x.close();
        y.close();
        Tensor s = Tensor.ones(d, 16);
        Tensor t = Tensor.ones(d, 16);
        int ops = 20_000;
        for (int i = 0; i < 2000; i++) {
            s.add(t).close();
        }
        CudaDevices.synchronize(d);
        long start = System.nanoTime();
        for (int i = 0; i < ops; i++) {
            s.add(t).close();
        }
        long queued = System.nanoTime();
        CudaDevices.synchronize(d);
        long done = System.nanoTime();
        r.put("small_add_host_us_per_op", f((queued - start) / 1e3 / ops));
        r.put("small_add_total_us_per_op", f((done - start) / 1e3 / ops));
        launchProbe(d, r);
        r.put("memory", d.memoryStats().toString());
        StringBuilder text = new StringBuilder();
        r.forEach((k, v) -> text.append(k).append('=').append(v).append('\n'));
        System.out.print(text);
        Files.createDirectories(out);
        Files.writeString(out.resolve("nabla-bench.txt"), text);
    }

    /**
     * Where a small op's host time goes: the same 16-element add kernel launched raw through {@link NativeLaunch}
     * and through JCuda's argument marshalling, and {@code cuCtxSetCurrent} alone (every driver call makes it).
     */
    private static void launchProbe(Device d, Map<String, String> r) {
        CudaBackend backend = (CudaBackend) Backends.get(d);
        DeviceContext context = backend.context();
        if (!(context.driver() instanceof JcudaDriverApi jcuda)) {
            return;
        }
        Object f = backend.modules().function(Kernels.binaryDense(dev.nabla.backend.BinaryOp.ADD, DType.FLOAT32));
        Buffer in = backend.allocate(DType.FLOAT32, 16); // what it holds does not matter to the timing
        Buffer out = backend.allocate(DType.FLOAT32, 16);
        long x = ((CudaBuffer) in).address();
        long z = ((CudaBuffer) out).address();
        java.util.function.Supplier<KernelArgs> args = () -> {
            KernelArgs a = new KernelArgs();
            a.add(new KernelArgs.Ptr(x));
            a.add(new KernelArgs.Ptr(x));
            a.add(new KernelArgs.Ptr(z));
            a.add(new KernelArgs.I64(16));
            a.add(new KernelArgs.I32(0));
            a.add(new KernelArgs.I32(0));
            return a;
        };
        if (NativeLaunch.get() != null) {
            r.put("launch_ffm_host_us", f(hostMicros(context, () -> context.run(
                    dr -> dr.launch(f, 1, 1, 1, KernelLaunch.THREADS, 1, 1, context.stream(), args.get())))));
        }
        r.put("launch_jcuda_host_us", f(hostMicros(context, () -> context.run(
                dr -> jcuda.launchThroughJcuda(f, 1, 1, 1, KernelLaunch.THREADS, 1, 1, context.stream(), args.get())))));
        r.put("ctx_set_current_us", f(hostMicros(context, context::makeCurrent)));
        // the rest of a small op's host time: the backend's add (launch included) and a device buffer's round trip
        long[] shape = {16};
        long[] strides = {1};
        r.put("backend_add_host_us", f(hostMicros(context,
                () -> backend.binary(dev.nabla.backend.BinaryOp.ADD, in, strides, in, strides, out, shape))));
        r.put("allocate_release_us", f(hostMicros(context, () -> backend.allocate(DType.FLOAT32, 16).release())));
        context.synchronize();
        in.release();
        out.release();
    }

    /**
     * Host microseconds per call of {@code op} over 20,000 calls, after as many to warm the JIT; the device is idle
     * at the start of each round, so the queue never fills and blocks the host.
     */
    private static double hostMicros(DeviceContext context, Runnable op) {
        int n = 20_000;
        long elapsed = 0;
        for (int round = 0; round < 2; round++) {
            context.synchronize();
            long start = System.nanoTime();
            for (int i = 0; i < n; i++) {
                op.run();
            }
            elapsed = System.nanoTime() - start;
        }
        return elapsed / 1e3 / n;
    }

    /** Bytes read plus bytes written per second by a device-to-device copy of 2^26 floats. */
    private static double copyBandwidth(Device d) {
        Backend backend = Backends.get(d);
        Buffer src = backend.allocate(DType.FLOAT32, N);
        Buffer dst = backend.allocate(DType.FLOAT32, N);
        backend.fill(src, 1);
        long[] one = {1};
        long[] shape = {N};
        double seconds = time(d, 20, () -> backend.copy(src, 0, one, dst, 0, one, shape));
        src.release();
        dst.release();
        return 2.0 * 4 * N / seconds / 1e9;
    }

    /** Median-free simple timing: warm-up, then the mean of {@code reps} runs between synchronizations. */
    private static double time(Device d, int reps, Runnable op) {
        for (int i = 0; i < 3; i++) {
            op.run();
        }
        CudaDevices.synchronize(d);
        long start = System.nanoTime();
        for (int i = 0; i < reps; i++) {
            op.run();
        }
        CudaDevices.synchronize(d);
        return (System.nanoTime() - start) / 1e9 / reps;
    }

    private static String f(double v) {
        return String.format(Locale.ROOT, "%.3f", v);
    }
}
