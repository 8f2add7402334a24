package dev.flora.engine.backend;

import static dev.flora.engine.backend.Checks.batchedMatrix;
import static dev.flora.engine.backend.Checks.extent;
import static dev.flora.engine.backend.Checks.fits;
import static dev.flora.engine.backend.Checks.matrix;

import dev.flora.engine.tensor.Tensor;

/**
 * What each {@link Backend} op checks before it touches memory, one method per op with the op's
 * own arguments. Every backend calls these, so the CPU and the CUDA backend reject the same
 * calls with the same message (a kernel reading past a tensor would not fail, it would corrupt).
 */
public final class OpContracts {
    private OpContracts() {
    }

    public static void copy(Tensor src, Tensor dst) {
        fits(dst, src.numel(), "copy destination");
    }

    public static void copy2d(Tensor src, int srcStride, Tensor dst, int dstStride, int rows, int cols) {
        // a source stride of 0 repeats one row (a token broadcast into every image)
        fits(src, srcStride == 0 && rows > 0 ? cols : extent(rows, cols, srcStride), "copy2d source");
        fits(dst, extent(rows, cols, dstStride), "copy2d destination");
    }

    public static void gemm(boolean transA, boolean transB, int m, int n, int k, Tensor a, int lda, Tensor b, int ldb,
                            Tensor c, int ldc) {
        matrix(a, transA, m, k, lda, "A");
        matrix(b, transB, k, n, ldb, "B");
        matrix(c, false, m, n, ldc, "C");
    }

    public static void gemmStridedBatched(boolean transA, boolean transB, int m, int n, int k, Tensor a, int lda,
                                          long strideA, Tensor b, int ldb, long strideB, Tensor c, int ldc,
                                          long strideC, int batch) {
        batchedMatrix(a, transA, m, k, lda, strideA, batch, "A");
        batchedMatrix(b, transB, k, n, ldb, strideB, batch, "B");
        batchedMatrix(c, false, m, n, ldc, strideC, batch, "C");
    }

    public static void addBias(Tensor y, Tensor bias, int rows, int cols) {
        fits(y, (long) rows * cols, "addBias output");
        fits(bias, cols, "addBias bias");
    }

    public static void accumulateBiasGrad(Tensor dy, Tensor dBias, int rows, int cols) {
        fits(dy, (long) rows * cols, "bias gradient input");
        fits(dBias, cols, "bias gradient");
    }

    public static void add(Tensor a, Tensor b, Tensor out, long n) {
        fits(a, n, "add a");
        fits(b, n, "add b");
        fits(out, n, "add out");
    }

    /** For the ops on one tensor's first n elements (scale, sumOfSquares). */
    public static void elementwise(Tensor t, long n, String op) {
        fits(t, n, op);
    }

    public static void geluForward(Tensor x, Tensor y, long n) {
        fits(x, n, "gelu input");
        fits(y, n, "gelu output");
    }

    public static void geluBackward(Tensor x, Tensor dy, Tensor dx, long n) {
        fits(x, n, "gelu input");
        fits(dy, n, "gelu upstream gradient");
        fits(dx, n, "gelu input gradient");
    }

    public static void layerNormForward(Tensor x, Tensor gamma, Tensor beta, Tensor y, Tensor mean, Tensor rstd,
                                        int rows, int cols) {
        long n = (long) rows * cols;
        fits(x, n, "layernorm input");
        fits(gamma, cols, "layernorm weight");
        fits(beta, cols, "layernorm bias");
        fits(y, n, "layernorm output");
        fits(mean, rows, "layernorm mean");
        fits(rstd, rows, "layernorm rstd");
    }

    public static void layerNormBackward(Tensor dy, Tensor x, Tensor gamma, Tensor mean, Tensor rstd, Tensor dx,
                                         Tensor dGamma, Tensor dBeta, int rows, int cols) {
        long n = (long) rows * cols;
        fits(dy, n, "layernorm upstream gradient");
        fits(x, n, "layernorm input");
        fits(gamma, cols, "layernorm weight");
        fits(mean, rows, "layernorm mean");
        fits(rstd, rows, "layernorm rstd");
        fits(dx, n, "layernorm input gradient");
        fits(dGamma, cols, "layernorm weight gradient");
        fits(dBeta, cols, "layernorm bias gradient");
    }

