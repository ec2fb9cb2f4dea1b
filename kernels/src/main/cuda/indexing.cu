// Data movement: strided copy (Backend.copy), gather and scatter-add along one axis, and the index check both use.
//   copy_<dtype>         dst[dstOffset + idx . strides[1]] = src[srcOffset + idx . strides[0]] over it.shape
//   index_check_int32    error = the smallest position j whose index is outside [0, axisSize), else untouched
//   gather_<dtype>       out[o, j, i] = src[o, indices[j], i]
//   scatter_add_<dtype>  dst[o, indices[j], i] += src[o, j, i] with atomics (repeated indices add up)
// Gather and scatter-add assume checked indices: the host runs index_check first and throws
// IndexOutOfBoundsException naming the index before anything is written, as the CPU backend does.
#include "common.cuh"

template <class T>
__device__ __forceinline__ void copy_strided(const T* src, i64 srcOffset, T* dst, i64 dstOffset, i64 n,
                                             const StridedIter& it) {
    GRID_STRIDE_LOOP(e, n) {
        i64 off[2];
        strided_offsets<2>(it, e, off);
        dst[dstOffset + off[1]] = src[srcOffset + off[0]];
    }
}

extern "C" __global__ void index_check_int32(const int* indices, int* error, i64 count, i64 axisSize) {
    GRID_STRIDE_LOOP(j, count) {
        int v = indices[j];
        if (v < 0 || v >= axisSize) atomicMin(error, (int)min(j, (i64)NABLA_INT_MAX - 1));
    }
}

template <class T>
__device__ __forceinline__ void gather_axis(const T* src, const int* indices, T* out, i64 outer, i64 axisSize,
                                            i64 inner, i64 count) {
    GRID_STRIDE_LOOP(e, outer * count * inner) {
        i64 i = e % inner;
        i64 rest = e / inner;
        i64 j = rest % count;
        i64 o = rest / count;
        out[e] = src[(o * axisSize + indices[j]) * inner + i];
    }
}

// Java's d + s stored back: float and double add; INT32 wraps on overflow where the reference saturates (the atomic
// has no saturating form); BOOL is (d + s) != 0, i.e. an OR, done on the aligned 32-bit word holding the byte
// (allocations are padded to 512 bytes, so the word never leaves the buffer).
__device__ __forceinline__ void atomic_accumulate(float* p, float v) { atomicAdd(p, v); }
__device__ __forceinline__ void atomic_accumulate(double* p, double v) { atomicAdd(p, v); }
__device__ __forceinline__ void atomic_accumulate(int* p, int v) { atomicAdd(p, v); }
__device__ __forceinline__ void atomic_accumulate(u8* p, u8 v) {
    if (v != 0) {
        u64 address = reinterpret_cast<u64>(p);
        unsigned int* word = reinterpret_cast<unsigned int*>(address & ~(u64)3);
        atomicOr(word, 1u << (8 * (unsigned int)(address & 3)));
    }
}

template <class T>
__device__ __forceinline__ void scatter_add_axis(const int* indices, const T* src, T* dst, i64 outer,
                                                 i64 axisSize, i64 inner, i64 count) {
    GRID_STRIDE_LOOP(e, outer * count * inner) {
        i64 i = e % inner;
        i64 rest = e / inner;
        i64 j = rest % count;
        i64 o = rest / count;
        atomic_accumulate(dst + (o * axisSize + indices[j]) * inner + i, src[e]);
    }
}

#define NABLA_INDEXING(T, dtype)                                                                   \
    extern "C" __global__ void copy_##dtype(const T* src, T* dst, i64 n, i64 srcOffset, i64 dstOffset, \
                                            StridedIter it) {                                      \
        copy_strided<T>(src, srcOffset, dst, dstOffset, n, it);                                    \
    }                                                                                              \
    extern "C" __global__ void gather_##dtype(const T* src, const int* indices, T* out, i64 outer,  \
                                              i64 axisSize, i64 inner, i64 count) {                \
        gather_axis<T>(src, indices, out, outer, axisSize, inner, count);                          \
    }                                                                                              \
    extern "C" __global__ void scatter_add_##dtype(const int* indices, const T* src, T* dst, i64 outer, \
                                                   i64 axisSize, i64 inner, i64 count) {           \
        scatter_add_axis<T>(indices, src, dst, outer, axisSize, inner, count);                     \
    }

NABLA_INDEXING(float, float32)
NABLA_INDEXING(double, float64)
NABLA_INDEXING(int, int32)
NABLA_INDEXING(u8, bool)
