package dev.nabla.cpu;

/**
 * A FLOAT32 copy whose source and destination are each dense but in transposed orders: a 2-D {@code (rows, cols)} shape
 * read with strides {@code (1, rows)} and written with {@code (cols, 1)} (a {@code transpose()}, or a permute that
 * merges into one). Copied in square tiles so that the lines of both sides of a tile stay in L1 while it is walked:
 * row by row, every read of a long column touches a new cache line, which made such permutes the most expensive op
 * of a CNN step.
 */
final class TransposeCopy {
    private static final int TILE = 32;
    /**
     * Whether 8 × 8 blocks are transposed in 256-bit vectors ({@link #block}): where the host's vectors are that wide
     * (AVX2, AVX-512), whatever width the kernels were configured to; elsewhere 256-bit vectors would run on the
     * Vector API's Java fallback, so the copies stay scalar. A transposition moves bits, so either gives the same.
     */
    static final boolean BLOCKS = VectorSupport.AVAILABLE && Blocks.available();
    /** The side of a {@link #block}. */
    static final int BLOCK = 8;

    private TransposeCopy() {
    }

    /**
     * Copies when {@code shape} with its strides is such a transpose of float arrays and returns true; returns false
     * (nothing copied) otherwise. FLOAT32 only: the activations and gradients of training; the other dtypes take the
     * row walk rather than a second copy of the tile loop.
     */
    static boolean tryCopy(Object src, long srcOffset, long[] srcStrides, Object dst, long dstOffset,
            long[] dstStrides, long[] shape) {
        if (!(src instanceof float[] s) || !(dst instanceof float[] d) || shape.length != 2 || shape[0] < TILE
                || shape[1] < TILE || srcStrides[0] != 1 || srcStrides[1] != shape[0] || dstStrides[0] != shape[1]
                || dstStrides[1] != 1) {
            return false;
        }
        transpose(s, (int) srcOffset, (int) shape[0], (int) shape[1], d, (int) dstOffset);
        return true;
    }

    /**
     * {@code d[dO + r·cols + c] = s[so + c·rows + r]}: the dense {@code (cols, rows)} matrix at {@code so} written
     * transposed, as the dense {@code (rows, cols)} matrix at {@code dO}, tile by tile, the tile rows shared among
     * the threads.
     */
    static void transpose(float[] s, int so, int rows, int cols, float[] d, int dO) {
        int tileRows = (rows + TILE - 1) / TILE;
        Parallel.range(tileRows, Math.max(1, Parallel.ELEMENTWISE_GRAIN / (TILE * Math.max(1, cols))), (lo, hi) -> {
            for (int t = lo; t < hi; t++) {
                int r0 = t * TILE;
                int r1 = Math.min(rows, r0 + TILE);
                for (int c0 = 0; c0 < cols; c0 += TILE) {
                    int c1 = Math.min(cols, c0 + TILE);
                    // the tile's whole blocks, then the rows and columns they leave
                    int rb = BLOCKS ? r0 + (r1 - r0) / BLOCK * BLOCK : r0;
                    int cb = BLOCKS ? c0 + (c1 - c0) / BLOCK * BLOCK : c0;
                    for (int r = r0; r < rb; r += BLOCK) {
                        for (int c = c0; c < cb; c += BLOCK) {
                            block(s, so + c * rows + r, rows, d, dO + r * cols + c, cols);
                        }
                    }
                    for (int r = r0; r < r1; r++) {
                        for (int c = r < rb ? cb : c0; c < c1; c++) {
                            d[dO + r * cols + c] = s[so + c * rows + r];
                        }
                    }
                }
            }
        });
    }

    /**
     * {@code d[dO + i·ds + j] = s[sO + j·ss + i]} for {@code i, j < 8}: eight rows of eight floats read as vectors
     * and written as the block's columns, in three rounds of interleaving ({@link Blocks}). Only where
     * {@link #BLOCKS}. The scalar copy ran at about 1 float/ns on AVX2 Zen 3 (a load and a store per element, each
     * range-checked); blocks ran 2.0-2.5 in L1 single-threaded.
     */
    static void block(float[] s, int sO, int ss, float[] d, int dO, int ds) {
        Blocks.transpose(s, sO, ss, d, dO, ds);
    }
}
