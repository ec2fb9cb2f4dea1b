package dev.nabla.conformance;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Runs a test method once per configured device; the method takes a {@code dev.nabla.Device} as its first
 * parameter. Devices that cannot be used here are reported as skipped, with the reason.
 */
@Target(ElementType.METHOD)
@Retention(RetentionPolicy.RUNTIME)
@ParameterizedTest(name = "[{0}]")
@MethodSource("dev.nabla.conformance.TestDevices#all")
@ExtendWith(SkipUnusableDevice.class)
public @interface OnEachDevice {
}