    public static void attentionForward(Tensor qkv, Tensor probs, Tensor ctx, int batch, int tokens, int heads,
                                        int headDim) {
        long rows = (long) batch * tokens;
        long dim = (long) heads * headDim;
        fits(qkv, rows * 3 * dim, "attention qkv");
        fits(probs, (long) batch * heads * tokens * tokens, "attention probabilities");
        fits(ctx, rows * dim, "attention context");
    }

    public static void softmaxForward(Tensor s, int rows, int cols) {
        fits(s, (long) rows * cols, "softmax");
    }

    public static void softmaxBackward(Tensor p, Tensor dp, int rows, int cols) {
        long n = (long) rows * cols;
        fits(p, n, "softmax probabilities");
        fits(dp, n, "softmax gradient");
    }

    public static void unfoldPatches(Tensor images, Tensor patches, int batch, int channels, int height, int width,
                                     int p) {
        if (p <= 0 || height % p != 0 || width % p != 0) {
            throw new IllegalArgumentException("image " + height + "x" + width + " is not divisible into " + p + "x"
                    + p + " patches");
        }
        // the patches hold the same pixels, rearranged
        long n = (long) batch * channels * height * width;
        fits(images, n, "unfold images");
        fits(patches, n, "unfold patches");
    }

    public static void assembleTokens(Tensor patches, Tensor cls, Tensor pos, Tensor tokens, int batch,
                                      int numPatches, int dim) {
        tokenOperands(patches, cls, pos, tokens, batch, numPatches, dim, "");
    }

    public static void assembleTokensBackward(Tensor dTokens, Tensor dPatches, Tensor dCls, Tensor dPos, int batch,
                                              int numPatches, int dim) {
        tokenOperands(dPatches, dCls, dPos, dTokens, batch, numPatches, dim, " gradient");
    }

    /** The backward's gradients have the forward's shapes. */
    private static void tokenOperands(Tensor patches, Tensor cls, Tensor pos, Tensor tokens, int batch,
                                      int numPatches, int dim, String suffix) {
        int t = numPatches + 1;
        fits(patches, (long) batch * numPatches * dim, "token patches" + suffix);
        fits(tokens, (long) batch * t * dim, "tokens" + suffix);
        fits(pos, (long) t * dim, "pos_embed" + suffix);
        fits(cls, dim, "cls_token" + suffix);
    }

    public static void crossEntropy(Tensor logits, int[] labels, Tensor dLogits, int rows, int classes) {
        if (labels.length < rows) {
            throw new IllegalArgumentException("cross-entropy: " + rows + " rows but " + labels.length + " labels");
        }
        for (int r = 0; r < rows; r++) {
            if (labels[r] < 0 || labels[r] >= classes) {
                throw new IllegalArgumentException("label " + labels[r] + " at row " + r + " is outside [0, "
                        + classes + ")");
            }
        }
        lossRows(logits, dLogits, rows, classes);
    }

    public static void softTargetCrossEntropy(Tensor logits, Tensor targetLogits, Tensor dLogits, int rows,
                                              int classes) {
        fits(targetLogits, (long) rows * classes, "soft targets");
        lossRows(logits, dLogits, rows, classes);
    }

    private static void lossRows(Tensor logits, Tensor dLogits, int rows, int classes) {
        fits(logits, (long) rows * classes, "loss logits");
        fits(dLogits, (long) rows * classes, "loss gradient");
    }

    public static void linearForward(Tensor x, Tensor w, Tensor bias, Tensor residual, Tensor y, int rows, int in,
                                     int out) {
        fits(x, (long) rows * in, "linear input");
        fits(w, (long) out * in, "linear weight");
        fits(bias, out, "linear bias");
        if (residual != null) {
            fits(residual, (long) rows * out, "linear residual");
        }
        fits(y, (long) rows * out, "linear output");
    }

    public static void lowRankForward(Tensor x, Tensor vt, Tensor u, Tensor bias, Tensor residual, Tensor h,
                                      Tensor y, int rows, int in, int out, int r, int maxRank) {
        fits(x, (long) rows * in, "low-rank input");
        matrix(vt, false, r, in, in, "low-rank VT");
        matrix(u, false, out, r, maxRank, "low-rank U");
        fits(bias, out, "low-rank bias");
        if (residual != null) {
            fits(residual, (long) rows * out, "low-rank residual");
        }
        fits(y, (long) rows * out, "low-rank output");
        if (h != null) {
            fits(h, (long) rows * r, "low-rank intermediate");
        }
    }

