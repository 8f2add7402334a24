// loss.cu — losses with their gradient in one pass, one warp per row of logits [rows, classes]:
//   cross_entropy: target (1 − smoothing)·onehot + smoothing/classes; writes loss[r], correct[r]
//                  (arg-max == label, first index on ties) and dLogits = scale·(softmax − target)
//   soft_target_ce: target softmax(targetLogits); writes loss[r] and dLogits likewise
// With accumulate != 0 the gradient is added to dLogits. Per-row results are summed by the host
// in order. Launch: FLORA_ROW_THREADS threads (4 rows) per block, grid ceil(rows/4).
#include "common.cuh"

__device__ __forceinline__ float rowMax(const float* z, int n, int lane) {
    float m = -INFINITY;
    for (int j = lane; j < n; j += 32) {
        m = fmaxf(m, z[j]);
    }
    return warpMax(m);
}

extern "C" __global__ void cross_entropy_f32(const float* logits, const int* labels, float* dLogits, float* loss,
                                             int* correct, int rows, int classes, float smoothing, float scale,
                                             int accumulate) {
    int warpsPerBlock = blockDim.x / 32;
    int lane = threadIdx.x % 32;
    for (long long r = (long long)blockIdx.x * warpsPerBlock + threadIdx.x / 32; r < rows;
         r += (long long)gridDim.x * warpsPerBlock) {
        const float* z = logits + r * classes;
        float* d = dLogits + r * classes;
        int label = labels[r];
        float m = rowMax(z, classes, lane);
        float s = 0;
        for (int j = lane; j < classes; j += 32) {
            s += expf(z[j] - m);
        }
        float lse = m + logf(warpSum(s));
        float off = smoothing / classes;
        float l = 0;
        int best = classes;
        for (int j = lane; j < classes; j += 32) {
            float t = off + (j == label ? 1.0f - smoothing : 0.0f);
            l += t * (lse - z[j]);
            float g = scale * (expf(z[j] - lse) - t);
            d[j] = accumulate ? d[j] + g : g;
            if (z[j] == m && j < best) {
                best = j;
            }
        }
        l = warpSum(l);
        for (int o = 16; o > 0; o >>= 1) {
            int other = __shfl_xor_sync(0xffffffffu, best, o);
            best = other < best ? other : best;
        }
        if (lane == 0) {
            loss[r] = l;
            correct[r] = best == label ? 1 : 0;
        }
    }
}
EMU_KERNEL(cross_entropy_f32);

extern "C" __global__ void soft_target_ce_f32(const float* logits, const float* targetLogits, float* dLogits,
                                              float* loss, int rows, int classes, float scale, int accumulate) {
    int warpsPerBlock = blockDim.x / 32;
    int lane = threadIdx.x % 32;
    for (long long r = (long long)blockIdx.x * warpsPerBlock + threadIdx.x / 32; r < rows;
         r += (long long)gridDim.x * warpsPerBlock) {
        const float* z = logits + r * classes;
        const float* q = targetLogits + r * classes;
        float* d = dLogits + r * classes;
        float m = rowMax(z, classes, lane);
        float mq = rowMax(q, classes, lane);
        float s = 0;
        float sq = 0;
        for (int j = lane; j < classes; j += 32) {
            s += expf(z[j] - m);
            sq += expf(q[j] - mq);
        }
        float lse = m + logf(warpSum(s));
        float invq = 1.0f / warpSum(sq);
        float l = 0;
        for (int j = lane; j < classes; j += 32) {
            float t = expf(q[j] - mq) * invq;
            l += t * (lse - z[j]);
            float g = scale * (expf(z[j] - lse) - t);
            d[j] = accumulate ? d[j] + g : g;
        }
        l = warpSum(l);
        if (lane == 0) {
            loss[r] = l;
        }
    }
}
EMU_KERNEL(soft_target_ce_f32);
