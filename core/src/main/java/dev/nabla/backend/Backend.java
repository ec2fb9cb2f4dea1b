package dev.nabla.backend;

import dev.nabla.DType;
import dev.nabla.Device;

/**
 * The primitives a device implements. Everything public in Nabla is built from these in {@code core}, so a new
 * backend implements this interface and nothing else.
 *
 * <p>Conventions: buffers are dense and row-major; "strides" are element strides, one per dimension of the
 * {@code shape} being iterated, and a stride of 0 broadcasts. Primitives may run asynchronously; the host reads
 * ({@code read*}) wait for them. Arguments arrive already checked by {@code core}.
 *
 * <pre>{@code
 * Backend cpu = Backends.get(Device.cpu());
 * Buffer a = cpu.upload(new float[] {1, 2, 3}, DType.FLOAT32);
 * Buffer out = cpu.allocate(DType.FLOAT32, 3);
 * cpu.unary(UnaryOp.EXP, a, out);
 * float[] e = cpu.readFloats(out);   // [e, e^2, e^3]
 * }</pre>
 */
public interface Backend {
    /** The device this backend drives. */
    Device device();

    /** A buffer of {@code size} elements with undefined contents. */
    Buffer allocate(DType dtype, long size);

    /**
     * True when {@link #prefix} makes views: a traced plan then keeps values of several sizes, one after another, in
     * one buffer (as large as the largest), where without them each size needs buffers of its own.
     */
    default boolean hasPrefixViews() {
        return false;
    }

    /**
     * A buffer over the first {@code size} elements of {@code buffer} (same dtype, {@code size <= buffer.size()}),
     * sharing its memory. Releasing it does nothing; it must not be used once {@code buffer} is released. Only where
     * {@link #hasPrefixViews} is true.
     */
    default Buffer prefix(Buffer buffer, long size) {
        throw new UnsupportedOperationException(device() + " has no prefix views of buffers");
    }

    /** A buffer holding a copy of {@code data}: a {@code float[]}, {@code double[]}, {@code int[]} or {@code boolean[]}. */
    Buffer upload(Object data, DType dtype);

    /** Copies the whole buffer to the host, converted to doubles. */
    double[] readDoubles(Buffer src);

    /** Copies the whole buffer to the host, converted to floats. */
    float[] readFloats(Buffer src);

    /** Copies the whole buffer to the host, converted to ints (truncation toward zero). */
    int[] readInts(Buffer src);

    /** Sets every element to {@code value} (converted to the buffer's dtype). */
    void fill(Buffer out, double value);

    /** Sets element i to i. */
    void iota(Buffer out);

    /** {@code out[i] = op(in[i])}; same dtype and size. */
    void unary(UnaryOp op, Buffer in, Buffer out);

    /**
     * {@code out[idx] = op(a[idx · aStrides], b[idx · bStrides])} for every index of {@code shape}; {@code out} is
     * dense with that shape, BOOL for comparisons.
     */
    void binary(BinaryOp op, Buffer a, long[] aStrides, Buffer b, long[] bStrides, Buffer out, long[] shape);

    /** {@code out[idx] = cond[idx] ? a[idx] : b[idx]} over broadcast strides; {@code cond} is BOOL. */
    void select(Buffer cond, long[] condStrides, Buffer a, long[] aStrides, Buffer b, long[] bStrides,
            Buffer out, long[] shape);

    /**
     * Reduces the middle axis of {@code in} viewed as {@code (outer, n, inner)} into {@code out} of
     * {@code (outer, inner)}. MAX/MIN/ARGMAX have {@code n > 0}; SUM of {@code n == 0} is 0.
     */
    void reduce(ReduceOp op, Buffer in, long outer, long n, long inner, Buffer out);

    /**
     * Batched {@code out[b] = op(a[b]) · op(b[b])}, {@code op} a transpose when the flag is set, {@code out[b]}
     * dense (m, n). Batch {@code i} of {@code batchShape} starts at {@code i · aBatchStrides} in {@code a} (stored
     * as (m, k), or (k, m) when transposed) and at {@code i · bBatchStrides} in {@code b} ((k, n) or (n, k)).
     */
    void matmul(Buffer a, long[] aBatchStrides, boolean transposeA, Buffer b, long[] bBatchStrides,
            boolean transposeB, Buffer out, long[] batchShape, long m, long k, long n);

