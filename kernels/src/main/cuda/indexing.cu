// Data movement: strided copy (Backend.copy), gather and scatter-add along one axis, and the index check both use.
//   copy_<dtype>         dst[dstOffset + idx . strides[1]] = src[srcOffset + idx . strides[0]] over it.shape
//   index_check_int32    error[0] = min(error[0], op << 32 | j) for each position j whose index is outside
//                        [0, axisSize): the error record keeps the first bad position of the first checked op
//   index_error_value_int32  error[1] = the index at that position, when the record names this op
//   gather_<dtype>       out[o, j, i] = src[o, indices[j], i] (0 where the index is out of range)
//   scatter_add_<dtype>  dst[o, indices[j], i] += src[o, j, i], each destination's terms added in list order j, as
//                        the CPU adds them (repeated indices add up; out-of-range indices add nothing). Atomics
//                        would add in whatever order the threads arrive: float sums then differed in the last bit
//                        from run to run on the first GPU run (traced against eager, CUDA against the CPU). So the
//                        host first sorts the (index, position) pairs, then one thread per destination element
//                        walks its run of positions in order:
//     scatter_keys_int32     keys[k] = index << 32 | k (out-of-range indices sort past every valid one; the
//                            power-of-two padding after them)
//     sort_keys_tile         bitonic sort stages whose compare distance stays inside a 4096-key tile, in shared memory
//     sort_keys_step         one bitonic compare-exchange step of a larger distance, in global memory
//     scatter_starts         starts[v] = the first sorted position whose index is at least v, v in [0, axisSize]
//     scatter_add_<dtype>    the sums, one thread per destination element
//   im2col_<dtype>       cols[(c, i, j), (n, oy, ox)] = x[n, c, oy·stride + i − padTop, ox·stride + j − padLeft], zero
//                        in the padding: one thread per column-matrix element
//   max_pool_indices_<dtype>  indices[(n, oy, ox)] = the flat index into x of the window's first maximum in row
//                        order (c, i, j), the first NaN winning, as ARGMAX over im2col's column: one thread a window
//   col2im_<dtype>       x[n, c, y, x] = the sum of the column-matrix entries that im2col took from it, in the order
//                        of their rows (i, j), as the CPU adds them: a gather, one thread per image element
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

// ---- deterministic scatter-add ----------------------------------------------------------------------------
#define NABLA_SORT_TILE 4096

extern "C" __global__ void scatter_keys_int32(const int* indices, u64* keys, i64 count, i64 axisSize, i64 padded) {
    GRID_STRIDE_LOOP(k, padded) {
        if (k < count) {
            int v = indices[k];
            u64 key = v >= 0 && v < axisSize ? (u64)v : (u64)axisSize;
            keys[k] = key << 32 | (u64)k;
        } else {
            keys[k] = ~0ull;
        }
    }
}

// Element e and its partner e ^ distance swap when they are out of the order that stage `size` wants: ascending
// where (e & size) == 0, descending elsewhere (at the last stage, size == n, the whole array ascends).
__device__ __forceinline__ void bitonic_exchange(u64* a, u64* b, i64 e, i64 size) {
    u64 x = *a;
    u64 y = *b;
    bool ascending = (e & size) == 0;
    if ((x > y) == ascending) {
        *a = y;
        *b = x;
    }
}

// Stages size = first..last (powers of two), the first from distance firstDistance, the others from size / 2, all
// distances below the tile: each block sorts its own tile of min(n, 4096) keys in shared memory (32 KiB).
extern "C" __global__ void sort_keys_tile(u64* keys, i64 n, i64 first, i64 last, i64 firstDistance) {
    __shared__ u64 tile[NABLA_SORT_TILE];
    i64 width = n < NABLA_SORT_TILE ? n : NABLA_SORT_TILE;
    i64 base = (i64)blockIdx.x * width;
    for (i64 t = threadIdx.x; t < width; t += blockDim.x) tile[t] = keys[base + t];
    __syncthreads();
    for (i64 size = first; size <= last; size <<= 1) {
        for (i64 d = size == first ? firstDistance : size >> 1; d > 0; d >>= 1) {
            for (i64 t = threadIdx.x; t < width / 2; t += blockDim.x) {
                i64 lo = 2 * d * (t / d) + t % d;
                bitonic_exchange(&tile[lo], &tile[lo + d], base + lo, size);
            }
            __syncthreads();
        }
    }
    for (i64 t = threadIdx.x; t < width; t += blockDim.x) keys[base + t] = tile[t];
}

