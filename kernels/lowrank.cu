// lowrank.cu — the fused low-rank linear layer at rank r of stored rank R, the rank-r
// intermediate kept on chip (shared memory) instead of a round trip through global memory:
//   forward      y = (x · VT[:r]ᵀ) · U[:, :r]ᵀ + b       x [rows, in], VT [R, in], U [out, R], y [rows, out]
//                and, when h is not null, h = x · VT[:r]ᵀ [rows, r] for the backward pass
//   backward dx  dh = dy · U[:, :r] [rows, r] on chip (written to dh), dx = dh · VT[:r] [rows, in]
// dU[:, :r] += dyᵀ·h and dVT[:r] += dhᵀ·x are plain GEMMs (cuBLAS), db a column sum (bias_grad_f32).
// Versions:
//   *_f32   fp32 FMA: a block of 256 threads per tile of LR_ROWS rows; each thread computes outputs
//           of the tile strided by 256; reads of VT and U rows are contiguous across a warp.
//   *_tf32, *_bf16 (forward) and *_tf32 (backward dx): tensor cores through WMMA, fp32 accumulate;
//           a block of 4 warps per tile of 16 rows; operand tiles are staged through shared memory
//           with zero padding, so no shape needs to be a multiple of a tile.
// Dynamic shared memory: f32: LR_ROWS·r floats; WMMA: 16·roundup(r,16) floats + 4 warps' staging.
#include "common.cuh"

#define LR_ROWS 8
#define LR_THREADS 256

extern "C" __global__ void lowrank_forward_f32(const float* x, const float* vt, const float* u, const float* bias,
                                               float* h, float* y, int rows, int in, int out, int r, int R) {
    EMU_DYNAMIC_SHARED(float, hs);  // [LR_ROWS][r]
    int row0 = blockIdx.x * LR_ROWS;
    int tileRows = min(LR_ROWS, rows - row0);
    for (int idx = threadIdx.x; idx < tileRows * r; idx += blockDim.x) {
        int i = idx / r;
        int k = idx % r;
        const float* xr = x + (long long)(row0 + i) * in;
        const float* vk = vt + (long long)k * in;
        float acc = 0;
        for (int j = 0; j < in; j++) {
            acc += xr[j] * vk[j];
        }
        hs[i * r + k] = acc;
        if (h != nullptr) {
            h[(long long)(row0 + i) * r + k] = acc;
        }
    }
    __syncthreads();
    for (int idx = threadIdx.x; idx < tileRows * out; idx += blockDim.x) {
        int i = idx / out;
        int o = idx % out;
        const float* uo = u + (long long)o * R;
        const float* hi = hs + i * r;
        float acc = bias[o];
        for (int k = 0; k < r; k++) {
            acc += hi[k] * uo[k];
        }
        y[(long long)(row0 + i) * out + o] = acc;
    }
}
EMU_KERNEL(lowrank_forward_f32);

extern "C" __global__ void lowrank_backward_dx_f32(const float* dy, const float* vt, const float* u, float* dh,
                                                   float* dx, int rows, int in, int out, int r, int R) {
    EMU_DYNAMIC_SHARED(float, ds);  // [LR_ROWS][r]
    int row0 = blockIdx.x * LR_ROWS;
    int tileRows = min(LR_ROWS, rows - row0);
    for (int idx = threadIdx.x; idx < tileRows * r; idx += blockDim.x) {
        int i = idx / r;
        int k = idx % r;
        const float* gi = dy + (long long)(row0 + i) * out;
        float acc = 0;
        for (int o = 0; o < out; o++) {
            acc += gi[o] * u[(long long)o * R + k];
        }
        ds[i * r + k] = acc;
        dh[(long long)(row0 + i) * r + k] = acc;
    }
    __syncthreads();
    for (int idx = threadIdx.x; idx < tileRows * in; idx += blockDim.x) {
        int i = idx / in;
        int j = idx % in;
        const float* di = ds + i * r;
        float acc = 0;
        for (int k = 0; k < r; k++) {
            acc += di[k] * vt[(long long)k * in + j];
        }
        dx[(long long)(row0 + i) * in + j] = acc;
    }
}
EMU_KERNEL(lowrank_backward_dx_f32);

// ---- tensor-core versions ---------------------------------------------------------------------

namespace wmma = nvcuda::wmma;

#define WM_ROWS 16
#define WM_WARPS 4

