package dev.nabla.cuda;

import dev.nabla.Device;
import dev.nabla.backend.Backend;
import dev.nabla.backend.BackendProvider;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Registers the CUDA backend. Until the kernels and the JCuda driver binding land (issue "CUDA backend"), it reports
 * itself unavailable with the reason, and Nabla runs on the CPU.
 */
public final class CudaBackendProvider implements BackendProvider {
    @Override
    public String kind() {
        return "cuda";
    }

    @Override
    public int rank() {
        return 10;
    }

    @Override
    public boolean isAvailable() {
        return false;
    }

    @Override
    public String availabilityReason() {
        String driver = driverPresent() ? "an NVIDIA driver is present, but " : "no NVIDIA driver found, and ";
        return driver + "this build's CUDA backend has no kernels yet (planned: PTX through the JCuda driver API)";
    }

    private static boolean driverPresent() {
        return Files.exists(Path.of("/proc/driver/nvidia/version"));
    }

    @Override
    public Backend create(Device device) {
        throw new IllegalStateException("cuda backend unavailable: " + availabilityReason());
    }
}