    public static void mlpForward(Tensor x, LayerNormWeights norm, LinearProduct fc1, LinearProduct fc2,
                                  Tensor residual, Tensor y, int rows) {
        if (fc1.out() != fc2.in()) {
            throw new IllegalArgumentException("MLP: fc1 writes " + fc1.out() + " features, fc2 reads " + fc2.in());
        }
        fits(x, (long) rows * fc1.in(), "MLP input");
        norm(norm, fc1.in(), "MLP");
        weights(fc1, "MLP fc1");
        weights(fc2, "MLP fc2");
        if (residual != null) {
            fits(residual, (long) rows * fc2.out(), "MLP residual");
        }
        fits(y, (long) rows * fc2.out(), "MLP output");
    }

    public static void selfAttentionForward(Tensor x, LayerNormWeights norm, LinearProduct qkv, LinearProduct proj,
                                            Tensor residual, Tensor y, int batch, int tokens, int heads,
                                            int headDim) {
        int dim = heads * headDim;
        if (qkv.in() != dim || qkv.out() != 3 * dim || proj.in() != dim) {
            throw new IllegalArgumentException("attention of " + heads + " heads of " + headDim + ": qkv maps "
                    + qkv.in() + " to " + qkv.out() + " features, proj reads " + proj.in());
        }
        long rows = (long) batch * tokens;
        fits(x, rows * dim, "attention input");
        norm(norm, dim, "attention");
        weights(qkv, "attention qkv");
        weights(proj, "attention proj");
        if (residual != null) {
            fits(residual, rows * proj.out(), "attention residual");
        }
        fits(y, rows * proj.out(), "attention output");
    }

    private static void norm(LayerNormWeights norm, int cols, String what) {
        if (norm != null) {
            fits(norm.gamma(), cols, what + " layer norm weight");
            fits(norm.beta(), cols, what + " layer norm bias");
        }
    }

    private static void weights(LinearProduct p, String what) {
        fits(p.bias(), p.out(), what + " bias");
        if (p instanceof LinearProduct.Dense d) {
            fits(d.w(), (long) d.out() * d.in(), what + " weight");
        } else if (p instanceof LinearProduct.LowRank l) {
            matrix(l.vt(), false, l.rank(), l.in(), l.in(), what + " VT");
            matrix(l.u(), false, l.out(), l.rank(), l.maxRank(), what + " U");
        }
    }

    public static void lowRankBackwardInput(Tensor dy, Tensor vt, Tensor u, Tensor dh, Tensor dx, int rows, int in,
                                            int out, int r, int maxRank) {
        fits(dy, (long) rows * out, "low-rank upstream gradient");
        matrix(vt, false, r, in, in, "low-rank VT");
        matrix(u, false, out, r, maxRank, "low-rank U");
        fits(dh, (long) rows * r, "low-rank intermediate gradient");
        fits(dx, (long) rows * in, "low-rank input gradient");
    }

    public static void lowRankBackward(Tensor dy, Tensor x, Tensor h, Tensor vt, Tensor u, Tensor dh, Tensor dx,
                                       Tensor dVt, Tensor dU, Tensor dBias, int rows, int in, int out, int r,
                                       int maxRank) {
        lowRankBackwardInput(dy, vt, u, dh, dx, rows, in, out, r, maxRank);
        fits(x, (long) rows * in, "low-rank input");
        fits(h, (long) rows * r, "low-rank intermediate");
        matrix(dVt, false, r, in, in, "low-rank VT gradient");
        matrix(dU, false, out, r, maxRank, "low-rank U gradient");
        fits(dBias, out, "low-rank bias gradient");
    }

    public static void svd(Tensor a, int m, int n, Tensor u, Tensor s, Tensor vt) {
        int k = Math.min(m, n);
        fits(a, (long) m * n, "svd input");
        fits(u, (long) m * k, "svd U");
        fits(s, k, "svd singular values");
        fits(vt, (long) k * n, "svd VT");
    }
}