// Operand types of one WMMA shape: tf32 m16n16k8 or bf16 m16n16k16.
struct Tf32 {
    static constexpr int K = 8;
    using Elem = float;
    using FragA = wmma::fragment<wmma::matrix_a, 16, 16, 8, wmma::precision::tf32, wmma::row_major>;
    using FragB = wmma::fragment<wmma::matrix_b, 16, 16, 8, wmma::precision::tf32, wmma::row_major>;
    __device__ static Elem cast(float v) { return wmma::__float_to_tf32(v); }
    template <typename F>
    __device__ static void round(F& f) {
        for (int t = 0; t < f.num_elements; t++) {
            f.x[t] = wmma::__float_to_tf32(f.x[t]);
        }
    }
};

struct Bf16 {
    static constexpr int K = 16;
    using Elem = __nv_bfloat16;
    using FragA = wmma::fragment<wmma::matrix_a, 16, 16, 16, __nv_bfloat16, wmma::row_major>;
    using FragB = wmma::fragment<wmma::matrix_b, 16, 16, 16, __nv_bfloat16, wmma::row_major>;
    __device__ static Elem cast(float v) { return __float2bfloat16(v); }
    template <typename F>
    __device__ static void round(F&) {}
};

using Acc = wmma::fragment<wmma::accumulator, 16, 16, Tf32::K, float>;
using AccB = wmma::fragment<wmma::accumulator, 16, 16, Bf16::K, float>;
template <typename P>
struct AccOf {
    using type = Acc;
};
template <>
struct AccOf<Bf16> {
    using type = AccB;
};

// C[16 × 16] (+)= A[16 × K·steps] · B[K·steps × 16] for one warp, where element (i, k) of A and
// (k, j) of B come from the loaders (zero outside the operands). Tiles go through the warp's
// staging buffers a[16·K] and b[K·16].
template <typename P, typename LoadA, typename LoadB>
__device__ void warpGemm(typename AccOf<P>::type& c, int kTotal, typename P::Elem* a, typename P::Elem* b,
                         LoadA loadA, LoadB loadB) {
    int lane = threadIdx.x % 32;
    for (int k0 = 0; k0 < kTotal; k0 += P::K) {
        for (int t = lane; t < 16 * P::K; t += 32) {
            a[t] = P::cast(loadA(t / P::K, k0 + t % P::K));
            b[t] = P::cast(loadB(k0 + t / 16, t % 16));
        }
        __syncwarp();
        typename P::FragA fa;
        typename P::FragB fb;
        wmma::load_matrix_sync(fa, a, P::K);
        wmma::load_matrix_sync(fb, b, 16);
        P::round(fa);
        P::round(fb);
        wmma::mma_sync(c, fa, fb, c);
        __syncwarp();
    }
}

template <typename P>
__device__ void lowrankForwardWmma(const float* x, const float* vt, const float* u, const float* bias, float* h,
                                   float* y, int rows, int in, int out, int r, int R) {
    EMU_DYNAMIC_SHARED(float, smem);
    int rPad = (r + 15) / 16 * 16;
    float* hs = smem;                                   // [16][rPad], zero beyond r
    int warp = threadIdx.x / 32;
    int lane = threadIdx.x % 32;
    typename P::Elem* stage = reinterpret_cast<typename P::Elem*>(hs + 16 * rPad);
    typename P::Elem* a = stage + warp * 32 * P::K;     // per warp: A tile, B tile
    typename P::Elem* bt = a + 16 * P::K;
    float* cs = reinterpret_cast<float*>(stage + WM_WARPS * 32 * P::K) + warp * 256;  // per warp 16×16 out
    int row0 = blockIdx.x * WM_ROWS;
    // phase 1: h = x · VT[:r]ᵀ, 16-rank column blocks shared out among the warps
    for (int k0 = warp * 16; k0 < rPad; k0 += WM_WARPS * 16) {
        typename AccOf<P>::type c;
        wmma::fill_fragment(c, 0.0f);
        warpGemm<P>(
            c, in, a, bt,
            [&](int i, int j) { return row0 + i < rows && j < in ? x[(long long)(row0 + i) * in + j] : 0.0f; },
            [&](int j, int k) { return j < in && k0 + k < r ? vt[(long long)(k0 + k) * in + j] : 0.0f; });
        wmma::store_matrix_sync(hs + k0, c, rPad, wmma::mem_row_major);
    }
    __syncthreads();
    if (h != nullptr) {
        for (int t = threadIdx.x; t < 16 * r; t += blockDim.x) {
            int i = t / r;
            if (row0 + i < rows) {
                h[(long long)(row0 + i) * r + t % r] = hs[i * rPad + t % r];
            }
        }
    }
    // phase 2: y = h · U[:, :r]ᵀ + b, 16-output column blocks shared out among the warps
    for (int o0 = warp * 16; o0 < out; o0 += WM_WARPS * 16) {
        typename AccOf<P>::type c;
        wmma::fill_fragment(c, 0.0f);
        warpGemm<P>(
            c, rPad, a, bt, [&](int i, int k) { return hs[i * rPad + k]; },
            [&](int k, int o) { return k < r && o0 + o < out ? u[(long long)(o0 + o) * R + k] : 0.0f; });
        wmma::store_matrix_sync(cs, c, 16, wmma::mem_row_major);
        for (int t = lane; t < 256; t += 32) {
            int i = t / 16;
            int o = o0 + t % 16;
            if (row0 + i < rows && o < out) {
                y[(long long)(row0 + i) * out + o] = cs[t] + bias[o];
            }
        }
        __syncwarp();
    }
}

