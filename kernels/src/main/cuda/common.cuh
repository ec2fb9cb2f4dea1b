// Shared pieces of every Nabla kernel: index types, the strided iterator, the dtype table, Java's conversion rules,
// 16-byte packs for vectorized loads, and warp/block reductions.
//
// ABI (what the Java side relies on; see kernels/README.md):
//   * kernel names are extern "C" `<family>_<op>_<dtype>` with dtype one of float32, float64, int32, bool
//     (BOOL is one byte holding 0 or 1);
//   * parameters: device pointers first (inputs, then outputs), then 64-bit sizes, then scalars, then a
//     StridedIter by value when the kernel walks broadcast strides;
//   * every kernel is a grid-stride loop, so any grid size is correct and the host only tunes it.
#pragma once

typedef long long i64;
typedef unsigned long long u64;
typedef unsigned char u8;

#define NABLA_MAX_RANK 8
#define NABLA_INT_MAX 2147483647
#define NABLA_INT_MIN (-2147483647 - 1)

// A dense output index space of `shape` read through up to three operands' element strides (0 broadcasts).
// The host packs it as 33 little-endian longs: shape[8], strides[0][8], strides[1][8], strides[2][8], rank.
// Dimensions past `rank` are ignored; the host drops size-1 dimensions and merges contiguous ones first, so the
// common dense and row-broadcast cases reach the kernel with rank 1 or 2.
struct StridedIter {
    i64 shape[NABLA_MAX_RANK];
    i64 strides[3][NABLA_MAX_RANK];
    i64 rank;
};

#define GRID_STRIDE_LOOP(i, n)                                                              \
    for (i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (i64)blockDim.x * gridDim.x)

// Element offsets of output element `linear` in the first K operands. The loop over the fixed maximum rank is
// unrolled so that the struct fields are read with constant offsets straight from parameter space.
template <int K>
__device__ __forceinline__ void strided_offsets(const StridedIter& it, i64 linear, i64 (&off)[K]) {
#pragma unroll
    for (int k = 0; k < K; ++k) off[k] = 0;
#pragma unroll
    for (int d = NABLA_MAX_RANK - 1; d >= 0; --d) {
        if (d < it.rank) {
            i64 dim = it.shape[d];
            i64 q = linear / dim;
            i64 idx = linear - q * dim;
            linear = q;
#pragma unroll
            for (int k = 0; k < K; ++k) off[k] += idx * it.strides[k][d];
        }
    }
}

// ---- dtypes -------------------------------------------------------------------------------------------------
// Compute<T>: the type an element is computed in. float32 stays float (IEEE +,-,*,/,sqrt round exactly as the
// double reference rounded to float does); BOOL, and INT32 comparisons, max/min and casts compute in double
// (exact for every int). INT32 arithmetic does not: it has its own int forms (BinaryOp/UnaryOp.applyInt), which
// wrap in two's complement through the wrap_* helpers below.
template <class T> struct Compute { typedef double type; };
template <> struct Compute<float> { typedef float type; };

// INT32 arithmetic wraps in two's complement, as Java, TF and NumPy: computed on unsigned, whose overflow C++
// defines (signed overflow is undefined behaviour the optimizer may exploit).
__device__ __forceinline__ int wrap_add(int a, int b) { return (int)((unsigned)a + (unsigned)b); }
__device__ __forceinline__ int wrap_sub(int a, int b) { return (int)((unsigned)a - (unsigned)b); }
__device__ __forceinline__ int wrap_mul(int a, int b) { return (int)((unsigned)a * (unsigned)b); }

// Java's narrowing rules, the meaning of every store: (int) truncates toward zero, saturates, and maps NaN to 0;
// BOOL is v != 0 (so NaN is true); (float) rounds to nearest even.
__device__ __forceinline__ int java_double_to_int(double v) {
    if (v != v) return 0;
    if (v >= 2147483647.0) return NABLA_INT_MAX;
    if (v <= -2147483648.0) return NABLA_INT_MIN;
    return (int)v;
}

