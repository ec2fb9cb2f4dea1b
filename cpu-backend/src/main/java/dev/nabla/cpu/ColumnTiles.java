package dev.nabla.cpu;

/**
 * How a reduction over the middle axis of {@code (outer, n, inner)} ({@code inner > 1}) splits into tasks: one per
 * (outer index, tile of columns). A tile is at most {@link #MAX_WIDTH} columns, so its accumulators stay in L1; when
 * that gives fewer tasks than threads for work worth splitting (a bias gradient, {@code (1, rows, columns)}), the
 * columns are cut into one tile per thread instead, as narrow as {@link #MIN_WIDTH}: W6's {@code db}, a sum over the
 * 1024 rows of a 1024 x 1024 matrix, ran as one task on one thread. Each output column is still summed over its rows
 * in the same order whatever the tiles, so the bits do not depend on the split. (A FLOAT32 sum in that case splits the
 * rows instead: {@code FloatReductions.sumByRowRuns}.)
 *
 * @param width columns per tile (the last tile of a row may be narrower)
 * @param perRow tiles per outer index
 * @param grain tasks below which a parallel split does not pay ({@link Parallel#range}'s grain)
 */
record ColumnTiles(int width, int perRow, int grain) {
    static final int MAX_WIDTH = 1024;
    /** A multiple of every vector length in elements, so that only a row's last tile has a scalar tail. */
    static final int MIN_WIDTH = 64;

    static ColumnTiles of(int outer, int n, int inner) {
        int width = Math.min(inner, MAX_WIDTH);
        int perRow = (inner + width - 1) / width;
        long work = (long) outer * n * inner;
        if ((long) outer * perRow < Parallel.THREADS && work >= 2L * Parallel.ELEMENTWISE_GRAIN
                && inner >= 2 * MIN_WIDTH) {
            int wanted = (Parallel.THREADS + outer - 1) / outer;
            int cut = (inner + wanted - 1) / wanted;
            width = Math.max(MIN_WIDTH, (cut + MIN_WIDTH - 1) / MIN_WIDTH * MIN_WIDTH);
            perRow = (inner + width - 1) / width;
        }
        long workPerTask = (long) n * width;
        return new ColumnTiles(width, perRow, (int) Math.max(1, Parallel.ELEMENTWISE_GRAIN / workPerTask));
    }

    int tasks(int outer) {
        return outer * perRow;
    }
}
