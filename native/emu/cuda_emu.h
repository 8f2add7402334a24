// cuda_emu.h — the CUDA execution model on the CPU, so that the kernels in kernels/*.cu compile
// with g++ and run (and race-check under ThreadSanitizer) where there is no GPU.
//
// Model: the blocks of a launch run one after another; the threads of a block run concurrently,
// one OS thread per CUDA thread, taken from a pool that persists across blocks and launches.
//   threadIdx                thread-local; blockIdx, blockDim, gridDim: the running block's
//   __shared__               a static variable: one copy, shared by the one block that runs
//   EMU_DYNAMIC_SHARED(T, p) the launch's dynamic shared memory (extern __shared__ in CUDA)
//   __syncthreads()          a barrier over the block's threads
//   __shfl_*_sync, votes     exchanged through per-warp slots between two warp barriers
//   atomics                  std::atomic_ref
//   nvcuda::wmma             fragments hold whole tiles in every lane; tf32 and bf16 inputs are
//                            rounded as the hardware conversions do, products accumulate in fp32
// A kernel that relies on lock-step warps without __syncwarp, or on a block's threads finishing
// in order, behaves differently here than on a GPU; one that races on shared memory is caught by
// ThreadSanitizer. Kernels are plain functions: extern "C" __global__ void name(args...).
#pragma once

#include <algorithm>
#include <atomic>
#include <barrier>
#include <cmath>
#include <math.h>  // expf, erff, ... in the global namespace, as in CUDA
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <type_traits>
#include <utility>

struct dim3 {
    unsigned x, y, z;
    constexpr dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};

namespace emu {

constexpr int WARP = 32;

// One warp's exchange slots for shuffles and votes, and the barrier of its lanes.
struct Warp {
    uint64_t slots[WARP];
    std::barrier<>* sync;
};

// What every thread of the running block sees.
struct Block {
    dim3 index;
    dim3 shape;
    dim3 grid;
    std::barrier<>* sync;
    Warp* warps;
    unsigned char* dynamicShared;
};

extern thread_local dim3 tlThreadIdx;
extern thread_local int tlLinear;  // linear thread index within the block
extern Block* currentBlock;

inline Warp& myWarp() { return currentBlock->warps[tlLinear / WARP]; }
inline int laneId() { return tlLinear % WARP; }

template <typename T>
inline uint64_t toBits(T v) {
    static_assert(sizeof(T) <= 8, "shuffle of a type wider than 64 bits");
    uint64_t b = 0;
    std::memcpy(&b, &v, sizeof(T));
    return b;
}

template <typename T>
inline T fromBits(uint64_t b) {
    T v;
    std::memcpy(&v, &b, sizeof(T));
    return v;
}

// Every lane publishes v, then reads the lane `source` picks; two barriers keep the slots stable.
template <typename T, typename F>
inline T exchange(T v, F source) {
    Warp& w = myWarp();
    int lane = laneId();
    w.slots[lane] = toBits(v);
    w.sync->arrive_and_wait();
    int src = source(lane);
    T out = fromBits<T>(w.slots[src]);
    w.sync->arrive_and_wait();
    return out;
}

// Launch machinery (cuda_emu.cpp): runs `body` once per thread of every block of the grid.
void launch(dim3 grid, dim3 block, size_t dynamicSharedBytes, const std::function<void()>& body);

}  // namespace emu

#define threadIdx (emu::tlThreadIdx)
#define blockIdx (emu::currentBlock->index)
#define blockDim (emu::currentBlock->shape)
#define gridDim (emu::currentBlock->grid)
#define warpSize 32

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __restrict__ __restrict
#define __shared__ static
#define EMU_DYNAMIC_SHARED(T, name) T* name = reinterpret_cast<T*>(emu::currentBlock->dynamicShared)

inline void __syncthreads() { emu::currentBlock->sync->arrive_and_wait(); }
inline void __syncwarp(unsigned = 0xffffffffu) { emu::myWarp().sync->arrive_and_wait(); }
inline unsigned __activemask() { return 0xffffffffu; }

template <typename T>
inline T __shfl_sync(unsigned, T v, int srcLane, int width = warpSize) {
    return emu::exchange(v, [&](int lane) { return (lane / width) * width + (srcLane % width); });
}
template <typename T>
inline T __shfl_down_sync(unsigned, T v, unsigned delta, int width = warpSize) {
    return emu::exchange(v, [&](int lane) {
        int base = (lane / width) * width;
        int src = lane + static_cast<int>(delta);
        return src < base + width ? src : lane;
    });
}
template <typename T>
inline T __shfl_up_sync(unsigned, T v, unsigned delta, int width = warpSize) {
    return emu::exchange(v, [&](int lane) {
        int base = (lane / width) * width;
        int src = lane - static_cast<int>(delta);
        return src >= base ? src : lane;
    });
}
template <typename T>
inline T __shfl_xor_sync(unsigned, T v, int mask, int width = warpSize) {
    return emu::exchange(v, [&](int lane) {
        int src = lane ^ mask;
        return src / width == lane / width ? src : lane;
    });
}

inline unsigned __ballot_sync(unsigned, int predicate) {
    emu::Warp& w = emu::myWarp();
    w.slots[emu::laneId()] = predicate ? 1 : 0;
    w.sync->arrive_and_wait();
    unsigned bits = 0;
    for (int i = 0; i < emu::WARP; i++) {
        bits |= static_cast<unsigned>(w.slots[i]) << i;
    }
    w.sync->arrive_and_wait();
    return bits;
}
inline int __any_sync(unsigned m, int p) { return __ballot_sync(m, p) != 0; }
inline int __all_sync(unsigned m, int p) { return __ballot_sync(m, p) == 0xffffffffu; }

