package dev.nabla.conformance;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nabla.Device;
import dev.nabla.Nabla;
import dev.nabla.NumericsException;
import dev.nabla.Tensor;
import java.io.IOException;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * {@code NABLA_CHECK_NUMERICS=1} turns the check on at startup and {@code -Dnabla.checkNumerics=false} wins over it,
 * in a fresh JVM on the CPU (the setting is read once, when Nabla's classes load).
 */
@Tag("execution-independent")
class NumericsCheckStartupTest {
    /** The forked program: reports the setting, then takes log(-1). */
    public static final class Child {
        private Child() {
        }

        public static void main(String[] args) {
            System.out.println("checking=" + Nabla.isCheckingNumerics());
            try {
                float v = Tensor.of(Device.cpu(), new float[] {-1}).log().item();
                System.out.println("result=" + v);
            } catch (NumericsException e) {
                System.out.println("threw=" + e.getMessage());
            }
        }
    }

    private static String run(Map<String, String> env, String... jvmArgs) throws IOException, InterruptedException {
        return ChildJvm.run(Child.class, env, jvmArgs);
    }

    @Test
    void environmentVariableTurnsItOn() throws Exception {
        String out = run(Map.of("NABLA_CHECK_NUMERICS", "1"));
        assertTrue(out.contains("checking=true"), out);
        assertTrue(out.contains("threw=checkNumerics: log produced NaN (inputs (1,)) at " + Child.class.getName()
                + ".main(NumericsCheckStartupTest.java:"), out);
    }

    @Test
    void propertyWinsOverTheEnvironment() throws Exception {
        String out = run(Map.of("NABLA_CHECK_NUMERICS", "1"), "-Dnabla.checkNumerics=false");
        assertTrue(out.contains("checking=false"), out);
        assertTrue(out.contains("result=NaN"), out);
    }
}
