package dev.nabla.cpu;

import dev.nabla.Device;
import dev.nabla.backend.Backend;
import dev.nabla.backend.BackendProvider;

/** Registers the CPU backend; always available. */
public final class CpuBackendProvider implements BackendProvider {
    @Override
    public String kind() {
        return "cpu";
    }

    @Override
    public int rank() {
        return 0;
    }

    @Override
    public boolean isAvailable() {
        return true;
    }

    @Override
    public String availabilityReason() {
        return Runtime.getRuntime().availableProcessors() + " cores, "
                + VectorSupport.describe();
    }

    @Override
    public Backend create(Device device) {
        return new CpuBackend();
    }
}