extern "C" __global__ void sort_keys_step(u64* keys, i64 n, i64 size, i64 distance) {
    GRID_STRIDE_LOOP(t, n / 2) {
        i64 lo = 2 * distance * (t / distance) + t % distance;
        bitonic_exchange(&keys[lo], &keys[lo + distance], lo, size);
    }
}

extern "C" __global__ void scatter_starts(const u64* keys, i64* starts, i64 count, i64 axisSize) {
    GRID_STRIDE_LOOP(v, axisSize + 1) {
        u64 want = (u64)v << 32;
        i64 lo = 0;
        i64 hi = count;
        while (lo < hi) {
            i64 mid = (lo + hi) >> 1;
            if (keys[mid] < want) lo = mid + 1;
            else hi = mid;
        }
        starts[v] = lo;
    }
}

// Java's d + s stored back: float and double add, INT32 wraps (as the CPU's int rows), BOOL is (d + s) != 0.
__device__ __forceinline__ float accumulate(float d, float s) { return d + s; }
__device__ __forceinline__ double accumulate(double d, double s) { return d + s; }
__device__ __forceinline__ int accumulate(int d, int s) { return wrap_add(d, s); }
__device__ __forceinline__ u8 accumulate(u8 d, u8 s) { return (d | s) != 0; }

template <class T>
__device__ __forceinline__ void scatter_add_runs(const u64* keys, const i64* starts, const T* src, T* dst,
                                                   i64 outer, i64 axisSize, i64 inner, i64 count) {
    GRID_STRIDE_LOOP(e, outer * axisSize * inner) {
        i64 i = e % inner;
        i64 rest = e / inner;
        i64 v = rest % axisSize;
        i64 o = rest / axisSize;
        i64 from = starts[v];
        i64 to = starts[v + 1];
        if (from == to) continue;
        T acc = dst[e];
        for (i64 k = from; k < to; ++k) {
            i64 j = (i64)(keys[k] & 0xFFFFFFFFull);
            acc = accumulate(acc, src[(o * count + j) * inner + i]);
        }
        dst[e] = acc;
    }
}

template <class T>
__device__ __forceinline__ void im2col_copy(const T* x, T* cols, i64 images, i64 channels, i64 height, i64 width,
                                            i64 kernelH, i64 kernelW, i64 stride, i64 padTop, i64 padLeft, i64 outH,
                                            i64 outW) {
    i64 columns = images * outH * outW;
    GRID_STRIDE_LOOP(e, channels * kernelH * kernelW * columns) {
        i64 column = e % columns;
        i64 row = e / columns;
        i64 ox = column % outW;
        i64 oy = column / outW % outH;
        i64 n = column / (outW * outH);
        i64 j = row % kernelW;
        i64 i = row / kernelW % kernelH;
        i64 c = row / (kernelW * kernelH);
        i64 y = oy * stride + i - padTop;
        i64 xx = ox * stride + j - padLeft;
        cols[e] = y >= 0 && y < height && xx >= 0 && xx < width ? x[((n * channels + c) * height + y) * width + xx]
                                                                : T(0);
    }
}