    /**
     * One {@code out = op(a) · op(b)} as {@link #matmul(Buffer, long[], boolean, Buffer, long[], boolean, Buffer,
     * long[], long, long, long)}, with either operand (stored (m, k) or (k, m), (k, n) or (n, k)) read through
     * {@link MatrixRuns}, and the (m, n) result written through them, where they are not null: a traced plan reads a
     * permuted tensor this way instead of copying it first, and writes a product straight into the permuted layout
     * that its only reader wants. The values have the bits of the same product of the operands copied dense. This
     * default copies such operands dense, multiplies, and copies a result in runs out of a dense one; the CPU backend
     * packs FLOAT32 operands from their runs and writes its tiles into them directly.
     */
    default void matmul(Buffer a, MatrixRuns aRuns, boolean transposeA, Buffer b, MatrixRuns bRuns,
            boolean transposeB, Buffer out, MatrixRuns outRuns, long m, long k, long n) {
        java.util.List<Buffer> temporaries = new java.util.ArrayList<>(3);
        try {
            Buffer da = aRuns == null ? a : dense(a, aRuns, transposeA ? k : m, transposeA ? m : k, temporaries);
            Buffer db = bRuns == null ? b : dense(b, bRuns, transposeB ? n : k, transposeB ? k : n, temporaries);
            Buffer dc = out;
            if (outRuns != null) {
                dc = allocate(out.dtype(), m * n);
                temporaries.add(dc);
            }
            matmul(da, new long[0], transposeA, db, new long[0], transposeB, dc, new long[0], m, k, n);
            if (outRuns != null) {
                copy(dc, 0, new long[] {n, outRuns.run(), 1}, out, 0, outRuns.strides(), outRuns.shape(m, n));
            }
        } finally {
            temporaries.forEach(Buffer::release);
        }
    }

    /**
     * {@link #matmul(Buffer, MatrixRuns, boolean, Buffer, MatrixRuns, boolean, Buffer, MatrixRuns, long, long, long)}
     * followed by {@code epilogue} with {@code bias} (one value per row or per column of the result, dense): the bits
     * of the product and then the epilogue's ops. This default runs the epilogue as element-wise primitives after the
     * product; the CPU backend applies it to each block of FLOAT32 results as the block is finished.
     */
    default void matmul(Buffer a, MatrixRuns aRuns, boolean transposeA, Buffer b, MatrixRuns bRuns,
            boolean transposeB, Buffer out, MatrixRuns outRuns, long m, long k, long n, MatrixEpilogue epilogue,
            Buffer bias) {
        matmul(a, aRuns, transposeA, b, bRuns, transposeB, out, outRuns, m, k, n);
        epilogue.applyAfter(this, out, outRuns, bias, m, n);
    }

    /**
     * {@code col2im(g, op(a) · op(b))} into {@code image}: the product as {@link #matmul(Buffer, MatrixRuns, boolean,
     * Buffer, MatrixRuns, boolean, Buffer, MatrixRuns, long, long, long)} computes it, (m, n) = {@code (g.rows(),
     * g.columns())}, summed into the image as {@link #col2im} does, with the bits of the two in turn. A traced plan
     * computes a convolution's input gradient this way, where the column matrix is read by nothing else. This default
     * computes the column matrix into a temporary; the CPU backend computes it a group of images at a time and sums
     * each group into its images while it is in cache.
     *
     * <pre>{@code
     * // dx = col2im(Kᵀ · g): the same bits as backend.matmul(k, null, true, g, null, false, cols, null, ...)
     * // followed by backend.col2im(geometry, cols, dx)
     * backend.matmulCol2im(k, null, true, g, null, false, geometry.rows(), outChannels, geometry.columns(),
     *         geometry, dx);
     * }</pre>
     */
    default void matmulCol2im(Buffer a, MatrixRuns aRuns, boolean transposeA, Buffer b, MatrixRuns bRuns,
            boolean transposeB, long m, long k, long n, WindowGeometry g, Buffer image) {
        if (m != g.rows() || n != g.columns()) {
            throw new IllegalArgumentException("matmulCol2im: a product of (" + m + ", " + n
                    + ") is not the column matrix (" + g.rows() + ", " + g.columns() + ") of " + g);
        }
        Buffer cols = allocate(image.dtype(), m * n);
        try {
            matmul(a, aRuns, transposeA, b, bRuns, transposeB, cols, null, m, k, n);
            col2im(g, cols, image);
        } finally {
            cols.release();
        }
    }