template <class T> __device__ __forceinline__ T store_as(double v);
template <> __device__ __forceinline__ float store_as<float>(double v) { return __double2float_rn(v); }
template <> __device__ __forceinline__ double store_as<double>(double v) { return v; }
template <> __device__ __forceinline__ int store_as<int>(double v) { return java_double_to_int(v); }
template <> __device__ __forceinline__ u8 store_as<u8>(double v) { return v != 0.0 ? 1 : 0; }

// Float results stay float (no detour through double, which would give the same value more slowly).
template <class T> __device__ __forceinline__ T store_compute(typename Compute<T>::type v) { return store_as<T>(v); }
template <> __device__ __forceinline__ float store_compute<float>(float v) { return v; }

template <class T> __device__ __forceinline__ typename Compute<T>::type load_compute(T v) {
    return (typename Compute<T>::type)v;
}

// ---- 16-byte packs --------------------------------------------------------------------------------------------
// Four elements loaded or stored as one vector access (float4, int4, double2 x2, uchar4): the contiguous fast
// paths read whole packs, which needs the buffer base aligned to 4 elements (the allocator aligns to 256 bytes).
template <class T, int N>
struct __align__(sizeof(T) * N) Pack {
    T v[N];
};

template <class T>
__device__ __forceinline__ Pack<T, 4> load_pack(const T* p, i64 pack) {
    return reinterpret_cast<const Pack<T, 4>*>(p)[pack];
}

template <class T>
__device__ __forceinline__ void store_pack(T* p, i64 pack, const Pack<T, 4>& v) {
    reinterpret_cast<Pack<T, 4>*>(p)[pack] = v;
}

// ---- math shared by the element-wise and reduction kernels ------------------------------------------------------
// NOTE: Java's Math.max/min, not fmax/fmin: NaN propagates (fmax returns the other operand) and max(-0, +0) = +0.
template <class C> __device__ __forceinline__ C java_max(C a, C b) {
    if (a != a) return a;
    if (b != b) return b;
    if (a == 0 && b == 0) return signbit(a) ? b : a;
    return a > b ? a : b;
}
template <class C> __device__ __forceinline__ C java_min(C a, C b) {
    if (a != a) return a;
    if (b != b) return b;
    if (a == 0 && b == 0) return signbit(a) ? a : b;
    return a < b ? a : b;
}

// ---- warp and block reductions ----------------------------------------------------------------------------------
// Combine is a functor type with `static A combine(A, A)`; shuffle<A> moves an accumulator between lanes.
template <class A> __device__ __forceinline__ A shuffle_down(A v, int delta) { return __shfl_down_sync(0xffffffffu, v, delta); }

template <class R, class A>
__device__ __forceinline__ A warp_reduce(A v) {
#pragma unroll
    for (int delta = 16; delta > 0; delta >>= 1) v = R::combine(v, shuffle_down(v, delta));
    return v;
}

// Reduces one value per thread of a 1-D block (blockDim.x a multiple of 32, at most 1024); the result is valid in
// thread 0. The shared scratch is raw bytes because accumulators can be structs.
template <class R, class A>
__device__ __forceinline__ A block_reduce(A v) {
    __shared__ __align__(16) unsigned char scratch[32 * 16];
    A* partial = reinterpret_cast<A*>(scratch);
    int lane = threadIdx.x & 31;
    int warp = threadIdx.x >> 5;
    v = warp_reduce<R>(v);
    __syncthreads();  // the scratch may still be read by a previous call in the same block
    if (lane == 0) partial[warp] = v;
    __syncthreads();
    int warps = (blockDim.x + 31) >> 5;
    if (warp == 0) {
        v = lane < warps ? partial[lane] : R::identity();
        v = warp_reduce<R>(v);
    }
    return v;
}
