// gelu.cu — exact (erf) GELU: y = x·Φ(x); backward dx = dy·(Φ(x) + x·φ(x)).
// Shapes: n elements. Launch: 256 threads, grid-stride (grid min(ceil(n/256), 4096)).
#include "common.cuh"

extern "C" __global__ void gelu_forward_f32(const float* x, float* y, long long n) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n;
         i += (long long)gridDim.x * blockDim.x) {
        float v = x[i];
        y[i] = 0.5f * v * (1.0f + erff(v * 0.70710678118654752f));
    }
}
EMU_KERNEL(gelu_forward_f32);

extern "C" __global__ void gelu_backward_f32(const float* x, const float* dy, float* dx, long long n) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n;
         i += (long long)gridDim.x * blockDim.x) {
        float v = x[i];
        float cdf = 0.5f * (1.0f + erff(v * 0.70710678118654752f));
        float pdf = 0.39894228040143268f * expf(-0.5f * v * v);
        dx[i] = dy[i] * (cdf + v * pdf);
    }
}
EMU_KERNEL(gelu_backward_f32);