    /**
     * {@link #matmul(Buffer, MatrixRuns, boolean, Buffer, MatrixRuns, boolean, Buffer, MatrixRuns, long, long, long,
     * MatrixEpilogue, Buffer)} (without an epilogue where {@code epilogue} is null) where one operand is the column
     * matrix of {@link #im2col} and the image is given in its place: {@code a} is the image of {@code aWindows} when
     * that is not null (its operand is then {@code im2col(a)}, stored {@code (g.rows(), g.columns())}, read as op(A)),
     * likewise {@code b} of {@code bWindows}. An operand has windows or runs, not both. A traced plan reads a
     * convolution's columns this way, so that they are never written to memory: the forward product and the kernel
     * gradient's both read them. The values have the bits of the product of the column matrix. This default computes
     * the column matrix into a temporary first; the CPU backend packs its FLOAT32 and FLOAT64 operands from the image.
     *
     * <pre>{@code
     * // conv(x) as K · im2col(x): the same bits as backend.im2col(g, x, cols) then the product of cols
     * backend.matmul(kernel, null, null, false, x, null, g, false, out, null, o, g.rows(), g.columns(), null, null);
     * }</pre>
     */
    default void matmul(Buffer a, MatrixRuns aRuns, WindowGeometry aWindows, boolean transposeA, Buffer b,
            MatrixRuns bRuns, WindowGeometry bWindows, boolean transposeB, Buffer out, MatrixRuns outRuns, long m,
            long k, long n, MatrixEpilogue epilogue, Buffer bias) {
        if (aWindows != null && aRuns != null || bWindows != null && bRuns != null) {
            throw new IllegalArgumentException("matmul: an operand is read through windows or through runs, not both");
        }
        java.util.List<Buffer> temporaries = new java.util.ArrayList<>(2);
        try {
            Buffer da = aWindows == null ? a : columns(a, aWindows, temporaries);
            Buffer db = bWindows == null ? b : columns(b, bWindows, temporaries);
            if (epilogue == null) {
                matmul(da, aRuns, transposeA, db, bRuns, transposeB, out, outRuns, m, k, n);
            } else {
                matmul(da, aRuns, transposeA, db, bRuns, transposeB, out, outRuns, m, k, n, epilogue, bias);
            }
        } finally {
            temporaries.forEach(Buffer::release);
        }
    }

