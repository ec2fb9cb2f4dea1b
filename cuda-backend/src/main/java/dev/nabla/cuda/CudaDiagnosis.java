package dev.nabla.cuda;

import dev.nabla.Device;
import dev.nabla.backend.Backends;
import dev.nabla.kernels.PtxResources;
import java.util.Locale;

/**
 * The CUDA part of {@code Device.diagnose()}: driver, each device (name, compute capability, SMs, memory), cuBLAS
 * found or not and where, the PTX ISA and whether every module loads (an old driver's failure names the driver the
 * PTX needs), and the allocator's counters. Every section catches its own failure, so the report always prints.
 */
final class CudaDiagnosis {
    private CudaDiagnosis() {
    }

    static String report() {
        StringBuilder sb = new StringBuilder();
        DriverProbe.Result probe = DriverProbe.result();
        sb.append("cuda: ").append(probe.usable() ? "available" : "unavailable").append(" (").append(probe.reason())
                .append(")\n");
        int isa = ptxIsa();
        int needs = PtxInfo.cudaVersionFor(isa);
        sb.append("  PTX: ISA ").append(PtxInfo.isaText(isa)).append(" for compute_75, needs a CUDA ")
                .append(DriverProbe.versionText(needs)).append(" driver (Linux ").append(PtxInfo.driverBranchFor(needs))
                .append(" or newer)\n");
        if (!probe.usable()) {
            return sb.toString().stripTrailing();
        }
        for (int i = 0; i < probe.deviceCount(); i++) {
            device(sb, Device.cuda(i));
        }
        return sb.toString().stripTrailing();
    }

    private static int ptxIsa() {
        try {
            return PtxInfo.isaVersion(PtxResources.text("unary"));
        } catch (RuntimeException e) {
            return -1;
        }
    }

    static void device(StringBuilder sb, Device d) {
        CudaBackend backend;
        try {
            backend = (CudaBackend) Backends.get(d);
        } catch (RuntimeException e) {
            sb.append("  ").append(d).append(": cannot be opened: ").append(e.getMessage()).append('\n');
            return;
        }
        DeviceContext c = backend.context();
        sb.append("  ").append(d).append(": ").append(c.name()).append(", compute capability ")
                .append(c.computeMajor()).append('.').append(c.computeMinor()).append(", ").append(c.multiprocessors())
                .append(" SMs, ").append(gib(c.totalMemory())).append(" total, ").append(freeMemory(c)).append(" free\n");
        sb.append("    ").append(backend.cublasStatus()).append('\n');
        sb.append("    PTX modules: ").append(loadModules(backend)).append('\n');
        sb.append("    memory: ").append(backend.memoryStats()).append('\n');
    }

    private static String freeMemory(DeviceContext c) {
        try {
            long free = c.call(CudaDriver::freeMemory);
            return free < 0 ? "unknown" : gib(free);
        } catch (RuntimeException e) {
            return "unknown";
        }
    }

    private static String loadModules(CudaBackend backend) {
        StringBuilder sb = new StringBuilder();
        long start = System.nanoTime();
        for (String module : Kernels.modules()) {
            try {
                backend.modules().module(module);
            } catch (RuntimeException e) {
                return "FAILED: " + e.getMessage();
            }
        }
        sb.append("all ").append(Kernels.modules().size()).append(" loaded (JIT and cache ")
                .append(String.format(Locale.ROOT, "%.2f s", (System.nanoTime() - start) / 1e9)).append(')');
        return sb.toString();
    }

    private static String gib(long bytes) {
        return String.format(Locale.ROOT, "%.1f GiB", bytes / (1024.0 * 1024 * 1024));
    }
}
