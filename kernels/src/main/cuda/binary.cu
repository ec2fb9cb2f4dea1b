// Element-wise binary primitives (Backend.binary) and select (Backend.select).
// One template per path over (op, dtype), instantiated as
//   binary_<op>_<dtype>          dense operands, or an operand that is a single broadcast element (a scalar);
//                                four elements per thread through 16-byte packs
//   binary_2d_<op>_<dtype>       two dimensions of any strides (row and column broadcast), no per-element division
//   binary_strided_<op>_<dtype>  any broadcast strides, through StridedIter
//   select_<dtype>               out = cond ? a : b through StridedIter (cond is BOOL)
// Comparisons write BOOL (one byte 0/1); the other ops keep the operands' dtype.
#include "common.cuh"
#include "math_ops.cuh"  // m_pow: the call shared with the fused kernels

// Each functor is the CUDA spelling of the BinaryOp constant of the same name: `apply` its floating definition
// (compute type C), `apply_int` its INT32 definition (exact, wrapping). Comparisons return bool.
#define NABLA_ARITH(name, expr, int_expr)                                                          \
    struct op_##name {                                                                             \
        static const bool comparison = false;                                                      \
        template <class C> __device__ static C apply(C a, C b) { return expr; }                    \
        __device__ static int apply_int(int a, int b) { return int_expr; }                         \
    };
#define NABLA_COMPARE(name, expr)                                                                  \
    struct op_##name {                                                                             \
        static const bool comparison = true;                                                       \
        template <class C> __device__ static bool apply(C a, C b) { return expr; }                 \
    };

// Truncation toward zero; MIN / -1 wraps to MIN and x / 0 is 0 (BinaryOp.DIV), where C's would trap or be undefined.
__device__ __forceinline__ int int_div(int a, int b) {
    if (b == 0) return 0;
    if (b == -1) return wrap_sub(0, a);
    return a / b;
}

// Powers by squaring with wrap-around; a negative exponent gives the truncated real result (BinaryOp.POW).
__device__ __forceinline__ int int_pow(int a, int b) {
    if (b < 0) return a == 1 ? 1 : a == -1 ? ((b & 1) ? -1 : 1) : 0;
    int result = 1;
    for (unsigned e = (unsigned)b; e != 0; e >>= 1) {
        if (e & 1) result = wrap_mul(result, a);
        a = wrap_mul(a, a);
    }
    return result;
}

NABLA_ARITH(add, a + b, wrap_add(a, b))
NABLA_ARITH(sub, a - b, wrap_sub(a, b))
NABLA_ARITH(mul, a * b, wrap_mul(a, b))
NABLA_ARITH(div, a / b, int_div(a, b))
NABLA_ARITH(pow, m_pow(a, b), int_pow(a, b))
NABLA_ARITH(maximum, java_max(a, b), max(a, b))
NABLA_ARITH(minimum, java_min(a, b), min(a, b))
NABLA_ARITH(relu_gradient, a > (C)0 ? b : (C)0, a > 0 ? b : 0)
NABLA_COMPARE(eq, a == b)
NABLA_COMPARE(ne, a != b)
NABLA_COMPARE(lt, a < b)
NABLA_COMPARE(le, a <= b)
NABLA_COMPARE(gt, a > b)
NABLA_COMPARE(ge, a >= b)

template <class Op, class T, bool Comparison = Op::comparison> struct BinaryOut;
template <class Op, class T> struct BinaryOut<Op, T, false> {
    typedef T type;
    __device__ static T apply(T a, T b) {
        typedef typename Compute<T>::type C;
        return store_compute<T>(Op::template apply<C>(load_compute(a), load_compute(b)));
    }
};
template <class Op> struct BinaryOut<Op, int, false> {
    typedef int type;
    __device__ static int apply(int a, int b) { return Op::apply_int(a, b); }
};
template <class Op, class T> struct BinaryOut<Op, T, true> {
    typedef u8 type;
    __device__ static u8 apply(T a, T b) {
        typedef typename Compute<T>::type C;
        return Op::template apply<C>(load_compute(a), load_compute(b)) ? 1 : 0;
    }
};

// aScalar / bScalar: the operand is one element broadcast to all of `n` (x + 2, a row-free broadcast).
template <class Op, class T>
__device__ __forceinline__ void binary_dense(const T* a, const T* b, typename BinaryOut<Op, T>::type* out, i64 n,
                                             int aScalar, int bScalar) {
    typedef BinaryOut<Op, T> F;
    typedef typename F::type Out;
    i64 packs = n / 4;
    T a0 = aScalar ? a[0] : T(0);
    T b0 = bScalar ? b[0] : T(0);
    GRID_STRIDE_LOOP(p, packs) {
        Pack<T, 4> x, y;
        if (aScalar) {
#pragma unroll
            for (int j = 0; j < 4; ++j) x.v[j] = a0;
        } else {
            x = load_pack(a, p);
        }
        if (bScalar) {
#pragma unroll
            for (int j = 0; j < 4; ++j) y.v[j] = b0;
        } else {
            y = load_pack(b, p);
        }
        Pack<Out, 4> z;
#pragma unroll
        for (int j = 0; j < 4; ++j) z.v[j] = F::apply(x.v[j], y.v[j]);
        store_pack(out, p, z);
    }
    for (i64 i = packs * 4 + (i64)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (i64)blockDim.x * gridDim.x) {
        out[i] = F::apply(aScalar ? a0 : a[i], bScalar ? b0 : b[i]);
    }
}