    /**
     * A convolution with its epilogue, max-pooled: {@code y = epilogue(op(a) · im2col(windows, image))}, (m, n) =
     * {@code (m, windows.columns())}, laid out as {@code (images, m, outH, outW)} (the product written in runs of one
     * output plane), then {@link #maxPoolIndices} of {@code pool} over y's planes ({@code images · m} planes of one
     * channel, {@code outH × outW}) into {@code indices} and the chosen elements of y into {@code pooled}, as
     * {@code maxPool}'s gather takes them; y itself is not kept. The bits are those of the three in turn. A traced plan
     * computes a convolution followed by its bias, relu and max pool this way. This default computes y into a
     * temporary; the CPU backend computes it a group of images at a time and pools each group while it is in cache.
     *
     * <pre>{@code
     * // pooled, indices = maxPool(relu(conv(x) + bias)): the same bits as the windowed matmul into y (NCHW),
     * // then maxPoolIndices(pool, y, indices) and the gather of y at the indices
     * backend.matmulMaxPool(kernel, null, false, x, windows, outChannels, windows.rows(),
     *         new MatrixEpilogue(true, false, true), bias, pool, pooled, indices);
     * }</pre>
     */
    default void matmulMaxPool(Buffer a, MatrixRuns aRuns, boolean transposeA, Buffer image, WindowGeometry windows,
            long m, long k, MatrixEpilogue epilogue, Buffer bias, WindowGeometry pool, Buffer pooled,
            Buffer indices) {
        long plane = (long) windows.outH() * windows.outW();
        if (k != windows.rows()) {
            throw new IllegalArgumentException("matmulMaxPool: a depth of " + k + " for the " + windows.rows()
                    + " rows of the columns of " + windows);
        }
        if (pool.images() != windows.images() * m || pool.channels() != 1 || pool.height() != windows.outH()
                || pool.width() != windows.outW()) {
            throw new IllegalArgumentException("matmulMaxPool: pooling " + pool + " is not over the ("
                    + windows.images() + ", " + m + ", " + windows.outH() + ", " + windows.outW()
                    + ") planes of the convolution " + windows);
        }
        Buffer y = allocate(pooled.dtype(), m * windows.columns());
        try {
            matmul(a, aRuns, null, transposeA, image, null, windows, false, y, new MatrixRuns(plane, plane,
                    m * plane), m, k, windows.columns(), epilogue, bias);
            maxPoolIndices(pool, y, indices);
            gather(y, 1, pool.inputSize(), 1, indices, pooled, new IndexCheck("matmulMaxPool", "an image of " + pool));
        } finally {
            y.release();
        }
    }

    /** {@code im2col(g, image)} into a temporary (added to the list). */
    private Buffer columns(Buffer image, WindowGeometry g, java.util.List<Buffer> temporaries) {
        Buffer cols = allocate(image.dtype(), g.rows() * g.columns());
        temporaries.add(cols);
        im2col(g, image, cols);
        return cols;
    }

    /** The {@code rows × cols} matrix in {@code runs} copied into a dense temporary (added to the list). */
    private Buffer dense(Buffer x, MatrixRuns runs, long rows, long cols, java.util.List<Buffer> temporaries) {
        Buffer d = allocate(x.dtype(), rows * cols);
        temporaries.add(d);
        copy(x, 0, runs.strides(), d, 0, new long[] {cols, runs.run(), 1}, runs.shape(rows, cols));
        return d;
    }

    /**
     * {@code dst[dstOffset + idx · dstStrides] = src[srcOffset + idx · srcStrides]} for every index of
     * {@code shape}; same dtype.
     */
    void copy(Buffer src, long srcOffset, long[] srcStrides, Buffer dst, long dstOffset, long[] dstStrides,
            long[] shape);

    /**
     * {@code out[o, j, i] = src[o, indices[j], i]} with {@code src} viewed as {@code (outer, axisSize, inner)}
     * and {@code out} as {@code (outer, indices.size, inner)}; {@code indices} INT32.
     *
     * <p>An index outside {@code [0, axisSize)} is reported as {@code check.error(index, position, axisSize)} for
     * the first such position: a synchronous backend throws it from this call, before writing anything; an
     * asynchronous one may instead throw it at its next synchronization point (any {@code read*},
     * {@link #synchronize}, {@link #close}), once, for the first checked op that failed since the previous one, and
     * stays usable afterwards. Either way nothing outside {@code out} is read or written, and {@code out} holds
     * unspecified values.
     */
    void gather(Buffer src, long outer, long axisSize, long inner, Buffer indices, Buffer out, IndexCheck check);

    /**
     * {@code dst[o, indices[j], i] += src[o, j, i]}, the adjoint of {@link #gather}; repeated indices add up. An
     * index out of range is reported as {@link #gather} reports it (nothing outside {@code dst} is written).
     */
    void scatterAdd(Buffer dst, long outer, long axisSize, long inner, Buffer indices, Buffer src,
            IndexCheck check);

