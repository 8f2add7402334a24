// patch.cu — the ViT's layout ops.
//   unfold_patches: images [B, C, H, W] → patches [B·(H/p)·(W/p), C·p·p], columns (c, ky, kx)
//   assemble_tokens: tokens[b, 0] = cls + pos[0]; tokens[b, 1+i] = patches[b·N + i] + pos[1+i]
//   assemble_tokens_backward: dPatches (overwritten); dPos[t] and dCls (accumulated) sum over b
// Launch: 256 threads, grid-stride over the output elements; the backward's sums use one thread
// per (token, channel), batch in order.
#include "common.cuh"

extern "C" __global__ void unfold_patches_f32(const float* images, float* patches, int batch, int chans, int height,
                                              int width, int p) {
    int gh = height / p;
    int gw = width / p;
    int len = chans * p * p;
    long long n = (long long)batch * gh * gw * len;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n;
         i += (long long)gridDim.x * blockDim.x) {
        long long row = i / len;
        int col = (int)(i % len);
        int b = (int)(row / (gh * gw));
        int py = (int)(row / gw % gh);
        int px = (int)(row % gw);
        int c = col / (p * p);
        int ky = col / p % p;
        int kx = col % p;
        patches[i] = images[(((long long)b * chans + c) * height + py * p + ky) * width + px * p + kx];
    }
}
EMU_KERNEL(unfold_patches_f32);

extern "C" __global__ void assemble_tokens_f32(const float* patches, const float* cls, const float* pos,
                                               float* tokens, int batch, int numPatches, int dim) {
    int t = numPatches + 1;
    long long n = (long long)batch * t * dim;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n;
         i += (long long)gridDim.x * blockDim.x) {
        int e = (int)(i % dim);
        int tok = (int)(i / dim % t);
        long long b = i / ((long long)t * dim);
        float v = tok == 0 ? cls[e] : patches[(b * numPatches + tok - 1) * dim + e];
        tokens[i] = v + pos[tok * dim + e];
    }
}
EMU_KERNEL(assemble_tokens_f32);

extern "C" __global__ void assemble_tokens_backward_f32(const float* dTokens, float* dPatches, float* dCls,
                                                        float* dPos, int batch, int numPatches, int dim) {
    int t = numPatches + 1;
    long long np = (long long)batch * numPatches * dim;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < np;
         i += (long long)gridDim.x * blockDim.x) {
        long long b = i / ((long long)numPatches * dim);
        long long rest = i % ((long long)numPatches * dim);
        dPatches[i] = dTokens[b * t * dim + dim + rest];
    }
    int width = t * dim;
    for (int k = blockIdx.x * blockDim.x + threadIdx.x; k < width; k += gridDim.x * blockDim.x) {
        double acc = 0;
        for (int b = 0; b < batch; b++) {
            acc += dTokens[(long long)b * width + k];
        }
        dPos[k] += (float)acc;
        if (k < dim) {
            dCls[k] += (float)acc;
        }
    }
}
EMU_KERNEL(assemble_tokens_backward_f32);
