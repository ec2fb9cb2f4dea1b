package dev.nabla.cuda;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import dev.nabla.Device;
import org.junit.jupiter.api.Test;

/** The provider answers, whatever the machine: available with what it found, or unavailable with a reason. */
class CudaBackendProviderTest {
    private final CudaBackendProvider provider = new CudaBackendProvider();

    @Test
    void availabilityNeverThrowsAndAlwaysHasAReason() {
        boolean available = assertDoesNotThrow(provider::isAvailable);
        String reason = assertDoesNotThrow(provider::availabilityReason);
        assertFalse(reason.isBlank());
        assertFalse(reason.contains("\n"), "one line: " + reason);
        assertEquals(available, provider.isAvailable(), "the probe runs once and its answer is stable");
        System.out.println("cuda provider: " + (available ? "available" : "unavailable") + " (" + reason + ")");
    }

    @Test
    void withoutAGpuCreateFailsWithTheReason() {
        assumeFalse(provider.isAvailable(), "a GPU is usable here");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> provider.create(Device.cuda(0)));
        assertTrue(e.getMessage().contains(provider.availabilityReason()), e.getMessage());
    }

    @Test
    void diagnoseAlwaysPrintsTheDriverAndPtxFacts() {
        String report = assertDoesNotThrow(provider::diagnose);
        assertTrue(report.startsWith("cuda: "), report);
        assertTrue(report.contains("PTX: ISA 9.0"), report);
        assertTrue(report.contains("r580"), report);
    }

    @Test
    void loadFailuresBecomeOneLineReasons() {
        String missingDriver = DriverProbe.describeLoadFailure(new UnsatisfiedLinkError(
                "Error while loading native library \"JCudaDriver-12.0.0-linux-x86_64\"\n"
                        + "libcuda.so.1: cannot open shared object file: No such file or directory"));
        assertTrue(missingDriver.startsWith("no NVIDIA driver: libcuda.so.1 could not be loaded"), missingDriver);
        assertFalse(missingDriver.contains("\n"));
        String noJcuda = DriverProbe.describeLoadFailure(new NoClassDefFoundError("jcuda/driver/JCudaDriver"));
        assertEquals("JCuda (org.jcuda:jcuda) is not on the class path", noJcuda);
    }

    @Test
    void anOldDriverIsToldWhichDriverThePtxNeeds() {
        // CUDA_ERROR_UNSUPPORTED_PTX_VERSION (222) from a CUDA 12.4 driver loading ISA 9.0
        String message = KernelModules.loadFailure("unary", 222, 90, 12040);
        assertTrue(message.contains("too old for PTX ISA 9.0"), message);
        assertTrue(message.contains("CUDA 13.0 driver (Linux r580 or newer)"), message);
        assertTrue(message.contains("(CUDA 12.4)"), message);
        assertFalse(KernelModules.loadFailure("unary", 218, 90, 13000).contains("too old"));
    }
}
