// Element-wise unary primitives (Backend.unary): out[i] = op(in[i]) over dense buffers of one dtype.
// One template over (op, dtype); the instantiations at the bottom give the extern "C" names unary_<op>_<dtype>.
#include "common.cuh"
#include "math_ops.cuh"  // m_exp, m_log, m_sin, m_cos, m_tanh, m_sigmoid: calls shared with the fused kernels

// sqrt is IEEE-exact (sqrt.rn), so it stays inline.
__device__ __forceinline__ float m_sqrt(float x) { return sqrtf(x); }
__device__ __forceinline__ double m_sqrt(double x) { return sqrt(x); }

// Each functor is the CUDA spelling of the UnaryOp constant of the same name: `apply` its floating definition
// (compute type C), `apply_int` its INT32 definition (exact, wrapping). Ops core allows only on floats still get
// an int form (through double, with Java's narrowing) so that every dtype instantiates.
#define NABLA_INT_VIA_DOUBLE \
    __device__ static int apply_int(int x) { return java_double_to_int(apply<double>((double)x)); }
struct op_neg {
    template <class C> __device__ static C apply(C x) { return -x; }
    __device__ static int apply_int(int x) { return wrap_sub(0, x); }
};
struct op_abs {
    template <class C> __device__ static C apply(C x) { return fabs(x); }
    __device__ static int apply_int(int x) { return x < 0 ? wrap_sub(0, x) : x; }
};
// Math.signum: NaN and signed zeros come back unchanged.
struct op_sign {
    template <class C> __device__ static C apply(C x) { return x > 0 ? C(1) : x < 0 ? C(-1) : x; }
    __device__ static int apply_int(int x) { return (x > 0) - (x < 0); }
};
struct op_exp { template <class C> __device__ static C apply(C x) { return m_exp(x); } NABLA_INT_VIA_DOUBLE };
struct op_log { template <class C> __device__ static C apply(C x) { return m_log(x); } NABLA_INT_VIA_DOUBLE };
struct op_sqrt { template <class C> __device__ static C apply(C x) { return m_sqrt(x); } NABLA_INT_VIA_DOUBLE };
// NOTE: 1 / sqrt, not rsqrt(): the hardware rsqrt is approximate and the reference divides.
struct op_rsqrt {
    template <class C> __device__ static C apply(C x) { return C(1) / m_sqrt(x); }
    NABLA_INT_VIA_DOUBLE
};
struct op_square {
    template <class C> __device__ static C apply(C x) { return x * x; }
    __device__ static int apply_int(int x) { return wrap_mul(x, x); }
};
struct op_reciprocal { template <class C> __device__ static C apply(C x) { return C(1) / x; } NABLA_INT_VIA_DOUBLE };
struct op_sin { template <class C> __device__ static C apply(C x) { return m_sin(x); } NABLA_INT_VIA_DOUBLE };
struct op_cos { template <class C> __device__ static C apply(C x) { return m_cos(x); } NABLA_INT_VIA_DOUBLE };
struct op_tanh { template <class C> __device__ static C apply(C x) { return m_tanh(x); } NABLA_INT_VIA_DOUBLE };
struct op_sigmoid { template <class C> __device__ static C apply(C x) { return m_sigmoid(x); } NABLA_INT_VIA_DOUBLE };
// x where x > 0 or NaN, else +0 (-0 and -inf included), as UnaryOp.RELU.
struct op_relu {
    template <class C> __device__ static C apply(C x) { return (x > 0 || x != x) ? x : C(0); }
    __device__ static int apply_int(int x) { return x > 0 ? x : 0; }
};
struct op_logical_not {
    template <class C> __device__ static C apply(C x) { return x == 0 ? C(1) : C(0); }
    __device__ static int apply_int(int x) { return x == 0 ? 1 : 0; }
};

template <class Op, class T> struct UnaryOne {
    __device__ static T apply(T x) {
        return store_compute<T>(Op::template apply<typename Compute<T>::type>(load_compute(x)));
    }
};
template <class Op> struct UnaryOne<Op, int> {
    __device__ static int apply(int x) { return Op::apply_int(x); }
};

template <class Op, class T>
__device__ __forceinline__ T unary_one(T x) {
    return UnaryOne<Op, T>::apply(x);
}

// Four elements per thread and iteration through 16-byte packs, then a scalar tail.
template <class Op, class T>
__device__ __forceinline__ void unary_dense(const T* in, T* out, i64 n) {
    i64 packs = n / 4;
    GRID_STRIDE_LOOP(p, packs) {
        Pack<T, 4> v = load_pack(in, p);
#pragma unroll
        for (int j = 0; j < 4; ++j) v.v[j] = unary_one<Op>(v.v[j]);
        store_pack(out, p, v);
    }
    for (i64 i = packs * 4 + (i64)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (i64)blockDim.x * gridDim.x) {
        out[i] = unary_one<Op>(in[i]);
    }
}

#define NABLA_UNARY(op, T, dtype)                                                                  \
    extern "C" __global__ void unary_##op##_##dtype(const T* in, T* out, i64 n) {                 \
        unary_dense<op_##op, T>(in, out, n);                                                       \
    }

#define NABLA_UNARY_ALL_DTYPES(op)                                                                 \
    NABLA_UNARY(op, float, float32)                                                                \
    NABLA_UNARY(op, double, float64)                                                               \
    NABLA_UNARY(op, int, int32)                                                                    \
    NABLA_UNARY(op, u8, bool)

NABLA_UNARY_ALL_DTYPES(neg)
NABLA_UNARY_ALL_DTYPES(abs)
NABLA_UNARY_ALL_DTYPES(sign)
NABLA_UNARY_ALL_DTYPES(exp)
NABLA_UNARY_ALL_DTYPES(log)
NABLA_UNARY_ALL_DTYPES(sqrt)
NABLA_UNARY_ALL_DTYPES(rsqrt)
NABLA_UNARY_ALL_DTYPES(square)
NABLA_UNARY_ALL_DTYPES(reciprocal)
NABLA_UNARY_ALL_DTYPES(sin)
NABLA_UNARY_ALL_DTYPES(cos)
NABLA_UNARY_ALL_DTYPES(tanh)
NABLA_UNARY_ALL_DTYPES(sigmoid)
NABLA_UNARY_ALL_DTYPES(relu)
NABLA_UNARY_ALL_DTYPES(logical_not)
