package dev.nabla.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nabla.DType;
import dev.nabla.Device;
import dev.nabla.Rng;
import dev.nabla.Tensor;
import dev.nabla.Variable;
import dev.nabla.optim.Adam;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A program started without {@code --add-modules jdk.incubator.vector} works, says once why it is slower, and gets
 * the same bits as one with the Vector API: never a {@code NoClassDefFoundError} from deep inside a kernel.
 */
class NoVectorApiTest {
    /**
     * Large enough for every fast path (element-wise past the vector tails, a multi-block sum, a packed matmul,
     * exp, an Adam step); prints a digest of the result's bits.
     */
    static String workload() {
        Device cpu = Device.cpu();
        Rng rng = Rng.seeded(5);
        Tensor a = rng.normal(cpu, DType.FLOAT32, 70, 300);
        Tensor b = rng.normal(cpu, DType.FLOAT32, 300, 50);
        Tensor x = rng.normal(cpu, DType.FLOAT32, 101 * 991);
        Variable w = new Variable(rng.normal(cpu, DType.FLOAT32, 20_000));
        Adam adam = new Adam(1e-2);
        for (int s = 0; s < 3; s++) {
            adam.minimize(() -> w.sigmoid().mul(w).sum(), List.of(w));
        }
        Tensor[] results = {a.matmul(b), a.to(DType.FLOAT64).matmul(b.to(DType.FLOAT64)), x.sum(), x.exp(),
            x.mul(x).add(x), x.reshape(101, 991).sum(0), w};
        long digest = 17;
        for (Tensor t : results) {
            for (double v : t.toDoubleArray()) {
                digest = digest * 31 + Double.doubleToRawLongBits(v);
            }
        }
        return "digest " + Long.toHexString(digest);
    }

    public static void main(String[] args) {
        System.out.println(workload());
        System.out.println("vector api " + VectorSupport.AVAILABLE);
    }

    @Test
    void withoutTheModuleTheSameProgramRunsAndGivesTheSameBits() throws Exception {
        List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                System.getProperty("java.class.path"), NoVectorApiTest.class.getName());
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the child JVM finished");
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("vector api false"), out);
        assertFalse(out.contains("NoClassDefFoundError"), out);
        assertEquals(1, out.split("runs without the Vector API", -1).length - 1, "said exactly once:\n" + out);
        assertTrue(out.contains(workload()), "same bits as this JVM's (" + VectorSupport.describe() + "):\n" + out);
    }
}
