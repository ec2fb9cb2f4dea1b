// The host shim under which the unmodified kernels/src/main/cuda/*.cu compile as C++20 for the CUDA emulator
// (dev.nabla.cuda.EmulatedDriver). Each CUDA thread of a block is either one iteration of a loop (kernels without
// barriers or shuffles) or a fiber (ucontext) of a cooperative scheduler: __syncthreads is a barrier across the
// block's live threads, __shfl_*_sync a write to a per-warp buffer between two warp barriers. One block runs at a
// time, so __shared__ variables are function statics; atomics are plain read-modify-writes (one host thread runs a
// launch). The _rn intrinsics are plain IEEE operations (compiled with -ffp-contract=off: no FMA contraction).
#pragma once
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <type_traits>

struct nabla_dim3 {
    unsigned int x, y, z;
};

namespace nabla_emu {
extern thread_local nabla_dim3 thread_idx;
extern thread_local nabla_dim3 block_idx;
extern thread_local nabla_dim3 block_dim;
extern thread_local nabla_dim3 grid_dim;
extern thread_local unsigned long long shuffle_buffer[32 * 32];  // one 32-lane row per warp of the block
void sync_block();   // __syncthreads
void sync_warp();    // the barrier between a shuffle's write and read
int lane_linear();   // the thread's linear index in its block
}  // namespace nabla_emu

#define threadIdx (::nabla_emu::thread_idx)
#define blockIdx (::nabla_emu::block_idx)
#define blockDim (::nabla_emu::block_dim)
#define gridDim (::nabla_emu::grid_dim)

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __noinline__ __attribute__((noinline))
#define __launch_bounds__(...)
#define __shared__ static
#define __align__(n) __attribute__((aligned(n)))

inline void __syncthreads() { ::nabla_emu::sync_block(); }

template <class A, class B>
inline auto min(A a, B b) -> std::common_type_t<A, B> {
    typedef std::common_type_t<A, B> C;
    return (C)a < (C)b ? (C)a : (C)b;
}
template <class A, class B>
inline auto max(A a, B b) -> std::common_type_t<A, B> {
    typedef std::common_type_t<A, B> C;
    return (C)a > (C)b ? (C)a : (C)b;
}

template <class T>
inline T __shfl_down_sync(unsigned int, T v, int delta, int width = 32) {
    static_assert(sizeof(T) <= 8, "shuffle of more than 8 bytes");
    int linear = ::nabla_emu::lane_linear();
    int lane = linear & 31;
    unsigned long long* row = ::nabla_emu::shuffle_buffer + (linear >> 5) * 32;
    memcpy(&row[lane], &v, sizeof(T));
    ::nabla_emu::sync_warp();
    T r = v;
    int src = lane + delta;
    if ((lane % width) + delta < width && src < 32) memcpy(&r, &row[src], sizeof(T));
    ::nabla_emu::sync_warp();
    return r;
}

// ---- intrinsics --------------------------------------------------------------------------------------------------
inline float __double2float_rn(double v) { return (float)v; }
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fsub_rn(float a, float b) { return a - b; }
inline float __fmul_rn(float a, float b) { return a * b; }
inline float __fdiv_rn(float a, float b) { return a / b; }
inline float __fsqrt_rn(float a) { return sqrtf(a); }
inline double __dadd_rn(double a, double b) { return a + b; }
inline double __dsub_rn(double a, double b) { return a - b; }
inline double __dmul_rn(double a, double b) { return a * b; }
inline double __ddiv_rn(double a, double b) { return a / b; }
inline double __dsqrt_rn(double a) { return sqrt(a); }
inline unsigned int __umulhi(unsigned int a, unsigned int b) {
    return (unsigned int)(((unsigned long long)a * b) >> 32);
}

// ---- atomics (one host thread runs a launch, so plain read-modify-writes are atomic) ---------------------------
template <class T> inline T atomicAdd(T* p, T v) { T old = *p; *p = old + v; return old; }
inline int atomicAdd(int* p, int v) { int old = *p; *p = (int)((unsigned)old + (unsigned)v); return old; }
inline int atomicMin(int* p, int v) { int old = *p; if (v < old) *p = v; return old; }
inline unsigned long long atomicMin(unsigned long long* p, unsigned long long v) {
    unsigned long long old = *p; if (v < old) *p = v; return old;
}
inline unsigned int atomicOr(unsigned int* p, unsigned int v) { unsigned int old = *p; *p = old | v; return old; }
