// elementwise.cu — fill, strided 2-D copy, add, scale, bias add, bias gradient, sum of squares.
// Shapes: flat float arrays of n elements, or row-major [rows, cols].
// Launch: 256 threads per block. Flat kernels loop grid-stride over n (grid: min(ceil(n/256), 4096)).
// copy2d: grid (ceil(cols/256), min(rows, 65535)), rows grid-stride in y. bias_grad: one thread per
// column (grid ceil(cols/256)), rows summed in order, so the result does not depend on the grid.
// sum_squares: one double partial per block (grid fixed by the host for a given n), summed by the host.
#include "common.cuh"

#define GRID_STRIDE(i, n) \
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < (n); \
         i += (long long)gridDim.x * blockDim.x)

extern "C" __global__ void fill_f32(float* p, long long n, float v) {
    GRID_STRIDE(i, n) { p[i] = v; }
}
EMU_KERNEL(fill_f32);

extern "C" __global__ void copy2d_f32(const float* src, int srcStride, float* dst, int dstStride, int rows,
                                      int cols) {
    for (int r = blockIdx.y; r < rows; r += gridDim.y) {
        for (int c = blockIdx.x * blockDim.x + threadIdx.x; c < cols; c += gridDim.x * blockDim.x) {
            dst[(long long)r * dstStride + c] = src[(long long)r * srcStride + c];
        }
    }
}
EMU_KERNEL(copy2d_f32);

extern "C" __global__ void add_f32(const float* a, const float* b, float* out, long long n) {
    GRID_STRIDE(i, n) { out[i] = a[i] + b[i]; }
}
EMU_KERNEL(add_f32);

extern "C" __global__ void scale_f32(float* t, float s, long long n) {
    GRID_STRIDE(i, n) { t[i] *= s; }
}
EMU_KERNEL(scale_f32);

extern "C" __global__ void add_bias_f32(float* y, const float* bias, int rows, int cols) {
    long long n = (long long)rows * cols;
    GRID_STRIDE(i, n) { y[i] += bias[i % cols]; }
}
EMU_KERNEL(add_bias_f32);

extern "C" __global__ void bias_grad_f32(const float* dy, float* dbias, int rows, int cols) {
    int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= cols) {
        return;
    }
    double acc = 0;
    for (int r = 0; r < rows; r++) {
        acc += dy[(long long)r * cols + c];
    }
    dbias[c] += (float)acc;
}
EMU_KERNEL(bias_grad_f32);

extern "C" __global__ void sum_squares_f32(const float* x, long long n, double* partial) {
    __shared__ double scratch[256];
    double acc = 0;
    GRID_STRIDE(i, n) { acc += (double)x[i] * x[i]; }
    scratch[threadIdx.x] = acc;
    __syncthreads();
    for (int s = blockDim.x / 2; s > 0; s >>= 1) {
        if (threadIdx.x < s) {
            scratch[threadIdx.x] += scratch[threadIdx.x + s];
        }
        __syncthreads();
    }
    if (threadIdx.x == 0) {
        partial[blockIdx.x] = scratch[0];
    }
}
EMU_KERNEL(sum_squares_f32);

// dst [cols, rows] = srcᵀ for src [rows, cols] (row-major), through a 32×33 shared tile.
// Launch: block (32, 8), grid (ceil(cols/32), ceil(rows/32)).
extern "C" __global__ void transpose_f32(const float* src, float* dst, int rows, int cols) {
    __shared__ float tile[32][33];
    int c0 = blockIdx.x * 32;
    int r0 = blockIdx.y * 32;
    for (int i = threadIdx.y; i < 32; i += blockDim.y) {
        int r = r0 + i;
        int c = c0 + threadIdx.x;
        if (r < rows && c < cols) {
            tile[i][threadIdx.x] = src[(long long)r * cols + c];
        }
    }
    __syncthreads();
    for (int i = threadIdx.y; i < 32; i += blockDim.y) {
        int c = c0 + i;
        int r = r0 + threadIdx.x;
        if (r < rows && c < cols) {
            dst[(long long)c * rows + r] = tile[threadIdx.x][i];
        }
    }
}
EMU_KERNEL(transpose_f32);
