// Buffers written from nothing or converted: fill_<dtype>, iota_<dtype>, cast_<from>_<to>.
// Every value goes through double and Java's narrowing rules (store_as), so a fill of 3.7 into INT32 stores 3,
// a cast of NaN to INT32 stores 0 and a cast to BOOL stores value != 0, exactly as the CPU backend.
#include "common.cuh"

template <class T>
__device__ __forceinline__ void fill_value(T* out, i64 n, double value) {
    T v = store_as<T>(value);
    GRID_STRIDE_LOOP(i, n) out[i] = v;
}

template <class T>
__device__ __forceinline__ void iota_values(T* out, i64 n) {
    GRID_STRIDE_LOOP(i, n) out[i] = store_as<T>((double)i);
}

template <class From, class To>
__device__ __forceinline__ void cast_values(const From* in, To* out, i64 n) {
    GRID_STRIDE_LOOP(i, n) out[i] = store_as<To>((double)in[i]);
}

#define NABLA_CREATION(T, dtype)                                                                   \
    extern "C" __global__ void fill_##dtype(T* out, i64 n, double value) { fill_value<T>(out, n, value); } \
    extern "C" __global__ void iota_##dtype(T* out, i64 n) { iota_values<T>(out, n); }

NABLA_CREATION(float, float32)
NABLA_CREATION(double, float64)
NABLA_CREATION(int, int32)
NABLA_CREATION(u8, bool)

#define NABLA_CAST(From, from, To, to)                                                             \
    extern "C" __global__ void cast_##from##_##to(const From* in, To* out, i64 n) {                \
        cast_values<From, To>(in, out, n);                                                         \
    }
#define NABLA_CAST_FROM(From, from)                                                                \
    NABLA_CAST(From, from, float, float32)                                                         \
    NABLA_CAST(From, from, double, float64)                                                        \
    NABLA_CAST(From, from, int, int32)                                                             \
    NABLA_CAST(From, from, u8, bool)

NABLA_CAST_FROM(float, float32)
NABLA_CAST_FROM(double, float64)
NABLA_CAST_FROM(int, int32)
NABLA_CAST_FROM(u8, bool)
