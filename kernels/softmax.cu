// softmax.cu — row softmax of attention scores s [rows, cols], in place, and its backward:
//   forward  s := exp(s − max) / Σ exp(s − max)
//   backward dp := p·(dp − Σ dp·p)   (the gradient with respect to the softmax input)
// Launch: one warp per row, FLORA_ROW_THREADS threads (4 rows) per block, grid ceil(rows/4);
// lanes stride over the columns, so any row length works.
#include "common.cuh"

extern "C" __global__ void softmax_forward_f32(float* s, int rows, int cols) {
    int warpsPerBlock = blockDim.x / 32;
    int lane = threadIdx.x % 32;
    for (long long r = (long long)blockIdx.x * warpsPerBlock + threadIdx.x / 32; r < rows;
         r += (long long)gridDim.x * warpsPerBlock) {
        float* row = s + r * cols;
        float m = -INFINITY;
        for (int j = lane; j < cols; j += 32) {
            m = fmaxf(m, row[j]);
        }
        m = warpMax(m);
        float sum = 0;
        for (int j = lane; j < cols; j += 32) {
            float e = expf(row[j] - m);
            row[j] = e;
            sum += e;
        }
        float inv = 1.0f / warpSum(sum);
        for (int j = lane; j < cols; j += 32) {
            row[j] *= inv;
        }
    }
}
EMU_KERNEL(softmax_forward_f32);

extern "C" __global__ void softmax_backward_f32(const float* p, float* dp, int rows, int cols) {
    int warpsPerBlock = blockDim.x / 32;
    int lane = threadIdx.x % 32;
    for (long long r = (long long)blockIdx.x * warpsPerBlock + threadIdx.x / 32; r < rows;
         r += (long long)gridDim.x * warpsPerBlock) {
        const float* pr = p + r * cols;
        float* gr = dp + r * cols;
        float dot = 0;
        for (int j = lane; j < cols; j += 32) {
            dot += pr[j] * gr[j];
        }
        dot = warpSum(dot);
        for (int j = lane; j < cols; j += 32) {
            gr[j] = pr[j] * (gr[j] - dot);
        }
    }
}
EMU_KERNEL(softmax_backward_f32);
