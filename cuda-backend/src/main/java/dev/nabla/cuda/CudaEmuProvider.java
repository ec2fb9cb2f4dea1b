package dev.nabla.cuda;

import dev.nabla.Device;
import dev.nabla.backend.Backend;
import dev.nabla.backend.BackendProvider;

/**
 * The device kind {@code cuda-emu}: {@link CudaBackend} on the {@link EmulatedDriver}, which runs the real CUDA
 * kernels compiled for the host, so the CUDA backend is tested on machines without a GPU. Asked for by name only
 * ({@code NABLA_DEVICE=cuda-emu}, {@code Device.parse("cuda-emu")}), never the default device. Unavailable, with
 * the reason, where no C++ compiler exists or the build fails.
 */
public final class CudaEmuProvider implements BackendProvider {
    /** Creates the provider; nothing is compiled until {@link #isAvailable()} is first asked. */
    public CudaEmuProvider() {
    }

    @Override
    public String kind() {
        return "cuda-emu";
    }

    @Override
    public int rank() {
        return -100;
    }

    @Override
    public boolean isDefaultCandidate() {
        return false;
    }

    @Override
    public boolean isAvailable() {
        return EmulatorBuild.result().library() != null;
    }

    @Override
    public String availabilityReason() {
        EmulatorBuild.Result r = EmulatorBuild.result();
        return r.library() != null ? "emulated: the CUDA backend on host-compiled kernels (" + r.compiler()
                + "), for testing; never the default device" : r.reason();
    }

    @Override
    public Backend create(Device device) {
        if (!isAvailable()) {
            throw new IllegalStateException("cuda-emu backend unavailable: " + availabilityReason());
        }
        if (device.index() != 0) {
            throw new IllegalArgumentException("device " + device + " does not exist: the emulator has one device, "
                    + "cuda-emu:0");
        }
        return new CudaBackend(device, EmulatedDriver.instance());
    }

    /** Says it is emulated, then the device as {@code cuda} reports it; builds the emulator only when asked. */
    @Override
    public String diagnose() {
        StringBuilder sb = new StringBuilder();
        if (EmulatorBuild.peek() == null) {
            return "cuda-emu: emulated CUDA for testing, not built in this JVM (NABLA_DEVICE=cuda-emu compiles the "
                    + "kernels for the host with " + EmulatorBuild.compiler() + " and uses it; never the default)";
        }
        boolean available = isAvailable();
        sb.append("cuda-emu: ").append(available ? "available" : "unavailable").append(" (")
                .append(availabilityReason()).append(")\n");
        if (available) {
            CudaDiagnosis.device(sb, Device.of("cuda-emu", 0));
        }
        return sb.toString().stripTrailing();
    }
}
