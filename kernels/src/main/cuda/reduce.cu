// Reductions (Backend.reduce): the middle axis of `in` viewed as (outer, n, inner) into `out` of (outer, inner).
// One template over (reduction, dtype) behind four entry points:
//   reduce_rows_lanes_<op>_<dtype>  inner == 1, rows of at most 16: 32 / width rows per warp, writes out
//   reduce_rows_warp_<op>_<dtype>   inner == 1, short rows: one warp per row, writes out
//   reduce_rows_block_<op>_<dtype>  inner == 1, long rows: one block per (row, segment of the row)
//   reduce_cols_<op>_<dtype>        inner > 1: a 32 x 8 block per (32 columns, outer index, segment), narrower
//                                   and taller for inner < 32; threadIdx.x walks the contiguous inner axis so
//                                   loads coalesce
//   reduce_finish_<op>_<dtype>      the second pass: combines `segments` partial accumulators per output
// The first-pass kernels write `out` directly when segments == 1, else accumulator partials laid out as
// partial[output * segments + segment], which reduce_finish folds into `out`. The host picks the segment count so
// that a reduction to few outputs (sum of everything) still fills the GPU.
//
// NOTE: float32 sums accumulate in double: a float accumulator over 2^26 elements loses ~3 decimal digits, and
// double addition costs nothing in a kernel bound by memory bandwidth. (The order differs from the CPU's SumOrder,
// so the last bits may too.) INT32 sums wrap, exactly as on the CPU.
#include "common.cuh"

// ---- the reductions, as accumulator algebras -----------------------------------------------------------------
// Acc: the accumulator; identity(); step(acc, element, index along n); combine(a, b) (associative, commutative
// up to rounding); finish(acc) -> the stored value. The block reductions only ever call combine.
template <class T> struct red_sum {
    typedef double Acc;
    typedef T Out;
    __device__ static Acc identity() { return 0.0; }
    __device__ static Acc step(Acc a, T x, i64) { return a + (double)x; }
    __device__ static Acc combine(Acc a, Acc b) { return a + b; }
    __device__ static Out finish(Acc a) { return store_as<T>(a); }
};

// INT32 sums wrap in two's complement (on unsigned, whose overflow is defined), as every INT32 op does.
template <> struct red_sum<int> {
    typedef unsigned Acc;
    typedef int Out;
    __device__ static Acc identity() { return 0u; }
    __device__ static Acc step(Acc a, int x, i64) { return a + (unsigned)x; }
    __device__ static Acc combine(Acc a, Acc b) { return a + b; }
    __device__ static Out finish(Acc a) { return (int)a; }
};

template <class T> struct red_max {
    typedef typename Compute<T>::type Acc;
    typedef T Out;
    __device__ static Acc identity() { return -INFINITY; }
    __device__ static Acc step(Acc a, T x, i64) { return java_max(a, (Acc)x); }
    __device__ static Acc combine(Acc a, Acc b) { return java_max(a, b); }
    __device__ static Out finish(Acc a) { return store_compute<T>(a); }
};

template <class T> struct red_min {
    typedef typename Compute<T>::type Acc;
    typedef T Out;
    __device__ static Acc identity() { return INFINITY; }
    __device__ static Acc step(Acc a, T x, i64) { return java_min(a, (Acc)x); }
    __device__ static Acc combine(Acc a, Acc b) { return java_min(a, b); }
    __device__ static Out finish(Acc a) { return store_compute<T>(a); }
};

// The best value so far and its index along n.
template <class C> struct ArgAcc {
    C v;
    i64 i;
};
template <class C> __device__ __forceinline__ ArgAcc<C> shuffle_down(ArgAcc<C> a, int delta) {
    ArgAcc<C> r;
    r.v = __shfl_down_sync(0xffffffffu, a.v, delta);
    r.i = __shfl_down_sync(0xffffffffu, a.i, delta);
    return r;
}

// NOTE: the first index of the maximum, and NaN counts as the maximum (its first occurrence wins), as NumPy and
// the CPU reference. Ties go to the smaller index, so the combine order of the tree does not matter.
template <class T> struct red_argmax {
    typedef typename Compute<T>::type C;
    typedef ArgAcc<C> Acc;
    typedef int Out;
    __device__ static Acc identity() { Acc a; a.v = -INFINITY; a.i = 0x7fffffffffffffffLL; return a; }
    __device__ static Acc step(Acc a, T x, i64 k) { Acc b; b.v = (C)x; b.i = k; return combine(a, b); }
    __device__ static Acc combine(Acc a, Acc b) {
        bool aNaN = a.v != a.v, bNaN = b.v != b.v;
        if (aNaN || bNaN) {
            if (aNaN && bNaN) return a.i <= b.i ? a : b;
            return aNaN ? a : b;
        }
        if (a.v > b.v) return a;
        if (b.v > a.v) return b;
        return a.i <= b.i ? a : b;
    }
    __device__ static Out finish(Acc a) { return (int)a.i; }
};

