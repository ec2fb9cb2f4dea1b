package dev.nabla.autograd;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** How checkNumerics starts from NABLA_CHECK_NUMERICS and -Dnabla.checkNumerics, and what counts as Nabla's code. */
class NumericsCheckSettingTest {
    @Test
    void offUnlessTheEnvironmentOrThePropertySaysOn() {
        assertFalse(NumericsCheck.initialSetting(null, null));
        assertFalse(NumericsCheck.initialSetting("", " "));
        assertFalse(NumericsCheck.initialSetting("0", null));
        assertFalse(NumericsCheck.initialSetting("false", null));
        assertTrue(NumericsCheck.initialSetting("1", null));
        assertTrue(NumericsCheck.initialSetting("true", null));
        assertTrue(NumericsCheck.initialSetting(" TRUE ", null));
        assertTrue(NumericsCheck.initialSetting(null, "true"));
        assertTrue(NumericsCheck.initialSetting(null, "1"));
        // the property wins over the environment, both ways
        assertFalse(NumericsCheck.initialSetting("1", "false"));
        assertTrue(NumericsCheck.initialSetting("0", "true"));
    }

    @Test
    void libraryPackagesAndTheJdkAreNotTheCaller() {
        assertTrue(NumericsCheck.isLibraryOrJdk("dev.nabla.Tensor"));
        assertTrue(NumericsCheck.isLibraryOrJdk("dev.nabla.ops.Elementwise$$Lambda/0x1234"));
        assertTrue(NumericsCheck.isLibraryOrJdk("dev.nabla.cpu.CpuBackend"));
        assertTrue(NumericsCheck.isLibraryOrJdk("dev.nabla.nn.Dense"));
        assertTrue(NumericsCheck.isLibraryOrJdk("java.util.ArrayList"));
        assertTrue(NumericsCheck.isLibraryOrJdk("jdk.internal.reflect.DirectMethodHandleAccessor"));
        assertFalse(NumericsCheck.isLibraryOrJdk("dev.nabla.conformance.NumericsCheckTest"));
        assertFalse(NumericsCheck.isLibraryOrJdk("dev.nabla.examples.MnistExample"));
        assertFalse(NumericsCheck.isLibraryOrJdk("com.example.Train"));
        assertFalse(NumericsCheck.isLibraryOrJdk("Main"));
    }
}
