package dev.nabla.conformance;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nabla.DType;
import dev.nabla.Device;
import dev.nabla.Rng;
import dev.nabla.Shape;
import dev.nabla.Tensor;
import java.util.Arrays;

/** Rng: reproducible streams, the Philox definition, and the moments of large draws. */
class RandomTest {
    /** Philox4x32-10 of counter 0 under key 0: the known-answer vector of the Random123 reference. */
    private static final int[] PHILOX_ZERO_BLOCK = {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8};

    /** A word's top 24 bits, centred in their bucket: Philox.unitUniform's documented map onto (0, 1). */
    private static double unit(int word) {
        return ((word >>> 8) + 0.5) / (1 << 24);
    }

    @OnEachDevice
    void sameSeedGivesTheSameNumbers(Device d) {
        for (DType t : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            assertArrayEquals(Rng.seeded(42).normal(d, t, 3, 5).toDoubleArray(),
                    Rng.seeded(42).normal(d, t, 3, 5).toDoubleArray());
            assertArrayEquals(Rng.seeded(42).uniform(d, -2, 2, t, 17).toDoubleArray(),
                    Rng.seeded(42).uniform(d, -2, 2, t, 17).toDoubleArray());
        }
    }

    @OnEachDevice
    void differentSeedsAndSuccessiveDrawsDiffer(Device d) {
        Rng rng = Rng.seeded(1);
        double[] first = rng.normal(d, DType.FLOAT64, 8).toDoubleArray();
        double[] second = rng.normal(d, DType.FLOAT64, 8).toDoubleArray();
        assertFalse(Arrays.equals(first, second), "the counter must advance between draws");
        assertFalse(Arrays.equals(first, Rng.seeded(2).normal(d, DType.FLOAT64, 8).toDoubleArray()));
    }

    @OnEachDevice
    void uniformFollowsThePhiloxDefinition(Device d) {
        // seed 0, counter 0: element j is lo + (hi - lo) * unit(word j) of the known-answer block
        double[] u = Rng.seeded(0).uniform(d, -1, 3, DType.FLOAT64, 4).toDoubleArray();
        for (int j = 0; j < 4; j++) {
            assertEquals(-1 + 4 * unit(PHILOX_ZERO_BLOCK[j]), u[j], 1e-15, "element " + j);
        }
    }

    @OnEachDevice
    void normalFollowsTheBoxMullerDefinition(Device d) {
        // Box-Muller on word pairs (0, 1) and (2, 3): r = sqrt(-2 ln u_even), angle = 2 pi u_odd;
        // the even element is r cos(angle), the odd one r sin(angle)
        double[] z = Rng.seeded(0).normal(d, DType.FLOAT64, 4).toDoubleArray();
        for (int pair = 0; pair < 4; pair += 2) {
            double r = Math.sqrt(-2 * Math.log(unit(PHILOX_ZERO_BLOCK[pair])));
            double angle = 2 * Math.PI * unit(PHILOX_ZERO_BLOCK[pair + 1]);
            assertEquals(r * Math.cos(angle), z[pair], 1e-12);
            assertEquals(r * Math.sin(angle), z[pair + 1], 1e-12);
        }
    }

    @OnEachDevice
    void uniformStaysWithinBoundsWithTheRightMean(Device d) {
        int n = 200_000;
        for (DType t : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            Tensor u = Rng.seeded(7).uniform(d, 2, 5, t, n);
            assertEquals(Shape.of(n), u.shape());
            assertEquals(t, u.dtype());
            double[] v = u.toDoubleArray();
            assertTrue(Arrays.stream(v).allMatch(x -> x >= 2 && x < 5), t + " draw outside [2, 5)");
            // mean of U(2, 5) is 3.5, std 3/sqrt(12); 5 standard errors
            double mean = Arrays.stream(v).average().orElseThrow();
            assertEquals(3.5, mean, 5 * 3 / Math.sqrt(12) / Math.sqrt(n), t + " mean");
        }
    }

    @OnEachDevice
    void float32UniformNeverReturnsTheUpperBound(Device d) {
        // word 3 of the Philox block (seed 39075, counter 0) has its top 24 bits all ones (found by searching
        // seeds): u = 1 - 2^-25, and 0 + 1 * u rounds to exactly 1.0f, outside [0, 1)
        for (float v : Rng.seeded(39075).uniform(d, 0, 1, DType.FLOAT32, 4).toFloatArray()) {
            assertTrue(v >= 0 && v < 1, "uniform(0, 1) drew " + v);
        }
        // the same stream in float64 keeps the value 1 - 2^-25
        assertEquals(1 - 0x1p-25, Rng.seeded(39075).uniform(d, 0, 1, DType.FLOAT64, 4).toDoubleArray()[3]);
    }

    @OnEachDevice
    void normalHasMeanZeroAndStdOne(Device d) {
        int n = 200_000;
        double[] v = Rng.seeded(11).normal(d, DType.FLOAT32, 400, 500).toDoubleArray();
        double mean = Arrays.stream(v).average().orElseThrow();
        double var = Arrays.stream(v).map(x -> (x - mean) * (x - mean)).sum() / (n - 1);
        // standard errors: 1/sqrt(n) for the mean, about sqrt(2/n) for the variance; allow 5
        assertEquals(0, mean, 5 / Math.sqrt(n));
        assertEquals(1, var, 5 * Math.sqrt(2.0 / n));
        assertTrue(Arrays.stream(v).allMatch(Double::isFinite));
    }
}
