// adamw.cu — one AdamW step (PyTorch semantics) over a table of 2-D regions of the parameter
// arena: region k covers rows of cols[k] elements, ld[k] apart, from offset[k]; start[k] is the
// number of elements in regions before k (start[n] the total). Elements outside every region,
// such as the factor slices beyond a subnet's rank, are not touched.
// Launch: 256 threads, grid-stride over the total; each thread finds its region by bisection.
#include "common.cuh"

extern "C" __global__ void adamw_f32(float* p, const float* g, float* m, float* v, const long long* offset,
                                     const int* cols, const int* ld, const long long* start, const float* decay,
                                     int regions, float lr, float beta1, float beta2, float eps, float stepSize,
                                     float invBc2Sqrt) {
    long long total = start[regions];
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < total;
         i += (long long)gridDim.x * blockDim.x) {
        int lo = 0;
        int hi = regions - 1;
        while (lo < hi) {
            int mid = (lo + hi + 1) / 2;
            if (start[mid] <= i) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        long long k = i - start[lo];
        long long idx = offset[lo] + (k / cols[lo]) * ld[lo] + k % cols[lo];
        float gi = g[idx];
        float mi = beta1 * m[idx] + (1.0f - beta1) * gi;
        float vi = beta2 * v[idx] + (1.0f - beta2) * gi * gi;
        m[idx] = mi;
        v[idx] = vi;
        float denom = sqrtf(vi) * invBc2Sqrt + eps;
        p[idx] = p[idx] * (1.0f - lr * decay[lo]) - stepSize * mi / denom;
    }
}
EMU_KERNEL(adamw_f32);
