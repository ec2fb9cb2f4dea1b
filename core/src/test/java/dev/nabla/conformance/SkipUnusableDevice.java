package dev.nabla.conformance;

import dev.nabla.Device;
import java.lang.reflect.Method;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.InvocationInterceptor;
import org.junit.jupiter.api.extension.ReflectiveInvocationContext;
import org.opentest4j.TestAbortedException;

/** Skips a device-parameterized invocation, with the reason, when its device cannot be used here. */
public final class SkipUnusableDevice implements InvocationInterceptor {
    @Override
    public void interceptTestTemplateMethod(Invocation<Void> invocation, ReflectiveInvocationContext<Method> context,
            ExtensionContext extension) throws Throwable {
        for (Object arg : context.getArguments()) {
            if (arg instanceof Device d) {
                String reason = TestDevices.unusableReason(d);
                if (reason != null) {
                    invocation.skip();
                    System.out.println("SKIPPED on " + d + ": " + reason);
                    throw new TestAbortedException("device " + d + " unusable here: " + reason);
                }
            }
        }
        invocation.proceed();
    }
}
