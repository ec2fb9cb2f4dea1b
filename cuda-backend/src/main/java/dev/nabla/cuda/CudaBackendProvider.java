package dev.nabla.cuda;

import dev.nabla.Device;
import dev.nabla.backend.Backend;
import dev.nabla.backend.BackendProvider;

/**
 * Registers the CUDA backend with {@code ServiceLoader}. Availability is probed once (JCuda's JNI library, the
 * driver's {@code libcuda.so.1}, at least one device) and never throws: anything that fails makes the backend
 * unavailable with a one-line reason, and Nabla runs on the CPU.
 */
public final class CudaBackendProvider implements BackendProvider {
    /** Creates the provider; nothing is loaded until {@link #isAvailable()} is first asked. */
    public CudaBackendProvider() {
    }

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
        return DriverProbe.result().usable();
    }

    @Override
    public String availabilityReason() {
        return DriverProbe.result().reason();
    }

    @Override
    public Backend create(Device device) {
        DriverProbe.Result probe = DriverProbe.result();
        if (!probe.usable()) {
            throw new IllegalStateException("cuda backend unavailable: " + probe.reason());
        }
        if (device.index() >= probe.deviceCount()) {
            throw new IllegalArgumentException("device " + device + " does not exist: the driver sees "
                    + probe.deviceCount() + " CUDA device(s)");
        }
        return new CudaBackend(device, driver(probe.driverVersion()));
    }

    private static volatile CudaDriver driver;

    private static synchronized CudaDriver driver(int driverVersion) {
        if (driver == null) {
            driver = new JcudaDriverApi(driverVersion);
        }
        return driver;
    }

    @Override
    public String diagnose() {
        return CudaDiagnosis.report();
    }
}
