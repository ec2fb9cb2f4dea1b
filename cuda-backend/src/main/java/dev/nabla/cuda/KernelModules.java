package dev.nabla.cuda;

import dev.nabla.kernels.PtxResources;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import jcuda.driver.CUresult;

/**
 * The PTX modules of one device, loaded lazily with {@code cuModuleLoadDataEx} (the driver JIT-compiles them for the
 * GPU in hand and caches the result on disk; a failure carries the JIT's error log) and their kernel handles, cached
 * by name. Every load and lookup runs with the device's context current, from whichever thread first needs it.
 */
final class KernelModules {
    private final DeviceContext context;
    private final Map<String, Object> modules = new ConcurrentHashMap<>();
    private final Map<String, Object> functions = new ConcurrentHashMap<>();
    private final Function<String, String> ptxOf;

    KernelModules(DeviceContext context) {
        this(context, PtxResources::text);
    }

    /** With the PTX of each module from {@code ptxOf} (tests hand the driver PTX it must refuse). */
    KernelModules(DeviceContext context, Function<String, String> ptxOf) {
        this.context = context;
        this.ptxOf = ptxOf;
    }

    /** The kernel called {@code name}, loading its module on first use. */
    Object function(String name) {
        Object f = functions.get(name);
        if (f != null) {
            return f;
        }
        return functions.computeIfAbsent(name, n -> {
            Object module = module(Kernels.module(n));
            return context.call(d -> d.moduleGetFunction(module, n));
        });
    }

    private final Map<String, Object> generated = new ConcurrentHashMap<>();
    private final java.util.concurrent.atomic.AtomicInteger generatedModules = new java.util.concurrent.atomic.AtomicInteger();

    /**
     * The kernel {@code entry} of PTX made at run time, rendered ({@code ptx}) and loaded once per {@code key}: the
     * driver JIT-compiles it as it does the shipped modules. The module is named {@code generated_<n>}.
     */
    Object generated(String key, String entry, java.util.function.Supplier<String> ptx) {
        Object f = generated.get(key);
        if (f != null) {
            return f;
        }
        return generated.computeIfAbsent(key, k -> {
            String name = "generated_" + generatedModules.incrementAndGet();
            String text = ptx.get();
            Object module = context.call(d -> d.moduleLoad(name, text));
            return context.call(d -> d.moduleGetFunction(module, entry));
        });
    }

    /** How many kernels were generated and loaded so far. */
    int generatedCount() {
        return generated.size();
    }

    /** Loads a module now (diagnose loads all of them to report the result). */
    Object module(String name) {
        return modules.computeIfAbsent(name, this::load);
    }

    private Object load(String name) {
        String ptx = ptxOf.apply(name);
        return context.call(d -> d.moduleLoad(name, ptx));
    }

    /** {@link #loadFailure} with the JIT's error log appended, when there is one. */
    static String loadFailure(String module, int result, String ptx, int driverVersion, String jitLog) {
        return loadFailure(module, result, PtxInfo.isaVersion(ptx), driverVersion)
                + (jitLog == null || jitLog.isEmpty() ? "" : "; JIT log: " + jitLog);
    }

    /** The message for a failed module load; an old driver's failure says which driver the PTX needs. */
    static String loadFailure(String module, int result, int isa, int driverVersion) {
        String base = "loading PTX module " + module + ".ptx (ISA " + (isa < 0 ? "unknown" : PtxInfo.isaText(isa))
                + ") failed: "
                + CudaCalls.errorName(result);
        int needed = PtxInfo.cudaVersionFor(isa);
        boolean tooOld = result == CUresult.CUDA_ERROR_UNSUPPORTED_PTX_VERSION
                || (needed > 0 && driverVersion > 0 && driverVersion < needed);
        if (tooOld) {
            return base + ": the NVIDIA driver (CUDA " + DriverProbe.versionText(driverVersion)
                    + ") is too old for PTX ISA " + PtxInfo.isaText(isa) + ", which needs a CUDA "
                    + DriverProbe.versionText(needed) + " driver (Linux " + PtxInfo.driverBranchFor(needed)
                    + " or newer)";
        }
        return base;
    }
}