    /**
     * im2col: writes the sliding windows of {@code x} (an NCHW buffer of {@code g}'s input) as the columns of
     * {@code cols} ({@code g.rows() × g.columns()}, laid out as {@link WindowGeometry} says), zero where a window
     * lies in the padding. This default gathers from a copy of {@code x} with one zero appended, through an index
     * array it computes with INT32 primitives (no upload, so a recording backend records it); backends override it
     * with a direct copy.
     */
    default void im2col(WindowGeometry g, Buffer x, Buffer cols) {
        long size = g.inputSize();
        Buffer sources = WindowSources.of(this, g);
        Buffer extended = allocate(x.dtype(), size + 1);
        try {
            fill(extended, 0);
            copy(x, 0, new long[] {1}, extended, 0, new long[] {1}, new long[] {size});
            gather(extended, 1, size + 1, 1, sources, cols, new IndexCheck("im2col", "an image of " + g));
        } finally {
            extended.release();
            sources.release();
        }
    }

    /**
     * col2im, the adjoint of {@link #im2col}: {@code x} (the NCHW input of {@code g}) is the sum, per input element,
     * of the elements of {@code cols} that {@link #im2col} would copy from it (padding positions are dropped). Each
     * element's terms are added in the order of their rows, starting from zero. This default scatter-adds through the
     * index array of {@link #im2col}'s default; backends override it with a direct loop.
     */
    default void col2im(WindowGeometry g, Buffer cols, Buffer x) {
        long size = g.inputSize();
        Buffer sources = WindowSources.of(this, g);
        Buffer extended = allocate(x.dtype(), size + 1);
        try {
            fill(extended, 0);
            scatterAdd(extended, 1, size + 1, 1, sources, cols, new IndexCheck("col2im", "an image of " + g));
            copy(extended, 0, new long[] {1}, x, 0, new long[] {1}, new long[] {size});
        } finally {
            extended.release();
            sources.release();
        }
    }

    /**
     * Max pooling's gradient: {@code x} (the NCHW input of {@code g}) is zero but for {@code grad[q]} added at
     * {@code indices[q]} (a flat index into {@code x}) for every window q ({@code grad} and INT32 {@code indices} of
     * {@code g.columns()}), the terms of an element added in window order from zero: the scatter-add of
     * {@code grad} into zeros, which this default runs; backends override it with a pass per image.
     */
    default void maxPoolGradient(WindowGeometry g, Buffer grad, Buffer indices, Buffer x) {
        fill(x, 0);
        scatterAdd(x, 1, g.inputSize(), 1, indices, grad, new IndexCheck("maxPoolGradient", "an image of " + g));
    }

    /**
     * {@link #maxPoolGradient} of {@code relu_gradient(pooled, grad)}: each window's gradient where its pooled value
     * is positive, else +0 (a traced plan's rewrite of a relu before max pooling, {@code graph.PoolGradientMask}).
     * The default masks into a temporary first; a backend may do both in one pass.
     */
    default void maskedMaxPoolGradient(WindowGeometry g, Buffer pooled, Buffer grad, Buffer indices, Buffer x) {
        Buffer masked = allocate(grad.dtype(), grad.size());
        try {
            long[] dense = {1};
            binary(BinaryOp.RELU_GRADIENT, pooled, dense, grad, dense, masked, new long[] {grad.size()});
            maxPoolGradient(g, masked, indices, x);
        } finally {
            masked.release();
        }
    }

    /**
     * Max pooling's choice: for each column of {@link #im2col}'s matrix (one window), the flat index into {@code x}
     * of its first maximum in row order, NaN counting as the maximum (as {@link ReduceOp#ARGMAX}); {@code indices}
     * is INT32 of {@code g.columns()}. {@code g} has no padding (every element of a window lies in {@code x}).
     * Gathering {@code x} at the indices gives the pooled values, and scatter-adding a gradient there gives max
     * pooling's gradient (each window's to its first maximum, as TF and PyTorch do). This default takes the ARGMAX of
     * each column of {@code x}'s windows (gathered through {@link WindowSources}) and looks its source index up in the
     * same index array; backends override it with a direct loop.
     */
    default void maxPoolIndices(WindowGeometry g, Buffer x, Buffer indices) {
        long rows = g.rows();
        long columns = g.columns();
        IndexCheck check = new IndexCheck("maxPoolIndices", "an image of " + g);
        Buffer sources = WindowSources.of(this, g);
        Buffer cols = allocate(x.dtype(), rows * columns);
        Buffer best = allocate(DType.INT32, columns);
        Buffer width = allocate(DType.INT32, 1);
        Buffer column = allocate(DType.INT32, columns);
        try {
            gather(x, 1, g.inputSize(), 1, sources, cols, check);
            reduce(ReduceOp.ARGMAX, cols, 1, rows, columns, best);
            // the chosen element of column q is element (best[q], q) of the index matrix: best[q]·columns + q
            fill(width, columns);
            iota(column);
            long[] dense = {1};
            binary(BinaryOp.MUL, best, dense, width, new long[] {0}, best, new long[] {columns});
            binary(BinaryOp.ADD, best, dense, column, dense, best, new long[] {columns});
            gather(sources, 1, rows * columns, 1, best, indices, check);
        } finally {
            column.release();
            width.release();
            best.release();
            cols.release();
            sources.release();
        }
    }

