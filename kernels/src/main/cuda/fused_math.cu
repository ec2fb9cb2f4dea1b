// The fusion math library: the functions of math_ops.cuh as extern "C" `.visible .func`s (compiled with -rdc=true,
// see build-ptx.sh), which the kernels generated for fused element-wise chains call. No kernels of its own.
#define NABLA_MATH_LIBRARY
#include "math_ops.cuh"