extern "C" __global__ void lowrank_forward_tf32(const float* x, const float* vt, const float* u, const float* bias,
                                                float* h, float* y, int rows, int in, int out, int r, int R) {
    lowrankForwardWmma<Tf32>(x, vt, u, bias, h, y, rows, in, out, r, R);
}
EMU_KERNEL(lowrank_forward_tf32);

extern "C" __global__ void lowrank_forward_bf16(const float* x, const float* vt, const float* u, const float* bias,
                                                float* h, float* y, int rows, int in, int out, int r, int R) {
    lowrankForwardWmma<Bf16>(x, vt, u, bias, h, y, rows, in, out, r, R);
}
EMU_KERNEL(lowrank_forward_bf16);

extern "C" __global__ void lowrank_backward_dx_tf32(const float* dy, const float* vt, const float* u, float* dh,
                                                    float* dx, int rows, int in, int out, int r, int R) {
    EMU_DYNAMIC_SHARED(float, smem);
    int rPad = (r + 15) / 16 * 16;
    float* ds = smem;  // [16][rPad]
    int warp = threadIdx.x / 32;
    int lane = threadIdx.x % 32;
    float* stage = ds + 16 * rPad;
    float* a = stage + warp * 32 * Tf32::K;
    float* bt = a + 16 * Tf32::K;
    float* cs = stage + WM_WARPS * 32 * Tf32::K + warp * 256;
    int row0 = blockIdx.x * WM_ROWS;
    // dh = dy · U[:, :r]
    for (int k0 = warp * 16; k0 < rPad; k0 += WM_WARPS * 16) {
        Acc c;
        wmma::fill_fragment(c, 0.0f);
        warpGemm<Tf32>(
            c, out, a, bt,
            [&](int i, int o) { return row0 + i < rows && o < out ? dy[(long long)(row0 + i) * out + o] : 0.0f; },
            [&](int o, int k) { return o < out && k0 + k < r ? u[(long long)o * R + k0 + k] : 0.0f; });
        wmma::store_matrix_sync(ds + k0, c, rPad, wmma::mem_row_major);
    }
    __syncthreads();
    for (int t = threadIdx.x; t < 16 * r; t += blockDim.x) {
        int i = t / r;
        if (row0 + i < rows) {
            dh[(long long)(row0 + i) * r + t % r] = ds[i * rPad + t % r];
        }
    }
    // dx = dh · VT[:r]
    for (int j0 = warp * 16; j0 < in; j0 += WM_WARPS * 16) {
        Acc c;
        wmma::fill_fragment(c, 0.0f);
        warpGemm<Tf32>(
            c, rPad, a, bt, [&](int i, int k) { return ds[i * rPad + k]; },
            [&](int k, int j) { return k < r && j0 + j < in ? vt[(long long)k * in + j0 + j] : 0.0f; });
        wmma::store_matrix_sync(cs, c, 16, wmma::mem_row_major);
        for (int t = lane; t < 256; t += 32) {
            int i = t / 16;
            int j = j0 + t % 16;
            if (row0 + i < rows && j < in) {
                dx[(long long)(row0 + i) * in + j] = cs[t];
            }
        }
        __syncwarp();
    }
}
EMU_KERNEL(lowrank_backward_dx_tf32);
