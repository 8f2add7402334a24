package dev.flora.engine.nn;

import dev.flora.engine.backend.Backend;
import dev.flora.engine.tensor.Tensor;

/**
 * timm's conv patch embedding (kernel = stride = p) computed as a GEMM over unfolded patches:
 * images [B, C, H, W] to [B·N, E], N = (H/p)·(W/p). The weight keeps the conv shape
 * [E, C, p, p] so timm checkpoints load as they are.
 */
public final class PatchEmbed {
    private final Backend backend;
    private final int channels;
    private final int imgSize;
    private final int patch;
    private final int dim;
    private final int numPatches;
    private final int patchLen;
    private final Param weight;
    private final Param bias;
    private final GrowableBuffer patches;
    private final GrowableBuffer out;
    private int batch;

    public PatchEmbed(Backend backend, ParameterArena.Builder params, String path, int imgSize, int patch,
                      int channels, int dim) {
        this.backend = backend;
        this.channels = channels;
        this.imgSize = imgSize;
        this.patch = patch;
        this.dim = dim;
        int grid = imgSize / patch;
        this.numPatches = grid * grid;
        this.patchLen = channels * patch * patch;
        this.weight = params.weight(path + ".proj.weight", dim, channels, patch, patch);
        this.bias = params.noDecay(path + ".proj.bias", dim);
        this.patches = new GrowableBuffer(backend);
        this.out = new GrowableBuffer(backend);
    }

    public int numPatches() {
        return numPatches;
    }

    public long macsPerImage() {
        return (long) numPatches * patchLen * dim;
    }

    public Tensor forward(Tensor images, int batch) {
        this.batch = batch;
        int rows = batch * numPatches;
        Tensor p = patches.get((long) rows * patchLen);
        backend.unfoldPatches(images, p, batch, channels, imgSize, imgSize, patch);
        Tensor y = out.get((long) rows * dim);
        if (backend.inferenceOnly()) {
            // the inference backends' own products (in their precision, the bias added as they are
            // written); a backend that trains keeps the patch embedding's product in fp32
            backend.linearForward(p, weight.value(), bias.value(), null, y, rows, patchLen, dim);
            return y;
        }
        backend.gemm(false, true, rows, dim, patchLen, 1f, p, patchLen, weight.value(), patchLen, 0f, y, dim);
        backend.addBias(y, bias.value(), rows, dim);
        return y;
    }

    /** Accumulates weight and bias gradients (the input images need none). */
    public void backward(Tensor dy) {
        int rows = batch * numPatches;
        Tensor p = patches.get((long) rows * patchLen);
        backend.gemm(true, false, dim, patchLen, rows, 1f, dy, dim, p, patchLen, 1f, weight.grad(), patchLen);
        backend.accumulateBiasGrad(dy, bias.grad(), rows, dim);
    }
}
