// layernorm.cu — LayerNorm over the last dimension of x [rows, cols]:
//   forward  y = (x − mean)·rstd·gamma + beta, also writing mean[rows], rstd[rows];
//   backward dx (overwritten) per row, and dgamma, dbeta (accumulated) per column.
// Launch: forward and dx: one block of FLORA_ROW_THREADS per row (grid = rows, y-strided past
// 65535 by looping); params: one thread per column (grid ceil(cols/256) of 256), rows in order.
#include "common.cuh"

extern "C" __global__ void layernorm_forward_f32(const float* x, const float* gamma, const float* beta, float* y,
                                                 float* mean, float* rstd, int rows, int cols, float eps) {
    __shared__ float scratch[FLORA_ROW_THREADS / 32];
    for (int r = blockIdx.x; r < rows; r += gridDim.x) {
        const float* xr = x + (long long)r * cols;
        float s = 0;
        for (int j = threadIdx.x; j < cols; j += blockDim.x) {
            s += xr[j];
        }
        float mu = blockSum(s, scratch) / cols;
        float v = 0;
        for (int j = threadIdx.x; j < cols; j += blockDim.x) {
            float d = xr[j] - mu;
            v += d * d;
        }
        float rs = rsqrtf(blockSum(v, scratch) / cols + eps);
        float* yr = y + (long long)r * cols;
        for (int j = threadIdx.x; j < cols; j += blockDim.x) {
            yr[j] = (xr[j] - mu) * rs * gamma[j] + beta[j];
        }
        if (threadIdx.x == 0) {
            mean[r] = mu;
            rstd[r] = rs;
        }
    }
}
EMU_KERNEL(layernorm_forward_f32);

extern "C" __global__ void layernorm_backward_dx_f32(const float* dy, const float* x, const float* gamma,
                                                     const float* mean, const float* rstd, float* dx, int rows,
                                                     int cols) {
    __shared__ float scratch[FLORA_ROW_THREADS / 32];
    for (int r = blockIdx.x; r < rows; r += gridDim.x) {
        const float* xr = x + (long long)r * cols;
        const float* gr = dy + (long long)r * cols;
        float mu = mean[r];
        float rs = rstd[r];
        float sd = 0;
        float sdx = 0;
        for (int j = threadIdx.x; j < cols; j += blockDim.x) {
            float xhat = (xr[j] - mu) * rs;
            float dxhat = gr[j] * gamma[j];
            sd += dxhat;
            sdx += dxhat * xhat;
        }
        float meanD = blockSum(sd, scratch) / cols;
        float meanDX = blockSum(sdx, scratch) / cols;
        float* out = dx + (long long)r * cols;
        for (int j = threadIdx.x; j < cols; j += blockDim.x) {
            float xhat = (xr[j] - mu) * rs;
            out[j] = rs * (gr[j] * gamma[j] - meanD - xhat * meanDX);
        }
    }
}
EMU_KERNEL(layernorm_backward_dx_f32);

extern "C" __global__ void layernorm_backward_params_f32(const float* dy, const float* x, const float* mean,
                                                         const float* rstd, float* dgamma, float* dbeta, int rows,
                                                         int cols) {
    int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= cols) {
        return;
    }
    double g = 0;
    double b = 0;
    for (int r = 0; r < rows; r++) {
        float d = dy[(long long)r * cols + c];
        g += d * ((x[(long long)r * cols + c] - mean[r]) * rstd[r]);
        b += d;
    }
    dgamma[c] += (float)g;
    dbeta[c] += (float)b;
}
EMU_KERNEL(layernorm_backward_params_f32);