    /** Converts element-wise into {@code out}'s dtype (floats to INT32 truncate toward zero; to BOOL is != 0). */
    void cast(Buffer in, Buffer out);

    /**
     * Fills {@code out} with draws from Philox4x32-10 with {@code key = seed} and counters starting at
     * {@code counter}, as {@link Philox} defines, so every backend gives the same numbers.
     */
    void random(RandomDistribution dist, long seed, long counter, double a, double b, Buffer out);

    /**
     * Applies one optimizer update in place to {@code param} (with {@code grad} and the rule's {@code slots}, all of
     * the parameter's size and dtype). This default runs the rule's scalar definition on host copies and writes the
     * results back; backends override it with one fused pass over device memory.
     */
    default void optimizerStep(OptimizerStep step, Buffer param, Buffer grad, Buffer[] slots) {
        double[] p = readDoubles(param);
        double[] g = readDoubles(grad);
        double[][] s = new double[slots.length][];
        for (int k = 0; k < slots.length; k++) {
            s[k] = readDoubles(slots[k]);
        }
        double[] e = new double[slots.length];
        for (int i = 0; i < p.length; i++) {
            for (int k = 0; k < e.length; k++) {
                e[k] = s[k][i];
            }
            p[i] = step.apply(p[i], g[i], e, param.dtype() == dev.nabla.DType.FLOAT32);
            for (int k = 0; k < e.length; k++) {
                s[k][i] = e[k];
            }
        }
        writeBack(p, param);
        for (int k = 0; k < slots.length; k++) {
            writeBack(s[k], slots[k]);
        }
    }

    private void writeBack(double[] values, Buffer dst) {
        Buffer staged = upload(values, dev.nabla.DType.FLOAT64);
        try {
            Buffer converted = allocate(dst.dtype(), dst.size());
            try {
                cast(staged, converted);
                long[] shape = {dst.size()};
                long[] dense = {1};
                copy(converted, 0, dense, dst, 0, dense, shape);
            } finally {
                converted.release();
            }
        } finally {
            staged.release();
        }
    }

    /**
     * True when eager element-wise ops on this backend may be deferred and run as one {@link #fused} pass when their
     * values are first read ({@code dev.nabla.ops.Deferral}); only for backends whose {@code fused} is one pass with
     * the unfused ops' bits.
     */
    default boolean defersElementwise() {
        return false;
    }

