// The element-wise ops whose meaning is CUDA's math library (exp, log, sin, cos, tanh, sigmoid, pow), one
// __noinline__ function per op and dtype, `nabla_<op>_<dtype>`, so that the eager kernels and the fused kernels the
// backend generates at run time (dev.nabla.cuda.FusedPtx) run the same PTX function, compiled once by nvcc:
//   * unary.cu and binary.cu include this header and call them (internal `.func`s of their modules);
//   * fused_math.cu defines NABLA_MATH_LIBRARY and is compiled with -rdc=true into fused_math.ptx, where they are
//     `.visible .func`s with these extern "C" names: the backend copies the ones a fused program calls into its
//     generated module, and the emulator's PTX interpreter calls the host build of the same source.
// A whole op is one function (sigmoid included), so nothing outside it can be contracted with its last operation.
#pragma once
#include "common.cuh"

// extern "C" on the device too, not static: nvcc names an internal function after its source's folder, which would
// make the committed PTX depend on where the repository is checked out (check-ptx.sh compares it byte for byte);
// static in the emulator's host build only, which links every module into one library
#if defined(NABLA_MATH_LIBRARY) || defined(__CUDA_ARCH__)
#define NABLA_MATH extern "C" __device__ __noinline__
#else
#define NABLA_MATH static __device__ __noinline__
#endif

// Overloads that pick the float or double libdevice function, so one expression serves both dtypes.
__device__ __forceinline__ float libm_exp(float x) { return expf(x); }
__device__ __forceinline__ double libm_exp(double x) { return exp(x); }
__device__ __forceinline__ float libm_log(float x) { return logf(x); }
__device__ __forceinline__ double libm_log(double x) { return log(x); }
__device__ __forceinline__ float libm_sin(float x) { return sinf(x); }
__device__ __forceinline__ double libm_sin(double x) { return sin(x); }
__device__ __forceinline__ float libm_cos(float x) { return cosf(x); }
__device__ __forceinline__ double libm_cos(double x) { return cos(x); }
__device__ __forceinline__ float libm_tanh(float x) { return tanhf(x); }
__device__ __forceinline__ double libm_tanh(double x) { return tanh(x); }
__device__ __forceinline__ float libm_pow(float a, float b) { return powf(a, b); }
__device__ __forceinline__ double libm_pow(double a, double b) { return pow(a, b); }

// NOTE: exp is only taken of a non-positive number, so neither branch overflows (UnaryOp.SIGMOID).
template <class C> __device__ __forceinline__ C sigmoid_of(C x) {
    if (x >= 0) return C(1) / (C(1) + libm_exp(-x));
    C e = libm_exp(x);
    return e / (C(1) + e);
}

#define NABLA_MATH_UNARY(op, expr)                                                                 \
    NABLA_MATH float nabla_##op##_float32(float x) { return expr; }                                \
    NABLA_MATH double nabla_##op##_float64(double x) { return expr; }

NABLA_MATH_UNARY(exp, libm_exp(x))
NABLA_MATH_UNARY(log, libm_log(x))
NABLA_MATH_UNARY(sin, libm_sin(x))
NABLA_MATH_UNARY(cos, libm_cos(x))
NABLA_MATH_UNARY(tanh, libm_tanh(x))
NABLA_MATH_UNARY(sigmoid, sigmoid_of(x))
// NOTE: CUDA's pow follows C99 Annex F, as BinaryOp.POW does: pow(1, y) = pow(x, 0) = pow(-1, +-inf) = 1.
NABLA_MATH float nabla_pow_float32(float a, float b) { return libm_pow(a, b); }
NABLA_MATH double nabla_pow_float64(double a, double b) { return libm_pow(a, b); }

// The functors' spelling: overloads over the compute type.
#define NABLA_MATH_OVERLOADS(op)                                                                   \
    __device__ __forceinline__ float m_##op(float x) { return nabla_##op##_float32(x); }           \
    __device__ __forceinline__ double m_##op(double x) { return nabla_##op##_float64(x); }
NABLA_MATH_OVERLOADS(exp)
NABLA_MATH_OVERLOADS(log)
NABLA_MATH_OVERLOADS(sin)
NABLA_MATH_OVERLOADS(cos)
NABLA_MATH_OVERLOADS(tanh)
NABLA_MATH_OVERLOADS(sigmoid)
__device__ __forceinline__ float m_pow(float a, float b) { return nabla_pow_float32(a, b); }
__device__ __forceinline__ double m_pow(double a, double b) { return nabla_pow_float64(a, b); }
