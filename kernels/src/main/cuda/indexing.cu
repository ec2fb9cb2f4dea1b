// Data movement: strided copy (Backend.copy), gather and scatter-add along one axis, and the index check both use.
//   copy_<dtype>         dst[dstOffset + idx . strides[1]] = src[srcOffset + idx . strides[0]] over it.shape
//   index_check_int32    error[0] = min(error[0], op << 32 | j) for each position j whose index is outside
//                        [0, axisSize): the error record keeps the first bad position of the first checked op
//   index_error_value_int32  error[1] = the index at that position, when the record names this op
//   gather_<dtype>       out[o, j, i] = src[o, indices[j], i] (0 where the index is out of range)
//   scatter_add_<dtype>  dst[o, indices[j], i] += src[o, j, i] with atomics (repeated indices add up; out-of-range
//                        indices add nothing)
// The check does not stop the stream: the host queues it before the gather or scatter-add, and reads the error record
// (all ones while no index was out of range) at its next synchronization, where it raises the op's error. So the
// gather and scatter-add kernels must stay inside their buffers whatever the indices are: they skip bad ones.
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

extern "C" __global__ void index_check_int32(const int* indices, u64* error, i64 count, i64 axisSize, i64 op) {
    GRID_STRIDE_LOOP(j, count) {
        int v = indices[j];
        if (v < 0 || v >= axisSize) atomicMin(error, ((u64)op << 32) | (u64)min(j, (i64)0xFFFFFFFE));
    }
}

// One thread, after index_check in stream order: which thread of index_check lowered the record last is a race, so
// the value is looked up once the position is final.
extern "C" __global__ void index_error_value_int32(const int* indices, u64* error, i64 op) {
    if (blockIdx.x == 0 && threadIdx.x == 0) {
        u64 key = error[0];
        if ((key >> 32) == (u64)op) error[1] = (u64)(unsigned int)indices[key & 0xFFFFFFFFull];
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
        int v = indices[j];
        out[e] = v >= 0 && v < axisSize ? src[(o * axisSize + v) * inner + i] : T(0);
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
        int v = indices[j];
        if (v >= 0 && v < axisSize) atomic_accumulate(dst + (o * axisSize + v) * inner + i, src[e]);
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