    /**
     * Runs a fused element-wise program into {@code out} (dense, the program's shape and dtype), reading
     * {@code inputs} over the program's strides. This default runs the steps one by one through {@link #unary} and
     * {@link #binary} with temporary buffers, which is what the unfused ops do; backends override it with one pass.
     */
    default void fused(FusedProgram program, Buffer[] inputs, Buffer out) {
        FusedProgram.Step[] steps = program.steps();
        long[] shape = program.shape();
        long[] dense = new long[shape.length];
        long stride = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            dense[i] = shape[i] == 1 ? 0 : stride;
            stride *= shape[i];
        }
        Buffer[] results = new Buffer[steps.length];
        try {
            for (int k = 0; k < steps.length; k++) {
                FusedProgram.Step s = steps[k];
                Buffer target = k == steps.length - 1 ? out : allocate(program.dtype(), program.size());
                results[k] = target;
                Buffer a = s.a() >= 0 ? results[s.a()] : inputs[-1 - s.a()];
                long[] as = s.a() >= 0 ? dense : program.inputStrides()[-1 - s.a()];
                if (s.unary() != null) {
                    if (s.a() < 0 && !program.isDense(-1 - s.a())) {
                        // a broadcast operand of a unary step: materialize it first
                        Buffer full = allocate(program.dtype(), program.size());
                        copy(a, 0, as, full, 0, dense, shape);
                        unary(s.unary(), full, target);
                        full.release();
                    } else {
                        unary(s.unary(), a, target);
                    }
                } else {
                    Buffer b = s.b() >= 0 ? results[s.b()] : inputs[-1 - s.b()];
                    long[] bs = s.b() >= 0 ? dense : program.inputStrides()[-1 - s.b()];
                    binary(s.binary(), a, as, b, bs, target, shape);
                }
            }
        } finally {
            for (int k = 0; k < steps.length - 1; k++) {
                if (results[k] != null) {
                    results[k].release();
                }
            }
        }
    }

    /**
     * Records the work {@code body} queues on this backend, without running it, as a {@link Replay} whose
     * {@link Replay#launch} runs it again with one call on the same buffers (a CUDA graph). Returns null when this
     * backend does not record (this default) or when the body did something a recording cannot replay (a host read or
     * upload, a synchronization, an allocation from the device's driver); nothing of the body ran then either, and
     * the caller runs it normally. The body must only queue work on buffers that outlive the replay (scratch space
     * the backend takes inside is kept by the replay until it is closed), and the work it queues must not depend on
     * anything that changes between launches but those buffers' contents (kernel arguments are baked in).
     */
    default Replay capture(Runnable body) {
        return null;
    }

    /**
     * Runs a fused element-wise program and reduces its result, viewed as {@code (outer, n, inner)}, along the middle
     * axis into {@code out} of {@code (outer, inner)}, with the same bits as {@link #fused} into a buffer followed by
     * {@link #reduce}. This default does exactly that, through a temporary buffer; backends override it with one
     * pass that never writes the program's result to memory.
     */
    default void fusedReduce(FusedProgram program, Buffer[] inputs, ReduceOp op, long outer, long n, long inner,
            Buffer out) {
        Buffer values = allocate(program.dtype(), program.size());
        try {
            fused(program, inputs, values);
            reduce(op, values, outer, n, inner, out);
        } finally {
            values.release();
        }
    }

    /**
     * {@link #fusedReduce}, also writing the program's result into {@code values} (of the program's size): for an
     * expensive chain whose values are read again after the reduction (a softmax's {@code exp}), which would
     * otherwise be computed a second time. This default runs {@link #fused} into {@code values}, then {@link #reduce}
     * from it; backends override it with one pass that stores each block of values as it sums it.
     */
    default void fusedReduceKeepingValues(FusedProgram program, Buffer[] inputs, ReduceOp op, long outer, long n,
            long inner, Buffer out, Buffer values) {
        fused(program, inputs, values);
        reduce(op, values, outer, n, inner, out);
    }

    /** The device allocator's counters; zeros for a backend that keeps none. */
    default dev.nabla.MemoryStats memoryStats() {
        return new dev.nabla.MemoryStats(0, 0, 0);
    }

    /**
     * The live buffers by allocation site while {@link AllocationTracker#enabled()}; this default, for a backend that
     * records none, is an empty report.
     */
    default dev.nabla.LeakReport leakReport() {
        return new dev.nabla.LeakReport(device(), false, 0, 0, java.util.List.of());
    }

    /**
     * Waits for all queued work on this device; throws an error of an asynchronous check that failed since the
     * previous synchronization point (an index out of range, see {@link #gather}).
     */
    default void synchronize() {
    }

    /**
     * Releases what the backend holds beyond its live buffers (library handles, cached free memory) after waiting for
     * its queued work; the backend must not be used afterwards. {@link Backends#close} calls it. The default holds
     * nothing.
     */
    default void close() {
    }
}