template <typename T>
inline T atomicAdd(T* address, T v) {
    return std::atomic_ref<T>(*address).fetch_add(v);
}
template <typename T>
inline T atomicMax(T* address, T v) {
    std::atomic_ref<T> a(*address);
    T old = a.load();
    while (old < v && !a.compare_exchange_weak(old, v)) {
    }
    return old;
}
template <typename T>
inline T atomicExch(T* address, T v) {
    return std::atomic_ref<T>(*address).exchange(v);
}

inline float __expf(float x) { return std::exp(x); }
inline float __logf(float x) { return std::log(x); }
inline float __fdividef(float a, float b) { return a / b; }
inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
inline float __saturatef(float x) { return std::min(1.0f, std::max(0.0f, x)); }
using std::max;
using std::min;

// bfloat16 as the conversion intrinsics produce it: round to nearest even.
struct __nv_bfloat16 {
    uint16_t bits;
};
inline __nv_bfloat16 __float2bfloat16(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) {
        return {static_cast<uint16_t>((u >> 16) | 0x40)};  // quiet NaN
    }
    u += 0x7fffu + ((u >> 16) & 1u);
    return {static_cast<uint16_t>(u >> 16)};
}
inline float __bfloat162float(__nv_bfloat16 h) {
    uint32_t u = static_cast<uint32_t>(h.bits) << 16;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}

namespace nvcuda {
namespace wmma {

struct matrix_a {};
struct matrix_b {};
struct accumulator {};
struct row_major {};
struct col_major {};
namespace precision {
struct tf32 {};
}  // namespace precision
enum layout_t { mem_row_major, mem_col_major };

// tf32 as cvt.rna.tf32.f32 makes it: 10 mantissa bits, round to nearest, ties away from zero.
inline float __float_to_tf32(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    if ((u & 0x7f800000u) != 0x7f800000u) {
        u = (u + 0x1000u) & 0xffffe000u;
    }
    float r;
    std::memcpy(&r, &u, 4);
    return r;
}

template <typename Use, int M, int N, int K>
struct Shape;
template <int M, int N, int K>
struct Shape<matrix_a, M, N, K> {
    static constexpr int rows = M, cols = K;
};
template <int M, int N, int K>
struct Shape<matrix_b, M, N, K> {
    static constexpr int rows = K, cols = N;
};
template <int M, int N, int K>
struct Shape<accumulator, M, N, K> {
    static constexpr int rows = M, cols = N;
};

template <typename T>
struct Storage {
    using type = T;
};
template <>
struct Storage<precision::tf32> {
    using type = float;
};

// Every lane holds the whole tile (the lane-to-element mapping is unspecified in CUDA, so
// kernels may only apply the same operation to every element, which this preserves).
template <typename Use, int M, int N, int K, typename T, typename Layout = void>
struct fragment {
    static constexpr int rows = Shape<Use, M, N, K>::rows;
    static constexpr int cols = Shape<Use, M, N, K>::cols;
    static constexpr int num_elements = rows * cols;
    typename Storage<T>::type x[num_elements];
};

template <typename Use, int M, int N, int K, typename T, typename L, typename V>
inline void fill_fragment(fragment<Use, M, N, K, T, L>& f, V v) {
    for (int i = 0; i < f.num_elements; i++) {
        f.x[i] = static_cast<typename Storage<T>::type>(v);
    }
}

template <typename Use, int M, int N, int K, typename T, typename L, typename P>
inline void load_matrix_sync(fragment<Use, M, N, K, T, L>& f, const P* p, unsigned ldm) {
    constexpr bool colMajor = std::is_same_v<L, col_major>;
    for (int r = 0; r < f.rows; r++) {
        for (int c = 0; c < f.cols; c++) {
            f.x[r * f.cols + c] = colMajor ? p[c * ldm + r] : p[r * ldm + c];
        }
    }
}

template <int M, int N, int K, typename P>
inline void load_matrix_sync(fragment<accumulator, M, N, K, float>& f, const P* p, unsigned ldm, layout_t layout) {
    for (int r = 0; r < M; r++) {
        for (int c = 0; c < N; c++) {
            f.x[r * N + c] = layout == mem_col_major ? p[c * ldm + r] : p[r * ldm + c];
        }
    }
}

// One lane writes, between two warp barriers: the same values from 32 lanes would be a data race.
template <int M, int N, int K>
inline void store_matrix_sync(float* p, const fragment<accumulator, M, N, K, float>& f, unsigned ldm,
                              layout_t layout) {
    __syncwarp();
    if (emu::laneId() == 0) {
        for (int r = 0; r < M; r++) {
            for (int c = 0; c < N; c++) {
                (layout == mem_col_major ? p[c * ldm + r] : p[r * ldm + c]) = f.x[r * N + c];
            }
        }
    }
    __syncwarp();
}

inline float toFloat(float v) { return v; }
inline float toFloat(__nv_bfloat16 v) { return __bfloat162float(v); }

template <int M, int N, int K, typename TA, typename LA, typename TB, typename LB>
inline void mma_sync(fragment<accumulator, M, N, K, float>& d, const fragment<matrix_a, M, N, K, TA, LA>& a,
                     const fragment<matrix_b, M, N, K, TB, LB>& b, const fragment<accumulator, M, N, K, float>& c) {
    float out[M * N];
    for (int i = 0; i < M; i++) {
        for (int j = 0; j < N; j++) {
            float acc = c.x[i * N + j];
            for (int k = 0; k < K; k++) {
                acc += toFloat(a.x[i * K + k]) * toFloat(b.x[k * N + j]);
            }
            out[i * N + j] = acc;
        }
    }
    std::memcpy(d.x, out, sizeof(out));
}

}  // namespace wmma
}  // namespace nvcuda