template <class Op, class T>
__device__ __forceinline__ void binary_strided(const T* a, const T* b, typename BinaryOut<Op, T>::type* out, i64 n,
                                               const StridedIter& it) {
    GRID_STRIDE_LOOP(i, n) {
        i64 off[2];
        strided_offsets<2>(it, i, off);
        out[i] = BinaryOut<Op, T>::apply(a[off[0]], b[off[1]]);
    }
}

// Two dimensions (after the host merged what it could): out (rows, cols) dense, a and b read at r * row + c * col
// (0 broadcasts). The commonest broadcasts, a bias add (B, N) + (N) and a column (B, N) + (B, 1), land here: each
// thread divides once to find its first (r, c) and then steps by the grid stride with an add and a carry, where the
// rank-8 strided kernel divides per dimension per element.
template <class Op, class T>
__device__ __forceinline__ void binary_2d(const T* a, const T* b, typename BinaryOut<Op, T>::type* out, i64 n,
                                          i64 cols, i64 aRow, i64 aCol, i64 bRow, i64 bCol) {
    i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    i64 stride = (i64)blockDim.x * gridDim.x;
    i64 r = i / cols;
    i64 c = i - r * cols;
    i64 dr = stride / cols;
    i64 dc = stride - dr * cols;
    for (; i < n; i += stride) {
        out[i] = BinaryOut<Op, T>::apply(a[r * aRow + c * aCol], b[r * bRow + c * bCol]);
        r += dr;
        c += dc;
        if (c >= cols) {
            c -= cols;
            r += 1;
        }
    }
}

#define NABLA_BINARY(op, T, dtype)                                                                 \
    extern "C" __global__ void binary_##op##_##dtype(const T* a, const T* b,                       \
            BinaryOut<op_##op, T>::type* out, i64 n, int aScalar, int bScalar) {                   \
        binary_dense<op_##op, T>(a, b, out, n, aScalar, bScalar);                                  \
    }                                                                                              \
    extern "C" __global__ void binary_strided_##op##_##dtype(const T* a, const T* b,               \
            BinaryOut<op_##op, T>::type* out, i64 n, StridedIter it) {                             \
        binary_strided<op_##op, T>(a, b, out, n, it);                                              \
    }                                                                                              \
    extern "C" __global__ void binary_2d_##op##_##dtype(const T* a, const T* b,                    \
            BinaryOut<op_##op, T>::type* out, i64 n, i64 cols, i64 aRow, i64 aCol, i64 bRow,       \
            i64 bCol) {                                                                            \
        binary_2d<op_##op, T>(a, b, out, n, cols, aRow, aCol, bRow, bCol);                         \
    }

#define NABLA_BINARY_ALL_DTYPES(op)                                                                \
    NABLA_BINARY(op, float, float32)                                                               \
    NABLA_BINARY(op, double, float64)                                                              \
    NABLA_BINARY(op, int, int32)                                                                   \
    NABLA_BINARY(op, u8, bool)

NABLA_BINARY_ALL_DTYPES(add)
NABLA_BINARY_ALL_DTYPES(sub)
NABLA_BINARY_ALL_DTYPES(mul)
NABLA_BINARY_ALL_DTYPES(div)
NABLA_BINARY_ALL_DTYPES(pow)
NABLA_BINARY_ALL_DTYPES(maximum)
NABLA_BINARY_ALL_DTYPES(minimum)
NABLA_BINARY_ALL_DTYPES(relu_gradient)
NABLA_BINARY_ALL_DTYPES(eq)
NABLA_BINARY_ALL_DTYPES(ne)
NABLA_BINARY_ALL_DTYPES(lt)
NABLA_BINARY_ALL_DTYPES(le)
NABLA_BINARY_ALL_DTYPES(gt)
NABLA_BINARY_ALL_DTYPES(ge)

// ---- select ---------------------------------------------------------------------------------------------------
// strides[0] walks cond, strides[1] a, strides[2] b. Only the element size matters, but the kernels are named per
// dtype like every other family so the host never maps dtypes to widths.
template <class T>
__device__ __forceinline__ void select_strided(const u8* cond, const T* a, const T* b, T* out, i64 n,
                                               const StridedIter& it) {
    GRID_STRIDE_LOOP(i, n) {
        i64 off[3];
        strided_offsets<3>(it, i, off);
        out[i] = cond[off[0]] ? a[off[1]] : b[off[2]];
    }
}

#define NABLA_SELECT(T, dtype)                                                                     \
    extern "C" __global__ void select_##dtype(const u8* cond, const T* a, const T* b, T* out, i64 n, \
                                               StridedIter it) {                                   \
        select_strided<T>(cond, a, b, out, n, it);                                                 \
    }
NABLA_SELECT(float, float32)
NABLA_SELECT(double, float64)
NABLA_SELECT(int, int32)
NABLA_SELECT(u8, bool)