template <class T>
__device__ __forceinline__ void max_pool_windows(const T* x, int* indices, i64 images, i64 channels, i64 height,
                                                 i64 width, i64 kernelH, i64 kernelW, i64 stride, i64 padTop,
                                                 i64 padLeft, i64 outH, i64 outW) {
    typedef typename Compute<T>::type C;
    GRID_STRIDE_LOOP(q, images * outH * outW) {
        i64 ox = q % outW;
        i64 oy = q / outW % outH;
        i64 n = q / (outW * outH);
        i64 best = -1;
        C bestValue = C(0);
        // pooling windows have no padding (Backend.maxPoolIndices), so every element lies in x
        for (i64 c = 0; c < channels && !(best >= 0 && bestValue != bestValue); ++c) {
            for (i64 i = 0; i < kernelH; ++i) {
                for (i64 j = 0; j < kernelW; ++j) {
                    i64 at = ((n * channels + c) * height + oy * stride + i - padTop) * width + ox * stride + j
                             - padLeft;
                    C v = (C)x[at];
                    if (best < 0 || (bestValue == bestValue && (v != v || v > bestValue))) {
                        best = at;
                        bestValue = v;
                    }
                }
            }
        }
        indices[q] = (int)best;
    }
}

template <class T>
__device__ __forceinline__ void col2im_gather(const T* cols, T* x, i64 images, i64 channels, i64 height, i64 width,
                                              i64 kernelH, i64 kernelW, i64 stride, i64 padTop, i64 padLeft,
                                              i64 outH, i64 outW) {
    i64 columns = images * outH * outW;
    GRID_STRIDE_LOOP(e, images * channels * height * width) {
        i64 w = e % width;
        i64 rest = e / width;
        i64 h = rest % height;
        rest /= height;
        i64 c = rest % channels;
        i64 n = rest / channels;
        T acc = T(0);
        for (i64 i = 0; i < kernelH; ++i) {
            i64 y = h + padTop - i;
            if (y < 0 || y % stride != 0 || y / stride >= outH) continue;
            i64 oy = y / stride;
            for (i64 j = 0; j < kernelW; ++j) {
                i64 xx = w + padLeft - j;
                if (xx < 0 || xx % stride != 0 || xx / stride >= outW) continue;
                i64 row = (c * kernelH + i) * kernelW + j;
                acc = accumulate(acc, cols[row * columns + (n * outH + oy) * outW + xx / stride]);
            }
        }
        x[e] = acc;
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
    extern "C" __global__ void scatter_add_##dtype(const u64* keys, const i64* starts, const T* src, T* dst, \
                                                          i64 outer, i64 axisSize, i64 inner, i64 count) { \
        scatter_add_runs<T>(keys, starts, src, dst, outer, axisSize, inner, count);              \
    }                                                                                              \
    extern "C" __global__ void im2col_##dtype(const T* x, T* cols, i64 images, i64 channels, i64 height, \
                                              i64 width, i64 kernelH, i64 kernelW, i64 stride, i64 padTop, \
                                              i64 padLeft, i64 outH, i64 outW) {                   \
        im2col_copy<T>(x, cols, images, channels, height, width, kernelH, kernelW, stride, padTop, padLeft, \
                       outH, outW);                                                                \
    }                                                                                              \
    extern "C" __global__ void max_pool_indices_##dtype(const T* x, int* indices, i64 images, i64 channels, \
                                                        i64 height, i64 width, i64 kernelH, i64 kernelW,   \
                                                        i64 stride, i64 padTop, i64 padLeft, i64 outH,    \
                                                        i64 outW) {                                        \
        max_pool_windows<T>(x, indices, images, channels, height, width, kernelH, kernelW, stride, padTop, \
                            padLeft, outH, outW);                                                          \
    }                                                                                              \
    extern "C" __global__ void col2im_##dtype(const T* cols, T* x, i64 images, i64 channels, i64 height, \
                                              i64 width, i64 kernelH, i64 kernelW, i64 stride, i64 padTop, \
                                              i64 padLeft, i64 outH, i64 outW) {                   \
        col2im_gather<T>(cols, x, images, channels, height, width, kernelH, kernelW, stride, padTop, padLeft, \
                         outH, outW);                                                              \
    }

NABLA_INDEXING(float, float32)
NABLA_INDEXING(double, float64)
NABLA_INDEXING(int, int32)
NABLA_INDEXING(u8, bool)
