// common.cuh — what every kernel file includes. Under nvcc: the CUDA headers, and the two
// emulation hooks turned into their CUDA meaning. Under g++ (the emulated device) the build
// force-includes native/emu/cuda_emu.h and registry.h instead.
#pragma once

#ifdef __CUDACC__
#include <cuda_bf16.h>
#include <mma.h>
#define EMU_KERNEL(name)
extern __shared__ __align__(16) unsigned char flora_dynamic_shared[];
#define EMU_DYNAMIC_SHARED(T, name) T* name = reinterpret_cast<T*>(flora_dynamic_shared)
#endif

// Threads per block of the row-wise kernels (layernorm, softmax, losses): 4 warps.
#define FLORA_ROW_THREADS 128

// Sum over a warp with shuffles; every lane gets the total.
template <typename T>
__device__ __forceinline__ T warpSum(T v) {
    for (int offset = 16; offset > 0; offset >>= 1) {
        v += __shfl_xor_sync(0xffffffffu, v, offset);
    }
    return v;
}

template <typename T>
__device__ __forceinline__ T warpMax(T v) {
    for (int offset = 16; offset > 0; offset >>= 1) {
        T o = __shfl_xor_sync(0xffffffffu, v, offset);
        v = o > v ? o : v;
    }
    return v;
}

// Sum over a block of FLORA_ROW_THREADS threads; every thread gets the total. `scratch` holds
// one value per warp. Starts and ends with a barrier so scratch can be reused right away.
template <typename T>
__device__ __forceinline__ T blockSum(T v, T* scratch) {
    v = warpSum(v);
    int warp = threadIdx.x / 32;
    int lane = threadIdx.x % 32;
    __syncthreads();
    if (lane == 0) {
        scratch[warp] = v;
    }
    __syncthreads();
    T total = 0;
    for (int w = 0; w < FLORA_ROW_THREADS / 32; w++) {
        total += scratch[w];
    }
    return total;
}

template <typename T>
__device__ __forceinline__ T blockMax(T v, T* scratch) {
    v = warpMax(v);
    int warp = threadIdx.x / 32;
    int lane = threadIdx.x % 32;
    __syncthreads();
    if (lane == 0) {
        scratch[warp] = v;
    }
    __syncthreads();
    T m = scratch[0];
    for (int w = 1; w < FLORA_ROW_THREADS / 32; w++) {
        m = scratch[w] > m ? scratch[w] : m;
    }
    return m;
}
