package dev.nabla.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nabla.Device;
import java.lang.System.Logger.Level;
import java.text.MessageFormat;
import java.util.ArrayList;
import java.util.List;
import java.util.ResourceBundle;
import org.junit.jupiter.api.Test;

/**
 * How {@link Backends} picks the default device, on fake providers and without environment variables: the
 * forced device ({@code NABLA_DEVICE}, then {@code nabla.device}), else the highest-ranked usable provider, with
 * one INFO line per unusable provider when that leaves the CPU.
 */
class DefaultDeviceSelectionTest {
    /** A provider that never creates a backend: choosing a device must not need one. */
    private record Fake(String kind, int rank, boolean isAvailable, String availabilityReason)
            implements BackendProvider {
        @Override
        public Backend create(Device device) {
            throw new AssertionError("selection created a backend for " + device);
        }
    }

    /** A usable provider that must be asked for by name (as cuda-emu): never the default, however it ranks. */
    private record ByNameOnly(String kind, int rank) implements BackendProvider {
        @Override
        public boolean isAvailable() {
            return true;
        }

        @Override
        public String availabilityReason() {
            return "emulated";
        }

        @Override
        public boolean isDefaultCandidate() {
            return false;
        }

        @Override
        public Backend create(Device device) {
            throw new AssertionError("selection created a backend for " + device);
        }
    }

    /** Keeps every line logged, as "LEVEL message". */
    private static final class RecordingLogger implements System.Logger {
        final List<String> lines = new ArrayList<>();

        @Override
        public String getName() {
            return "dev.nabla";
        }

        @Override
        public boolean isLoggable(Level level) {
            return true;
        }

        @Override
        public void log(Level level, ResourceBundle bundle, String msg, Throwable thrown) {
            lines.add(level + " " + msg);
        }

        @Override
        public void log(Level level, ResourceBundle bundle, String format, Object... params) {
            lines.add(level + " " + (params == null || params.length == 0 ? format : MessageFormat.format(format,
                    params)));
        }

        List<String> at(Level level) {
            return lines.stream().filter(l -> l.startsWith(level + " ")).toList();
        }
    }

    private static final Fake CPU = new Fake("cpu", 0, true, "2 cores");
    private static final Fake GPU = new Fake("cuda", 10, true, "1 device");
    private static final Fake NO_GPU = new Fake("cuda", 10, false, "no NVIDIA driver: libcuda.so.1 missing");

    private final RecordingLogger log = new RecordingLogger();

    private Device choose(List<BackendProvider> providers, String env, String property) {
        return Backends.chooseDefault(providers, env, property, log);
    }

    @Test
    void theHighestRankedUsableProviderWinsWhateverTheOrder() {
        assertEquals(Device.cuda(0), choose(List.of(CPU, GPU), null, null));
        assertEquals(Device.cuda(0), choose(List.of(GPU, CPU), null, null));
        assertEquals(List.of(), log.at(Level.INFO), "nothing to explain when the GPU is used");
        // a usable GPU provider ranked below the CPU loses to it, and nothing is unusable, so nothing is logged
        Fake lowGpu = new Fake("cuda", -1, true, "1 device");
        assertEquals(Device.cpu(), choose(List.of(lowGpu, CPU), null, null));
        assertEquals(List.of(), log.at(Level.INFO));
    }

    @Test
    void anUnusableGpuFallsBackToTheCpuAndSaysWhyOnce() {
        assertEquals(Device.cpu(), choose(List.of(NO_GPU, CPU), null, null));
        assertEquals(List.of("INFO Nabla runs on cpu: cuda unavailable (no NVIDIA driver: libcuda.so.1 missing)"),
                log.at(Level.INFO));
    }

    @Test
    void theCpuAloneIsChosenQuietly() {
        assertEquals(Device.cpu(), choose(List.of(CPU), "", "  "));
        assertEquals(List.of(), log.at(Level.INFO));
    }

    @Test
    void noUsableProviderIsAnError() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> choose(List.of(NO_GPU), null,
                null));
        assertTrue(e.getMessage().contains("no usable Nabla backend"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> choose(List.of(), null, null));
    }

    @Test
    void theEnvironmentVariableOverridesThePropertyWhichOverridesTheRanks() {
        assertEquals(Device.cpu(), choose(List.of(CPU, GPU), "cpu", null), "NABLA_DEVICE=cpu beats the GPU's rank");
        assertEquals(Device.cpu(), choose(List.of(CPU, GPU), null, "cpu"), "-Dnabla.device=cpu beats it too");
        assertEquals(Device.cpu(), choose(List.of(CPU, GPU), "cpu", "cuda"), "the variable beats the property");
        assertEquals(Device.cuda(0), choose(List.of(CPU, GPU), "  ", "cuda"), "a blank variable is unset");
        assertEquals(Device.cuda(1), choose(List.of(CPU, GPU), " CUDA:1 ", null), "parsed as Device.parse does");
        assertEquals(Device.cuda(0), choose(List.of(CPU, GPU), "gpu", null));
    }

    @Test
    void aForcedDeviceThatCannotBeUsedFailsWithTheReasonInsteadOfFallingBack() {
        IllegalStateException unusable = assertThrows(IllegalStateException.class,
                () -> choose(List.of(NO_GPU, CPU), "cuda", null));
        assertEquals("device cuda:0 is unavailable: no NVIDIA driver: libcuda.so.1 missing", unusable.getMessage());
        IllegalStateException missing = assertThrows(IllegalStateException.class,
                () -> choose(List.of(CPU), null, "cuda:2"));
        assertTrue(missing.getMessage().startsWith("no backend for device cuda:2 on the class path"),
                missing.getMessage());
        assertTrue(missing.getMessage().contains("providers found: [cpu]"), missing.getMessage());
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
                () -> choose(List.of(CPU, GPU), "tpu", null));
        assertTrue(bad.getMessage().contains("unknown device 'tpu'"), bad.getMessage());
    }

    @Test
    void aProviderThatIsNotADefaultCandidateIsUsedOnlyWhenNamed() {
        ByNameOnly emu = new ByNameOnly("cuda-emu", 100);
        assertEquals(Device.cpu(), choose(List.of(emu, CPU), null, null), "its rank does not make it the default");
        assertEquals(Device.cuda(0), choose(List.of(emu, CPU, GPU), null, null));
        assertEquals(List.of(), log.at(Level.INFO), "nothing to explain: it was never a candidate");
        assertEquals(Device.of("cuda-emu", 0), choose(List.of(emu, CPU), "cuda-emu", null));
        assertEquals(Device.of("cuda-emu", 0), choose(List.of(emu, CPU), null, " CUDA-EMU:0 "));
        assertEquals("cuda-emu:0", Device.of("cuda-emu", 0).toString());
        IllegalStateException none = assertThrows(IllegalStateException.class, () -> choose(List.of(emu), null,
                null));
        assertTrue(none.getMessage().contains("no usable Nabla backend"), none.getMessage());
    }

    @Test
    void providersAreOrderedByRankHighestFirstKeepingTiesInOrder() {
        Fake a = new Fake("cpu", 5, true, "a");
        Fake b = new Fake("cuda", 7, true, "b");
        Fake c = new Fake("cpu", 5, true, "c");
        assertEquals(List.of(b, a, c), Backends.byRank(List.of(a, b, c)));
    }
}
