// The matmul fallback when no cuBLAS library loads (Backend.matmul): batched row-major
// C[z] = op(A[z]) . op(B[z]) with op a transpose when its flag is set.
//   gemm_<dtype>(A, B, C, m, n, k, batches, transA, transB, StridedIter batch)
// batch.shape holds the batch dimensions; strides[0], [1], [2] are the element offsets of one batch step in A, B and
// C, so broadcast batches (stride 0) need no copy. A is stored (m, k), or (k, m) when transposed; B (k, n) or (n, k).
// Classic shared-memory tiling: a 64 x 64 tile of C per block of 256 threads, each thread a 4 x 4 register block,
// K consumed 16 at a time. It reaches a fraction of cuBLAS but keeps every backend primitive available on any driver.
// The tiles are a grid-stride loop in x, y and z, so any grid covers any (m, n, batches) (grid y is capped at 65535).
// gemm_int32 is the same template on unsigned: INT32 matmul wraps in two's complement (cuBLAS has no such GEMM).
#include "common.cuh"

#define TILE 64
#define TILE_K 16
#define THREADS 256

template <class T>
__device__ __forceinline__ void gemm_tiled(const T* A, const T* B, T* C, i64 m, i64 n, i64 k, i64 batches,
                                           int transA, int transB, const StridedIter& batch) {
    // +1 column of padding keeps the transposed stores into shared memory free of bank conflicts.
    __shared__ T As[TILE_K][TILE + 1];
    __shared__ T Bs[TILE_K][TILE + 1];
    int tx = threadIdx.x % 16;
    int ty = threadIdx.x / 16;
    i64 tilesY = (m + TILE - 1) / TILE;
    i64 tilesX = (n + TILE - 1) / TILE;
    for (i64 tile = (i64)blockIdx.z * gridDim.y * gridDim.x + (i64)blockIdx.y * gridDim.x + blockIdx.x;
         tile < batches * tilesY * tilesX; tile += (i64)gridDim.z * gridDim.y * gridDim.x) {
        i64 z = tile / (tilesY * tilesX);
        i64 row0 = (tile / tilesX % tilesY) * TILE;
        i64 col0 = (tile % tilesX) * TILE;
        i64 off[3];
        strided_offsets<3>(batch, z, off);
        const T* a = A + off[0];
        const T* b = B + off[1];
        T* c = C + off[2];
        T acc[4][4];
#pragma unroll
        for (int i = 0; i < 4; ++i)
#pragma unroll
            for (int j = 0; j < 4; ++j) acc[i][j] = T(0);
        for (i64 k0 = 0; k0 < k; k0 += TILE_K) {
            // Consecutive threads read consecutive addresses of whichever layout the operand has.
            for (int l = threadIdx.x; l < TILE * TILE_K; l += THREADS) {
                int r = transA ? l % TILE : l / TILE_K;
                int kk = transA ? l / TILE : l % TILE_K;
                i64 gr = row0 + r, gk = k0 + kk;
                As[kk][r] = (gr < m && gk < k) ? (transA ? a[gk * m + gr] : a[gr * k + gk]) : T(0);
            }
            for (int l = threadIdx.x; l < TILE * TILE_K; l += THREADS) {
                int cc = transB ? l / TILE_K : l % TILE;
                int kk = transB ? l % TILE_K : l / TILE;
                i64 gc = col0 + cc, gk = k0 + kk;
                Bs[kk][cc] = (gc < n && gk < k) ? (transB ? b[gc * k + gk] : b[gk * n + gc]) : T(0);
            }
            __syncthreads();
#pragma unroll
            for (int kk = 0; kk < TILE_K; ++kk) {
                T ra[4], rb[4];
#pragma unroll
                for (int i = 0; i < 4; ++i) ra[i] = As[kk][ty + 16 * i];
#pragma unroll
                for (int j = 0; j < 4; ++j) rb[j] = Bs[kk][tx + 16 * j];
#pragma unroll
                for (int i = 0; i < 4; ++i)
#pragma unroll
                    for (int j = 0; j < 4; ++j) acc[i][j] += ra[i] * rb[j];
            }
            __syncthreads();
        }
#pragma unroll
        for (int i = 0; i < 4; ++i) {
            i64 r = row0 + ty + 16 * i;
#pragma unroll
            for (int j = 0; j < 4; ++j) {
                i64 col = col0 + tx + 16 * j;
                if (r < m && col < n) c[r * n + col] = acc[i][j];
            }
        }
    }
}

#define NABLA_GEMM(T, dtype)                                                                       \
    extern "C" __global__ void __launch_bounds__(THREADS) gemm_##dtype(const T* A, const T* B, T* C, \
            i64 m, i64 n, i64 k, i64 batches, int transA, int transB, StridedIter batch) {          \
        gemm_tiled<T>(A, B, C, m, n, k, batches, transA, transB, batch);                           \
    }

NABLA_GEMM(float, float32)
NABLA_GEMM(double, float64)
NABLA_GEMM(unsigned, int32)