// Four consecutive elements (k .. k + 3) into an accumulator: four steps in order, except a floating-point sum.
// NOTE: a float32 sum converted every element to double and reached 0.59 of the copy bandwidth on an H200, with
// loads in flight ruled out; conversions to double run at 16 a clock per SM on sm_90, an eighth of the FP32 adds, so
// each pack is added pairwise in its own type and converted once (unmeasured on a GPU so far: GpuBench's max_vs_copy
// tells whether arithmetic is the limit). The pairwise error is at most 2 ulp of the pack's magnitude, so the sum
// still does not grow its error with n.
template <class R, class T>
__device__ __forceinline__ typename R::Acc step_pack(typename R::Acc a, const Pack<T, 4>& v, i64 k) {
#pragma unroll
    for (int j = 0; j < 4; ++j) a = R::step(a, v.v[j], k + j);
    return a;
}
template <>
__device__ __forceinline__ double step_pack<red_sum<float>, float>(double a, const Pack<float, 4>& v, i64) {
    return a + (double)((v.v[0] + v.v[1]) + (v.v[2] + v.v[3]));
}

// ---- first pass -------------------------------------------------------------------------------------------------
template <class R>
__device__ __forceinline__ void write_result(void* dst, i64 output, i64 segments, i64 segment,
                                             typename R::Acc acc) {
    if (segments == 1) {
        reinterpret_cast<typename R::Out*>(dst)[output] = R::finish(acc);
    } else {
        reinterpret_cast<typename R::Acc*>(dst)[output * segments + segment] = acc;
    }
}

template <class R, class T>
__device__ __forceinline__ void rows_warp(const T* in, typename R::Out* out, i64 rows, i64 n) {
    int lane = threadIdx.x & 31;
    i64 warp = ((i64)blockIdx.x * blockDim.x + threadIdx.x) >> 5;
    i64 warps = ((i64)blockDim.x * gridDim.x) >> 5;
    for (i64 r = warp; r < rows; r += warps) {
        const T* row = in + r * n;
        typename R::Acc acc = R::identity();
        for (i64 k = lane; k < n; k += 32) acc = R::step(acc, row[k], k);
        acc = warp_reduce<R>(acc);
        if (lane == 0) out[r] = R::finish(acc);
    }
}

// Rows of n <= 16 (softmax over 10 classes): a warp holds 32 / width rows, width the power of two >= n, each row
// a group of `width` lanes reduced by the first log2(width) steps of the shuffle tree. Lanes that read across their
// group's edge only feed lanes whose result is not used, so the plain full-warp shuffle serves.
template <class R, class T>
__device__ __forceinline__ void rows_lanes(const T* in, typename R::Out* out, i64 rows, i64 n, i64 width) {
    int lane = threadIdx.x & 31;
    int w = (int)width;
    int group = lane / w;
    int sub = lane - group * w;
    i64 perWarp = 32 / w;
    i64 warp = ((i64)blockIdx.x * blockDim.x + threadIdx.x) >> 5;
    i64 warps = ((i64)blockDim.x * gridDim.x) >> 5;
    for (i64 base = warp * perWarp; base < rows; base += warps * perWarp) {
        i64 r = base + group;
        typename R::Acc acc = R::identity();
        if (r < rows) {
            for (i64 k = sub; k < n; k += w) acc = R::step(acc, in[r * n + k], k);
        }
        for (int delta = w >> 1; delta > 0; delta >>= 1) acc = R::combine(acc, shuffle_down(acc, delta));
        if (sub == 0 && r < rows) out[r] = R::finish(acc);
    }
}

template <class R, class T>
__device__ __forceinline__ void rows_block(const T* in, void* dst, i64 rows, i64 n, i64 segments, i64 segLen) {
    // Packs of four when every segment starts on a 4-element boundary of a 4-aligned row.
    bool packed = (n & 3) == 0 && (segLen & 3) == 0;
    for (i64 task = blockIdx.x; task < rows * segments; task += gridDim.x) {
        i64 r = task / segments;
        i64 s = task - r * segments;
        i64 begin = s * segLen;
        i64 end = min(n, begin + segLen);
        const T* row = in + r * n;
        typename R::Acc acc = R::identity();
        if (packed) {
            // NOTE: four 16-byte loads are issued before any is used, and two accumulators split the dependent
            // chain: with one load per iteration a thread had one in flight, and a full wave of blocks reached
            // 0.57 of the copy bandwidth on an H200.
            i64 stride = 4 * (i64)blockDim.x;
            i64 k = begin + 4 * (i64)threadIdx.x;
            typename R::Acc other = R::identity();
            for (; k + 3 * stride < end; k += 4 * stride) {
                Pack<T, 4> v[4];
#pragma unroll
                for (int u = 0; u < 4; ++u) v[u] = load_pack(row, (k + u * stride) / 4);
#pragma unroll
                for (int u = 0; u < 4; u += 2) {
                    acc = step_pack<R, T>(acc, v[u], k + u * stride);
                    other = step_pack<R, T>(other, v[u + 1], k + (u + 1) * stride);
                }
            }
            for (; k < end; k += stride) acc = step_pack<R, T>(acc, load_pack(row, k / 4), k);
            acc = R::combine(acc, other);
        } else {
            for (i64 k = begin + threadIdx.x; k < end; k += blockDim.x) acc = R::step(acc, row[k], k);
        }
        acc = block_reduce<R>(acc);
        if (threadIdx.x == 0) write_result<R>(dst, r, segments, s, acc);
    }
}

