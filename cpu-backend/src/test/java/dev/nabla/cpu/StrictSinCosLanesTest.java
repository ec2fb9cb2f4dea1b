package dev.nabla.cpu;

import static dev.nabla.cpu.StrictLanesCheck.around;
import static dev.nabla.cpu.StrictLanesCheck.checkDoubles;
import static dev.nabla.cpu.StrictLanesCheck.hiWord;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nabla.backend.UnaryOp;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link StrictSinCosLanes} gives {@link StrictMath#sin}'s and {@link StrictMath#cos}'s bits in every lane: on every
 * branch of fdlibm's algorithms (each reduction, each round of the medium one, each kernel formula, each quadrant),
 * 20 ulps either side of each place they change path, next to multiples of pi/2 (where the reduction cancels), at
 * the specials, on random doubles of every range, and on a sweep of float bit patterns
 * ({@code -Dnabla.test.exhaustive=true}: all 2^32).
 */
class StrictSinCosLanesTest {
    private final Random random = new Random(14);

    /** fdlibm's {@code npio2_hw}: the high words of n pi/2 for n = 1 to 32. */
    private static final int[] NPIO2_HW = {0x3FF921FB, 0x400921FB, 0x4012D97C, 0x401921FB, 0x401F6A7A, 0x4022D97C,
        0x4025FDBB, 0x402921FB, 0x402C463A, 0x402F6A7A, 0x4031475C, 0x4032D97C, 0x40346B9C, 0x4035FDBB, 0x40378FDB,
        0x403921FB, 0x403AB41B, 0x403C463A, 0x403DD85A, 0x403F6A7A, 0x40407E4C, 0x4041475C, 0x4042106C, 0x4042D97C,
        0x4043A28C, 0x40446B9C, 0x404534AC, 0x4045FDBB, 0x4046C6CB, 0x40478FDB, 0x404858EB, 0x404921FB};

    private static void check(double[] x) {
        checkDoubles("sin", StrictSinCosLanes::sin, StrictMath::sin, x);
        checkDoubles("cos", StrictSinCosLanes::cos, StrictMath::cos, x);
    }

    @Test
    void theQuickCheckFindsFdlibmsTable() {
        // the lanes take n pi/2's high word from n times pi/2's first part instead of the table
        for (int n = 1; n <= 32; n++) {
            assertEquals(NPIO2_HW[n - 1], (int) (Double.doubleToRawLongBits(n * 0x1.921fb544p0) >>> 32), "n = " + n);
        }
    }

    @Test
    void boundariesAndSpecialsMatchStrictMath() {
        double[] anchors = {hiWord(0x3fe9_21fbL), hiWord(0x3fe9_21fcL), hiWord(0x4002_d97cL), hiWord(0x3ff9_21fbL),
            hiWord(0x3ff9_21fcL), hiWord(0x4139_21fbL), hiWord(0x4139_21fcL), hiWord(0x3e40_0000L),
            hiWord(0x3fd3_3333L), hiWord(0x3fe9_0000L), hiWord(0x3fe9_0001L), Math.PI / 4, 3 * Math.PI / 4, 1, 2,
            1e-9, 1e6, 1e22, 0x1.921fb54442d18p0};
        check(around(anchors));
        check(StrictLanesCheck.specials());
        double[] multiples = new double[2 * 200];
        for (int n = 1; n <= 200; n++) {
            multiples[2 * n - 2] = n * (Math.PI / 2);
            multiples[2 * n - 1] = Double.longBitsToDouble(NPIO2_HW[Math.min(n, 32) - 1] * (1L << 32));
        }
        check(around(multiples));
        check(around(CLOSEST_TO_MULTIPLES));
    }

    /**
     * The doubles nearest a multiple of pi/2 below 2^19 pi/2 (the reduction cancels 67 to 73 bits): found by a search
     * over every n with pi to 110 digits. Only these tell the third round of the reduction from the second.
     */
    private static final double[] CLOSEST_TO_MULTIPLES = {0x1.39c6fd67805a7p19, 0x1.93c05c9ed3cbcp18,
        0x1.edb9bbd6273d1p18, 0x1.23d98d86bd573p19, 0x1.4fb46d48435dbp19, 0x1.7dd2ecbe10c88p19, 0x1.65a1dd290660fp19,
        0x1.67e57cdd4dc54p19, 0x1.eb761c21dfd8cp18, 0x1.7b8f4d09c9643p19, 0x1.917cbcea8c677p19, 0x1.51f80cfc8ac2p19};

    @Test
    void randomValuesOfEveryRangeMatchStrictMath() {
        int n = StrictLanesCheck.randomCount();
        double[] x = new double[n];
        int[] rounds = new int[4];
        for (int i = 0; i < n; i++) {
            x[i] = switch (i % 6) {
                case 0 -> (random.nextDouble() - 0.5) * 20;                     // the first multiples of pi/2
                case 1 -> (random.nextDouble() - 0.5) * 2e6;                    // medium, and past it
                case 2 -> Math.scalb(random.nextDouble() - 0.5, -random.nextInt(40)); // small and tiny
                case 3 -> nextToAMultiple();                                    // cancelling reductions
                case 4 -> Math.scalb(random.nextDouble(), random.nextInt(-30, 1024)); // any exponent
                default -> Double.longBitsToDouble(random.nextLong());         // any bit pattern
            };
            rounds[reductionRounds(x[i])]++;
        }
        // the second and third rounds of the medium reduction are rare: make sure the sample has them
        assertTrue(rounds[2] > 0 && rounds[3] > 0, "rounds taken: " + java.util.Arrays.toString(rounds));
        check(x);
    }

    /** A double a few ulps from n pi/2 for a random n up to 2^19. */
    private double nextToAMultiple() {
        double m = random.nextInt(1, 1 << 19) * (Math.PI / 2);
        return Double.longBitsToDouble(Double.doubleToRawLongBits(m) + random.nextInt(-64, 65));
    }

    /**
     * How many rounds fdlibm's medium reduction takes for x (e_rem_pio2.c, written again here), 0 outside its range:
     * the sample must reach every one.
     */
    private static int reductionRounds(double x) {
        int ix = (int) (Double.doubleToRawLongBits(x) >>> 32) & 0x7fffffff;
        if (ix < 0x4002d97c || ix > 0x413921fb) {
            return 0;
        }
        double t = Math.abs(x);
        int n = (int) (t * 0x1.45f306dc9c883p-1 + 0.5);
        double fn = n;
        double r = t - fn * 0x1.921fb544p0;
        double w = fn * 0x1.0b4611a626331p-34;
        if (n < 32 && ix != NPIO2_HW[n - 1]) {
            return 1;
        }
        int j = ix >> 20;
        double y = r - w;
        if (j - ((int) (Double.doubleToRawLongBits(y) >>> 52) & 0x7ff) <= 16) {
            return 1;
        }
        double t2 = r;
        w = fn * 0x1.0b4611a6p-34;
        r = t2 - w;
        w = fn * 0x1.3198a2e037073p-69 - ((t2 - r) - w);
        y = r - w;
        return j - ((int) (Double.doubleToRawLongBits(y) >>> 52) & 0x7ff) <= 49 ? 2 : 3;
    }

    @Test
    void floatSinAndCosAreTheDoubleDefinitionsRounded() {
        StrictLanesCheck.checkFloatSweep("StrictSinCosLanesTest", UnaryOp.SIN, UnaryOp.COS);
    }
}
