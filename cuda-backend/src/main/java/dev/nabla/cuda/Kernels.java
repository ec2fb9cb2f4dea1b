package dev.nabla.cuda;

import dev.nabla.DType;
import dev.nabla.backend.BinaryOp;
import dev.nabla.backend.RandomDistribution;
import dev.nabla.backend.ReduceOp;
import dev.nabla.backend.UnaryOp;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The names of the kernels in {@code kernels/src/main/cuda} ({@code <family>_<op>_<dtype>}, dtype as
 * {@link DType#displayName()}) and the PTX module that holds each family. The backend builds every name it launches
 * here, and {@link #all()} enumerates them, so a test can check each against the PTX {@code .entry} list: a renamed
 * CUDA kernel fails the build on a machine without a GPU.
 */
final class Kernels {
    private Kernels() {
    }

    private static String lower(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT);
    }

    private static String t(DType dtype) {
        return dtype.displayName();
    }

    static String unary(UnaryOp op, DType dtype) {
        return "unary_" + lower(op) + "_" + t(dtype);
    }

    /** Dense operands, or an operand that is one broadcast element. */
    static String binaryDense(BinaryOp op, DType dtype) {
        return "binary_" + lower(op) + "_" + t(dtype);
    }

    /** Two dimensions of any strides (row and column broadcast) without per-element division. */
    static String binary2d(BinaryOp op, DType dtype) {
        return "binary_2d_" + lower(op) + "_" + t(dtype);
    }

    static String binaryStrided(BinaryOp op, DType dtype) {
        return "binary_strided_" + lower(op) + "_" + t(dtype);
    }

    static String select(DType dtype) {
        return "select_" + t(dtype);
    }

    static String reduceRowsLanes(ReduceOp op, DType dtype) {
        return "reduce_rows_lanes_" + lower(op) + "_" + t(dtype);
    }

    static String reduceRowsWarp(ReduceOp op, DType dtype) {
        return "reduce_rows_warp_" + lower(op) + "_" + t(dtype);
    }

    static String reduceRowsBlock(ReduceOp op, DType dtype) {
        return "reduce_rows_block_" + lower(op) + "_" + t(dtype);
    }

    static String reduceCols(ReduceOp op, DType dtype) {
        return "reduce_cols_" + lower(op) + "_" + t(dtype);
    }

    static String reduceFinish(ReduceOp op, DType dtype) {
        return "reduce_finish_" + lower(op) + "_" + t(dtype);
    }

    static String copy(DType dtype) {
        return "copy_" + t(dtype);
    }

    static String gather(DType dtype) {
        return "gather_" + t(dtype);
    }

    static String scatterAdd(DType dtype) {
        return "scatter_add_" + t(dtype);
    }

    /** Sort keys {@code index << 32 | position} of a scatter-add (see indexing.cu). */
    static String scatterKeys() {
        return "scatter_keys_int32";
    }

    /** Bitonic sort stages inside one tile of {@link ScatterAdd#TILE} keys, in shared memory. */
    static String sortKeysTile() {
        return "sort_keys_tile";
    }

    /** One bitonic sort step of a distance beyond the tile. */
    static String sortKeysStep() {
        return "sort_keys_step";
    }

    /** Each destination row's first position in the sorted keys. */
    static String scatterStarts() {
        return "scatter_starts";
    }

    static String im2col(DType dtype) {
        return "im2col_" + t(dtype);
    }

    static String maxPoolIndices(DType dtype) {
        return "max_pool_indices_" + t(dtype);
    }

    static String col2im(DType dtype) {
        return "col2im_" + t(dtype);
    }

    static String indexCheck() {
        return "index_check_int32";
    }

    static String indexErrorValue() {
        return "index_error_value_int32";
    }

    static String fill(DType dtype) {
        return "fill_" + t(dtype);
    }

    static String iota(DType dtype) {
        return "iota_" + t(dtype);
    }

    static String cast(DType from, DType to) {
        return "cast_" + t(from) + "_" + t(to);
    }

    /** FLOAT32 and FLOAT64 only. */
    static String random(RandomDistribution dist, DType dtype) {
        return "random_" + lower(dist) + "_" + t(dtype);
    }

    /** FLOAT32 and FLOAT64 only. */
    static String gemm(DType dtype) {
        return "gemm_" + t(dtype);
    }

    /** The PTX module (resource {@code dev/nabla/kernels/<module>.ptx}) that defines {@code kernel}. */
    static String module(String kernel) {
        if (kernel.startsWith("unary_")) {
            return "unary";
        } else if (kernel.startsWith("binary_") || kernel.startsWith("select_")) {
            return "binary";
        } else if (kernel.startsWith("reduce_")) {
            return "reduce";
        } else if (kernel.startsWith("copy_") || kernel.startsWith("gather_") || kernel.startsWith("scatter_add_")
                || kernel.startsWith("index_check_") || kernel.startsWith("index_error_value_")
                || kernel.startsWith("scatter_") || kernel.startsWith("sort_keys_") || kernel.startsWith("col2im_")
                || kernel.startsWith("im2col_") || kernel.startsWith("max_pool_indices_")) {
            return "indexing";
        } else if (kernel.startsWith("fill_") || kernel.startsWith("iota_") || kernel.startsWith("cast_")) {
            return "creation";
        } else if (kernel.startsWith("random_")) {
            return "random";
        } else if (kernel.startsWith("gemm_")) {
            return "gemm";
        } else if (kernel.startsWith("optim_")) {
            return "optim";
        }
        throw new IllegalArgumentException("no PTX module holds kernel " + kernel);
    }

    /** The fused update of one optimizer family ({@code sgd}, {@code adam}, {@code rmsprop}, {@code adagrad}). */
    static String optimizer(String algorithm, DType dtype) {
        return "optim_" + algorithm + "_" + t(dtype);
    }

    /** The optimizer families with a fused kernel. */
    static List<String> optimizers() {
        return List.of("sgd", "adam", "rmsprop", "adagrad");
    }

    /** Every module name. */
    static List<String> modules() {
        return List.of("unary", "binary", "reduce", "indexing", "creation", "random", "gemm", "optim");
    }

    /** Every kernel name the backend may launch. */
    static List<String> all() {
        List<String> names = new ArrayList<>();
        DType[] floats = {DType.FLOAT32, DType.FLOAT64};
        for (DType d : floats) {
            for (String algorithm : optimizers()) {
                names.add(optimizer(algorithm, d));
            }
        }
        for (DType d : DType.values()) {
            for (UnaryOp op : UnaryOp.values()) {
                names.add(unary(op, d));
            }
            for (BinaryOp op : BinaryOp.values()) {
                names.add(binaryDense(op, d));
                names.add(binaryStrided(op, d));
                names.add(binary2d(op, d));
            }
            for (ReduceOp op : ReduceOp.values()) {
                names.add(reduceRowsLanes(op, d));
                names.add(reduceRowsWarp(op, d));
                names.add(reduceRowsBlock(op, d));
                names.add(reduceCols(op, d));
                names.add(reduceFinish(op, d));
            }
            for (DType to : DType.values()) {
                names.add(cast(d, to));
            }
            names.add(select(d));
            names.add(copy(d));
            names.add(gather(d));
            names.add(scatterAdd(d));
            names.add(im2col(d));
            names.add(col2im(d));
            names.add(maxPoolIndices(d));
            names.add(fill(d));
            names.add(iota(d));
        }
        for (DType d : floats) {
            for (RandomDistribution dist : RandomDistribution.values()) {
                names.add(random(dist, d));
            }
            names.add(gemm(d));
        }
        names.add(gemm(DType.INT32));
        names.add(indexCheck());
        names.add(indexErrorValue());
        names.addAll(List.of(scatterKeys(), sortKeysTile(), sortKeysStep(), scatterStarts()));
        return names;
    }
}
