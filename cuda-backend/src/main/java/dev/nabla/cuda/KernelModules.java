package dev.nabla.cuda;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;

/**
 * The PTX modules of one device, loaded lazily with {@code cuModuleLoadData} (the driver JIT-compiles them for the
 * GPU in hand and caches the result on disk) and their kernel handles, cached by name.
 */
final class KernelModules {
    private final DeviceContext context;
    private final int driverVersion;
    private final Map<String, CUmodule> modules = new ConcurrentHashMap<>();
    private final Map<String, CUfunction> functions = new ConcurrentHashMap<>();

    KernelModules(DeviceContext context, int driverVersion) {
        this.context = context;
        this.driverVersion = driverVersion;
    }

    /** The kernel called {@code name}, loading its module on first use. */
    CUfunction function(String name) {
        CUfunction f = functions.get(name);
        if (f != null) {
            return f;
        }
        return functions.computeIfAbsent(name, n -> {
            CUmodule module = module(Kernels.module(n));
            CUfunction fn = new CUfunction();
            CudaCalls.check(JCudaDriver.cuModuleGetFunction(fn, module, n),
                    context.device() + " cuModuleGetFunction(" + n + ") (kernel missing from the PTX?)");
            return fn;
        });
    }

    /** Loads a module now (diagnose loads all of them to report the result). */
    CUmodule module(String name) {
        return modules.computeIfAbsent(name, this::load);
    }

    private CUmodule load(String name) {
        String ptx = PtxInfo.text(name);
        byte[] image = (ptx + '\0').getBytes(StandardCharsets.US_ASCII); // cuModuleLoadData wants a C string
        context.makeCurrent();
        CUmodule module = new CUmodule();
        int r = JCudaDriver.cuModuleLoadData(module, image);
        if (r != CUresult.CUDA_SUCCESS) {
            throw new CudaException(r, loadFailure(name, r, PtxInfo.isaVersion(ptx), driverVersion));
        }
        return module;
    }

    /** The message for a failed module load; an old driver's failure says which driver the PTX needs. */
    static String loadFailure(String module, int result, int isa, int driverVersion) {
        String base = "loading PTX module " + module + ".ptx (ISA " + PtxInfo.isaText(isa) + ") failed: "
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
