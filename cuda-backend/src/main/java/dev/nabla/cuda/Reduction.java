package dev.nabla.cuda;

import dev.nabla.DType;
import dev.nabla.backend.Buffer;
import dev.nabla.backend.ReduceOp;
import java.util.function.ObjDoubleConsumer;

/** One reduction as planned by {@link ReducePlan}: the first pass, and the finishing pass when the axis was split. */
final class Reduction {
    private final DeviceContext context;
    private final KernelModules modules;
    private final CachingAllocator allocator;

    Reduction(DeviceContext context, KernelModules modules, CachingAllocator allocator) {
        this.context = context;
        this.modules = modules;
        this.allocator = allocator;
    }

    /** Bytes of one partial accumulator (the {@code Acc} types of reduce.cu). */
    static long accumulatorBytes(ReduceOp op, DType dtype) {
        return switch (op) {
            case SUM -> 8; // double
            case MAX, MIN -> dtype == DType.FLOAT32 ? 4 : 8; // the compute type
            case ARGMAX -> 16; // {value, 64-bit index}, 8-aligned
        };
    }

    /** See {@code Backend.reduce}; {@code fill} zero-fills the output of an empty SUM. */
    void run(ReduceOp op, CudaBuffer in, long outer, long n, long inner, CudaBuffer out,
            ObjDoubleConsumer<Buffer> fill) {
        long outputs = outer * inner;
        if (outputs == 0) {
            return;
        }
        if (n == 0) {
            fill.accept(out, 0.0);
            return;
        }
        DType t = in.dtype();
        ReducePlan plan = ReducePlan.choose(outer, n, inner, context.multiprocessors());
        CachingAllocator.Block partial = plan.segments() > 1
                ? allocator.allocate(outputs * plan.segments() * accumulatorBytes(op, t)) : null;
        long dst = partial != null ? partial.address() : out.address();
        try {
            switch (plan.kind()) {
                case ROWS_LANES -> KernelLaunch.of(context, Kernels.reduceRowsLanes(op, t)).pointer(in.address())
                        .pointer(out.address()).i64(outer).i64(n).i64(ReducePlan.laneWidth(n))
                        .launch(modules, plan.blocks());
                case ROWS_WARP -> KernelLaunch.of(context, Kernels.reduceRowsWarp(op, t)).pointer(in.address())
                        .pointer(out.address()).i64(outer).i64(n).launch(modules, plan.blocks());
                case ROWS_BLOCK -> KernelLaunch.of(context, Kernels.reduceRowsBlock(op, t)).pointer(in.address())
                        .pointer(dst).i64(outer).i64(n).i64(plan.segments()).i64(plan.segmentLength())
                        .launch(modules, plan.blocks());
                case COLS -> KernelLaunch.of(context, Kernels.reduceCols(op, t)).pointer(in.address()).pointer(dst)
                        .i64(outer).i64(n).i64(inner).i64(plan.segments()).i64(plan.segmentLength())
                        .launch(modules, (int) plan.blocks(), 1, 1, ReducePlan.columnWidth(inner),
                                KernelLaunch.THREADS / ReducePlan.columnWidth(inner));
            }
            if (partial != null) {
                long grid = Math.min(outputs, (long) context.multiprocessors() * 32);
                KernelLaunch.of(context, Kernels.reduceFinish(op, t)).pointer(partial.address())
                        .pointer(out.address()).i64(outputs).i64(plan.segments()).launch(modules, grid);
            }
        } finally {
            if (partial != null) { // safe at once: only work queued after the finishing pass can reuse the block
                allocator.free(partial);
            }
        }
    }
}
