package dev.nabla.backend;

/**
 * Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011), the counter-based generator
 * behind {@code Rng}. This class is the definition every backend reproduces bit for bit: element {@code i} of a fill
 * that starts at counter {@code c} uses word {@code i % 4} of the block for counter {@code c + i / 4}.
 *
 * <pre>{@code
 * int[] words = Philox.block(42L, 0L);            // four 32-bit words for counter 0
 * double u = Philox.unitUniform(words[0]);        // in [0, 1)
 * }</pre>
 */
public final class Philox {
    private static final int M0 = 0xD2511F53;
    private static final int M1 = 0xCD9E8D57;
    private static final int W0 = 0x9E3779B9;
    private static final int W1 = 0xBB67AE85;
    private static final double TWO_POW_MINUS_24 = 1.0 / (1 << 24);

    private Philox() {
    }

    /** The four 32-bit words for {@code counter} under {@code seed}. */
    public static int[] block(long seed, long counter) {
        int c0 = (int) counter;
        int c1 = (int) (counter >>> 32);
        int c2 = 0;
        int c3 = 0;
        int k0 = (int) seed;
        int k1 = (int) (seed >>> 32);
        for (int round = 0; round < 10; round++) {
            long p0 = (M0 & 0xFFFFFFFFL) * (c0 & 0xFFFFFFFFL);
            long p1 = (M1 & 0xFFFFFFFFL) * (c2 & 0xFFFFFFFFL);
            int n0 = (int) (p1 >>> 32) ^ c1 ^ k0;
            int n1 = (int) p1;
            int n2 = (int) (p0 >>> 32) ^ c3 ^ k1;
            int n3 = (int) p0;
            c0 = n0;
            c1 = n1;
            c2 = n2;
            c3 = n3;
            k0 += W0;
            k1 += W1;
        }
        return new int[] {c0, c1, c2, c3};
    }

    /** Maps a word to a uniform in the open interval (0, 1) with 24 bits, exact in float32 and float64. */
    public static double unitUniform(int word) {
        return ((word >>> 8) + 0.5) * TWO_POW_MINUS_24;
    }

    /** Number of counters a fill of {@code size} elements consumes. */
    public static long countersFor(long size) {
        return (size + 3) / 4;
    }

    /**
     * Fills {@code out} with {@code out.length} draws (the reference; backends may compute blocks in parallel).
     * Normals use Box-Muller on word pairs (0, 1) and (2, 3) of each block: word 0 gives the radius, word 1 the angle.
     */
    public static void fill(RandomDistribution dist, long seed, long counter, double a, double b, double[] out) {
        for (int base = 0; base < out.length; base += 4) {
            int[] w = block(seed, counter + base / 4);
            for (int j = 0; j < 4 && base + j < out.length; j++) {
                out[base + j] = value(dist, w, j, a, b);
            }
        }
    }

    /** Element {@code j} (0..3) of a block, transformed for {@code dist}. */
    public static double value(RandomDistribution dist, int[] w, int j, double a, double b) {
        if (dist == RandomDistribution.UNIFORM) {
            return a + (b - a) * unitUniform(w[j]);
        }
        int pair = j & ~1;
        double radius = Math.sqrt(-2.0 * StrictMath.log(unitUniform(w[pair])));
        double angle = 2.0 * Math.PI * unitUniform(w[pair + 1]);
        return a + b * radius * ((j & 1) == 0 ? StrictMath.cos(angle) : StrictMath.sin(angle));
    }
}