// blockDim = (w, 256 / w): w = 32 in general; for inner < 32 the host narrows w to the power of two >= inner, so
// the idle column lanes instead walk more rows of the reduced axis (several columns' rows per warp).
template <class R, class T>
__device__ __forceinline__ void cols(const T* in, void* dst, i64 outer, i64 n, i64 inner, i64 segments,
                                     i64 segLen) {
    typedef typename R::Acc Acc;
    __shared__ __align__(16) unsigned char scratch[8 * 32 * sizeof(Acc)];
    Acc* tile = reinterpret_cast<Acc*>(scratch);
    i64 w = blockDim.x;
    i64 tiles = (inner + w - 1) / w;
    for (i64 task = blockIdx.x; task < tiles * outer * segments; task += gridDim.x) {
        i64 t = task % tiles;
        i64 rest = task / tiles;
        i64 s = rest % segments;
        i64 o = rest / segments;
        i64 i = t * w + threadIdx.x;
        i64 begin = s * segLen;
        i64 end = min(n, begin + segLen);
        Acc acc = R::identity();
        if (i < inner) {
            const T* col = in + o * n * inner + i;
            for (i64 k = begin + threadIdx.y; k < end; k += blockDim.y) acc = R::step(acc, col[k * inner], k);
        }
        __syncthreads();  // the previous task may still read the tile
        tile[threadIdx.y * w + threadIdx.x] = acc;
        __syncthreads();
        if (threadIdx.y == 0 && i < inner) {
            for (int y = 1; y < blockDim.y; ++y) acc = R::combine(acc, tile[y * w + threadIdx.x]);
            write_result<R>(dst, o * inner + i, segments, s, acc);
        }
    }
}

// One block per output: threads stride over its segments' partials.
template <class R>
__device__ __forceinline__ void finish(const typename R::Acc* partial, typename R::Out* out, i64 outputs,
                                       i64 segments) {
    for (i64 p = blockIdx.x; p < outputs; p += gridDim.x) {
        typename R::Acc acc = R::identity();
        for (i64 s = threadIdx.x; s < segments; s += blockDim.x) acc = R::combine(acc, partial[p * segments + s]);
        acc = block_reduce<R>(acc);
        if (threadIdx.x == 0) out[p] = R::finish(acc);
    }
}

#define NABLA_REDUCE(op, T, dtype)                                                                 \
    extern "C" __global__ void reduce_rows_warp_##op##_##dtype(const T* in, red_##op<T>::Out* out, \
                                                               i64 rows, i64 n) {                  \
        rows_warp<red_##op<T>, T>(in, out, rows, n);                                               \
    }                                                                                              \
    extern "C" __global__ void reduce_rows_lanes_##op##_##dtype(const T* in, red_##op<T>::Out* out, \
                                                                i64 rows, i64 n, i64 width) {      \
        rows_lanes<red_##op<T>, T>(in, out, rows, n, width);                                       \
    }                                                                                              \
    extern "C" __global__ void reduce_rows_block_##op##_##dtype(const T* in, void* dst, i64 rows, i64 n, \
                                                                i64 segments, i64 segLen) {        \
        rows_block<red_##op<T>, T>(in, dst, rows, n, segments, segLen);                            \
    }                                                                                              \
    extern "C" __global__ void reduce_cols_##op##_##dtype(const T* in, void* dst, i64 outer, i64 n,  \
                                                          i64 inner, i64 segments, i64 segLen) {   \
        cols<red_##op<T>, T>(in, dst, outer, n, inner, segments, segLen);                          \
    }                                                                                              \
    extern "C" __global__ void reduce_finish_##op##_##dtype(const red_##op<T>::Acc* partial,       \
                                                            red_##op<T>::Out* out, i64 outputs,    \
                                                            i64 segments) {                        \
        finish<red_##op<T>>(partial, out, outputs, segments);                                      \
    }

#define NABLA_REDUCE_ALL_DTYPES(op)                                                                \
    NABLA_REDUCE(op, float, float32)                                                               \
    NABLA_REDUCE(op, double, float64)                                                              \
    NABLA_REDUCE(op, int, int32)                                                                   \
    NABLA_REDUCE(op, u8, bool)

NABLA_REDUCE_ALL_DTYPES(sum)
NABLA_REDUCE_ALL_DTYPES(max)
NABLA_REDUCE_ALL_DTYPES(min)
NABLA_REDUCE_ALL_DTYPES(argmax)
