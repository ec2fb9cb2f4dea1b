package dev.nabla.conformance;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nabla.Device;
import dev.nabla.GradientTape;
import dev.nabla.Tensor;
import dev.nabla.Variable;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * A runtime without jdk.jfr (jlink for a class-path application may leave it out, as the first GPU check's did)
 * runs Nabla: ops, allocations and gradients, with no Flight Recorder events and no NoClassDefFoundError.
 */
@Tag("execution-independent")
class WithoutFlightRecorderTest {
    /** The forked program: says whether jdk.jfr exists, then trains one step. */
    public static final class Child {
        private Child() {
        }

        public static void main(String[] args) {
            System.out.println("jfr=" + ModuleLayer.boot().findModule("jdk.jfr").isPresent());
            Variable x = new Variable(Tensor.of(Device.cpu(), new float[] {1, 2, 3}, 3));
            Tensor loss;
            GradientTape tape = new GradientTape();
            try (tape) {
                loss = x.mul(x).sum();
            }
            Tensor big = Tensor.ones(Device.cpu(), 1 << 16).mul(2f); // a pooled buffer: an allocation event's path
            System.out.println("loss=" + loss.item() + " grad=" + java.util.Arrays.toString(
                    tape.gradient(loss, x).toFloatArray()) + " big=" + big.sum().item());
        }
    }

    @Test
    void opsAllocationsAndGradientsRunWithoutJdkJfr() throws Exception {
        String out = ChildJvm.run(Child.class, Map.of(), "--limit-modules",
                "java.base,java.logging,java.management,java.xml,jdk.unsupported,jdk.incubator.vector");
        assertTrue(out.contains("jfr=false"), out);
        assertTrue(out.contains("loss=14.0 grad=[2.0, 4.0, 6.0] big=131072.0"), out);
    }
}
