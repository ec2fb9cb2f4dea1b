package dev.nabla.cuda;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.nabla.Device;

/** What every cuda-emu test class shares: the device, and the rule for when the emulator must exist. */
final class EmuTests {
    static final Device EMU = Device.of("cuda-emu", 0);

    private EmuTests() {
    }

    /** Skips the class without a C++ compiler (saying why), and fails it where one exists but the build broke. */
    static void requireEmulator() {
        EmulatorBuild.Result r = EmulatorBuild.result();
        assumeTrue(r.library() != null || !r.compilerMissing(), r.reason());
        assertTrue(r.library() != null, "the emulator must build where a C++ compiler exists: " + r.reason());
    }
}
