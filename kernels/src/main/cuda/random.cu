// Philox4x32-10 draws (Backend.random), bit for bit as dev.nabla.backend.Philox defines them:
// element i of a fill starting at counter c uses word i % 4 of the block for counter c + i / 4, under key = seed.
//   random_uniform_<dtype>  a + (b - a) * u,                     u = ((w >> 8) + 0.5) * 2^-24
//   random_normal_<dtype>   a + b * sqrt(-2 ln u0) * cos|sin(2 pi u1), Box-Muller on word pairs (0, 1), (2, 3)
// Values are computed in double like the Java reference, then rounded once to the output dtype.
// NOTE: the arithmetic uses __dadd_rn/__dmul_rn because nvcc would otherwise contract a + b * c into one fma,
// whose single rounding differs from Java's two. log, sin and cos are CUDA's (max 1 ulp), Java's Math may differ
// in the last bit of a double: uniform draws are bit-identical, normal draws agree to 1 ulp of a double (and are
// practically always identical once rounded to float32).
#include "common.cuh"

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

struct PhiloxBlock {
    unsigned int w[4];
};

__device__ __forceinline__ PhiloxBlock philox_block(u64 seed, u64 counter) {
    unsigned int c0 = (unsigned int)counter, c1 = (unsigned int)(counter >> 32), c2 = 0, c3 = 0;
    unsigned int k0 = (unsigned int)seed, k1 = (unsigned int)(seed >> 32);
#pragma unroll
    for (int round = 0; round < 10; ++round) {
        unsigned int hi0 = __umulhi(PHILOX_M0, c0), lo0 = PHILOX_M0 * c0;
        unsigned int hi1 = __umulhi(PHILOX_M1, c2), lo1 = PHILOX_M1 * c2;
        c0 = hi1 ^ c1 ^ k0;
        c1 = lo1;
        c2 = hi0 ^ c3 ^ k1;
        c3 = lo0;
        k0 += PHILOX_W0;
        k1 += PHILOX_W1;
    }
    PhiloxBlock b;
    b.w[0] = c0;
    b.w[1] = c1;
    b.w[2] = c2;
    b.w[3] = c3;
    return b;
}

// Exact in double: a 24-bit integer plus one half, times a power of two.
__device__ __forceinline__ double unit_uniform(unsigned int word) {
    return ((double)(word >> 8) + 0.5) * (1.0 / 16777216.0);
}

struct dist_uniform {
    __device__ static double value(const PhiloxBlock& b, int j, double a, double hi) {
        return __dadd_rn(a, __dmul_rn(__dsub_rn(hi, a), unit_uniform(b.w[j])));
    }
};

struct dist_normal {
    __device__ static double value(const PhiloxBlock& b, int j, double mean, double stddev) {
        int pair = j & ~1;
        double radius = sqrt(__dmul_rn(-2.0, log(unit_uniform(b.w[pair]))));
        double angle = __dmul_rn(2.0 * 3.141592653589793, unit_uniform(b.w[pair + 1]));
        double trig = (j & 1) == 0 ? cos(angle) : sin(angle);
        return __dadd_rn(mean, __dmul_rn(__dmul_rn(stddev, radius), trig));
    }
};

// One thread per Philox block of four elements.
template <class D, class T>
__device__ __forceinline__ void random_fill(T* out, i64 n, u64 seed, u64 counter, double a, double b) {
    GRID_STRIDE_LOOP(blk, (n + 3) / 4) {
        PhiloxBlock w = philox_block(seed, counter + (u64)blk);
#pragma unroll
        for (int j = 0; j < 4; ++j) {
            i64 i = blk * 4 + j;
            if (i < n) out[i] = store_as<T>(D::value(w, j, a, b));
        }
    }
}

#define NABLA_RANDOM(dist, T, dtype)                                                               \
    extern "C" __global__ void random_##dist##_##dtype(T* out, i64 n, u64 seed, u64 counter, double a, \
                                                       double b) {                                 \
        random_fill<dist_##dist, T>(out, n, seed, counter, a, b);                                  \
    }

NABLA_RANDOM(uniform, float, float32)
NABLA_RANDOM(uniform, double, float64)
NABLA_RANDOM(normal, float, float32)
NABLA_RANDOM(normal, double, float64)
