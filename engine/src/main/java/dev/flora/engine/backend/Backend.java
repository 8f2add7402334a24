package dev.flora.engine.backend;

import dev.flora.engine.tensor.Tensor;

/**
 * The seam between the model and the hardware: every op the ViT needs, with a CPU and a CUDA
 * implementation. All matrices are row-major; sizes are passed explicitly, and ops touch only
 * the elements those sizes describe. Ops that produce gradients of parameters accumulate
 * ({@code +=}) so that shared weights (low-rank slices, tied ranks) sum their contributions;
 * ops that produce activation gradients overwrite unless documented otherwise.
 */
public interface Backend extends AutoCloseable {

    /** Short name for logs: "cpu", "cuda", "cuda-emulated". */
    String name();

    // ---- memory ---------------------------------------------------------------------------

    /** A zero-filled tensor of the given shape. */
    Tensor allocate(int... shape);

    /**
     * A zero-filled block for a model's parameters, which {@link #release} may free before it
     * becomes unreachable. The default is {@link #allocate}.
     */
    default Tensor allocateParameters(int floats) {
        return allocate(floats);
    }

    /**
     * Frees a block from {@link #allocateParameters} now; every later read of it fails, saying
     * {@code why}. The default cannot, and says so: only a backend that {@link #holdsCopyOf holds
     * copies} of weights needs to.
     */
    default void release(Tensor parameters, String why) {
        throw new UnsupportedOperationException(name() + " does not free parameter memory early");
    }

    /**
     * Whether this backend runs inference only, reading the linear layers' weights from copies in
     * its own format that it converts on their first use and keeps (bf16 on the CPU): a model on
     * it cannot train, and its own copies of those weights are dead weight once converted.
     */
    default boolean inferenceOnly() {
        return false;
    }

    /**
     * Runs {@code body}, an inference after which the weights this backend copies are to be
     * released ({@code VisionTransformer.storeWeightsOnce}): a backend may return each weight's
     * memory as soon as it has its copy, so that the model and the copies are never all held at
     * once. The default just runs it.
     */
    default void whileCopyingWeightsToRelease(Runnable body) {
        body.run();
    }

    /** Whether this backend keeps its own copy of weight matrix {@code w} (by storage and offset). */
    default boolean holdsCopyOf(Tensor w) {
        return false;
    }

    /** Copies {@code dst.numel()} floats from {@code src[srcOffset..]} into {@code dst}. */
    void upload(float[] src, int srcOffset, Tensor dst);

    /** Copies all of {@code src} into {@code dst[dstOffset..]}. */
    void download(Tensor src, float[] dst, int dstOffset);

    default float[] download(Tensor src) {
        float[] out = new float[Math.toIntExact(src.numel())];
        download(src, out, 0);
        return out;
    }

    void fill(Tensor t, float value);

    /** dst[i] = src[i] for all elements of src (dst at least as large). */
    void copy(Tensor src, Tensor dst);

    /**
     * Strided 2-D copy: dst[r*dstStride + c] = src[r*srcStride + c] for r &lt; rows, c &lt; cols.
     * {@code srcStride} 0 repeats src's first {@code cols} elements in every row.
     */
    void copy2d(Tensor src, int srcStride, Tensor dst, int dstStride, int rows, int cols);

    // ---- BLAS -----------------------------------------------------------------------------

    /**
     * C[m,n] = alpha * op(A)[m,k] * op(B)[k,n] + beta * C, row-major with leading dimensions
     * (the row stride of each stored matrix).
     */
    void gemm(boolean transA, boolean transB, int m, int n, int k,
              float alpha, Tensor a, int lda, Tensor b, int ldb,
              float beta, Tensor c, int ldc);

    /** {@link #gemm} for {@code batch} problems whose operands start {@code stride*} floats apart. */
    void gemmStridedBatched(boolean transA, boolean transB, int m, int n, int k,
                            float alpha, Tensor a, int lda, long strideA,
                            Tensor b, int ldb, long strideB,
                            float beta, Tensor c, int ldc, long strideC, int batch);

    /**
     * A dense linear layer's forward, y [rows, out] = x [rows, in] · Wᵀ + b, plus
     * {@code residual} [rows, out] when it is not null (a transformer block's skip connection).
     * The default is a GEMM, a bias pass and an add; a backend may fold the bias and the
     * residual into the GEMM's output before it accumulates, which saves both passes.
     */
    default void linearForward(Tensor x, Tensor w, Tensor bias, Tensor residual, Tensor y, int rows, int in,
                               int out) {
        OpContracts.linearForward(x, w, bias, residual, y, rows, in, out);
        gemm(false, true, rows, out, in, 1f, x, in, w, in, 0f, y, out);
        addBias(y, bias, rows, out);
        if (residual != null) {
            add(y, residual, y, (long) rows * out);
        }
    }

    /**
     * A dense linear layer's backward for y = x · Wᵀ + b: dW [out, in] += dyᵀ · x, dBias += the
     * column sums of dy, and dx [rows, in] = dy · W. The default is two GEMMs and a reduction; a
     * backend may run the products in another number format (the CPU's mixed precision).
     */
    default void linearBackward(Tensor dy, Tensor x, Tensor w, Tensor dW, Tensor dBias, Tensor dx, int rows, int in,
                                int out) {
        gemm(true, false, out, in, rows, 1f, dy, out, x, in, 1f, dW, in);
        accumulateBiasGrad(dy, dBias, rows, out);
        gemm(false, false, rows, in, out, 1f, dy, out, w, in, 0f, dx, in);
    }

    // ---- element-wise and row-wise --------------------------------------------------------

    /** y[r, c] += bias[c] for y of shape [rows, cols]. */
    void addBias(Tensor y, Tensor bias, int rows, int cols);

    /** dBias[c] += sum_r dy[r, c]. */
    void accumulateBiasGrad(Tensor dy, Tensor dBias, int rows, int cols);

    /** out[i] = a[i] + b[i], i &lt; n ({@code out} may alias {@code a} or {@code b}). */
    void add(Tensor a, Tensor b, Tensor out, long n);

    /** t[i] *= s, i &lt; n. */
    void scale(Tensor t, float s, long n);

    /** Sum of squares of the first n elements, accumulated in double. */
    double sumOfSquares(Tensor t, long n);

    /** y = x * Phi(x), the exact (erf) GELU, over n elements. */
    void geluForward(Tensor x, Tensor y, long n);

    /** dx = dy * (Phi(x) + x * phi(x)) over n elements. */
    void geluBackward(Tensor x, Tensor dy, Tensor dx, long n);

    /**
     * LayerNorm over the last dimension: y = (x - mean) * rstd * gamma + beta for x [rows, cols];
     * writes mean[rows] and rstd[rows] for the backward pass (an {@link #inferenceOnly()} backend,
     * which runs none, may leave them unwritten).
     */
    void layerNormForward(Tensor x, Tensor gamma, Tensor beta, Tensor y, Tensor mean, Tensor rstd,
                          int rows, int cols, float eps);

    /**
     * LayerNorm backward: overwrites dx [rows, cols], accumulates dGamma[cols] and dBeta[cols].
     */
    void layerNormBackward(Tensor dy, Tensor x, Tensor gamma, Tensor mean, Tensor rstd,
                           Tensor dx, Tensor dGamma, Tensor dBeta, int rows, int cols);

    /** In place, per row of s [rows, cols]: s = softmax(s). */
    void softmaxForward(Tensor s, int rows, int cols);

    /**
     * In place, per row: given probabilities p and upstream dp, dp := p * (dp - sum(dp * p)),
     * the gradient with respect to the softmax input.
     */
    void softmaxBackward(Tensor p, Tensor dp, int rows, int cols);

    // ---- ViT-specific layout ops ----------------------------------------------------------

    /**
     * Unfolds non-overlapping p×p patches: images [batch, channels, height, width] to
     * patches [batch * (height/p) * (width/p), channels*p*p], patches in row-major grid order and
     * columns in (channel, ky, kx) order, the layout of a conv weight [out, channels, p, p].
     */
    void unfoldPatches(Tensor images, Tensor patches, int batch, int channels, int height, int width, int p);

    /**
     * tokens[b, 0, :] = cls + pos[0]; tokens[b, 1 + i, :] = patches[b * numPatches + i, :] + pos[1 + i].
     * tokens is [batch, 1 + numPatches, dim].
     */
    void assembleTokens(Tensor patches, Tensor cls, Tensor pos, Tensor tokens, int batch, int numPatches, int dim);

    /**
     * Backward of {@link #assembleTokens}: overwrites dPatches, accumulates dCls and dPos.
     */
    void assembleTokensBackward(Tensor dTokens, Tensor dPatches, Tensor dCls, Tensor dPos,
                                int batch, int numPatches, int dim);

    // ---- losses (forward and gradient in one pass) ----------------------------------------

    /**
     * Cross-entropy with label smoothing over logits [rows, classes]: the target is
     * (1 - smoothing) * onehot + smoothing / classes. Writes (or with {@code accumulate} adds)
     * dLogits = gradScale * (softmax(logits) - target).
     */
    LossResult crossEntropy(Tensor logits, int[] labels, Tensor dLogits, int rows, int classes,
                            float smoothing, float gradScale, boolean accumulate);

    /**
     * Soft-target cross-entropy, the in-place distillation loss: the target is
     * softmax(targetLogits) per row. Writes (or adds) dLogits = gradScale * (softmax(logits) - target).
     */
    LossResult softTargetCrossEntropy(Tensor logits, Tensor targetLogits, Tensor dLogits, int rows, int classes,
                                      float gradScale, boolean accumulate);

    // ---- optimizer ------------------------------------------------------------------------

    /**
     * One AdamW step (PyTorch semantics) over 2-D regions of the parameter, gradient and moment
     * arenas (see {@link Region}). Per element: p *= 1 - lr*wd (wd only where the region decays);
     * m, v updated; p -= lr * mhat / (sqrt(vhat) + eps). {@code step} counts from 1. Elements in
     * no region are not touched, which is how a rank-r step leaves the slices beyond r alone.
     */
    void adamw(Tensor params, Tensor grads, Tensor m, Tensor v, java.util.List<Region> regions,
               float lr, float beta1, float beta2, float eps, float weightDecay, int step);

    // ---- attention ---------------------------------------------------------------------------

    /**
     * The core of multi-head self-attention on qkv [B·T, 3C], where head h's q, k and v are the
     * d columns at h·d, C + h·d and 2C + h·d (C = heads·d): probs [B, H, T, T] =
     * softmax(scale · q·kᵀ) per row, and ctx [B·T, C] with head h's p·v at columns h·d. The
     * default runs strided-batched GEMMs over the images (or over the heads when there are fewer
     * images than heads) and one softmax; a backend may do each (image, head) in cache. An
     * inference backend may leave probs unwritten (no backward will read it).
     */
    default void attentionForward(Tensor qkv, Tensor probs, Tensor ctx, int batch, int tokens, int heads,
                                  int headDim, float scale) {
        OpContracts.attentionForward(qkv, probs, ctx, batch, tokens, heads, headDim);
        int t = tokens;
        int dim = heads * headDim;
        int ld = 3 * dim;
        long tokenStride = (long) t * ld;
        long probStride = (long) heads * t * t;
        // one strided-batched GEMM per head over the images, or per image over the heads: `outer`
        // calls of `count` (image, head) pairs, each call `*Step` further on, pairs `*Stride` apart
        boolean overImages = batch >= heads;
        int outer = overImages ? heads : batch;
        int count = overImages ? batch : heads;
        long qStep = overImages ? headDim : tokenStride;
        long qStride = overImages ? tokenStride : headDim;
        long pStep = overImages ? (long) t * t : probStride;
        long pStride = overImages ? probStride : (long) t * t;
        long cStep = overImages ? headDim : (long) t * dim;
        long cStride = overImages ? (long) t * dim : headDim;
        for (int o = 0; o < outer; o++) {
            // scores = scale · q · kᵀ [T, T]
            Tensor q = qkv.from(o * qStep);
            gemmStridedBatched(false, true, t, t, headDim, scale, q, ld, qStride, q.from(dim), ld, qStride, 0f,
                    probs.from(o * pStep), t, pStride, count);
        }
        softmaxForward(probs, batch * heads * t, t);
        for (int o = 0; o < outer; o++) {
            // ctx = p · v [T, d]
            gemmStridedBatched(false, false, t, headDim, t, 1f, probs.from(o * pStep), t, pStride,
                    qkv.from(o * qStep + 2L * dim), ld, qStride, 0f, ctx.from(o * cStep), dim, cStride, count);
        }
    }

    // ---- fused low-rank linear ------------------------------------------------------------

    /**
     * y [rows, out] = (x [rows, in] · VT[:r]ᵀ) · U[:, :r]ᵀ + b (+ {@code residual} [rows, out]
     * when it is not null), with VT [R, in] and U [out, R]; when {@code h} is not null it
     * receives x · VT[:r]ᵀ [rows, r] for the backward pass. The default runs two GEMMs; a
     * backend may fuse them and keep the intermediate on chip.
     */
    default void lowRankForward(Tensor x, Tensor vt, Tensor u, Tensor bias, Tensor residual, Tensor h, Tensor y,
                                int rows, int in, int out, int r, int maxRank) {
        Tensor mid = h != null ? h : allocate(rows * r);
        gemm(false, true, rows, r, in, 1f, x, in, vt, in, 0f, mid, r);
        gemm(false, true, rows, out, r, 1f, mid, r, u, maxRank, 0f, y, out);
        addBias(y, bias, rows, out);
        if (residual != null) {
            add(y, residual, y, (long) rows * out);
        }
    }

    /**
     * Whether {@link #mlpForward} runs a transformer MLP as one op (an inference backend that
     * fuses it); where not, callers run its two layers and GELU as ops of their own.
     */
    default boolean fusesMlp() {
        return false;
    }

    /**
     * y [rows, fc2.out] = fc2(GELU(fc1(x'))) (+ residual) for inference, x' = x normalized by
     * norm where it is not null, else x; the exact (erf) GELU applied as fc1's product is
     * written, and x' and the hidden activations kept where the next step reads them (nothing
     * is kept for a backward pass). Only where {@link #fusesMlp()}.
     */
    default void mlpForward(Tensor x, LayerNormWeights norm, LinearProduct fc1, LinearProduct fc2, Tensor residual,
                            Tensor y, int rows) {
        throw new UnsupportedOperationException(name() + " does not fuse the MLP's products");
    }

    /**
     * Whether {@link #selfAttentionForward} runs attention with its two projections as one op
     * (an inference backend that fuses it); where not, callers run them as ops of their own.
     */
    default boolean fusesSelfAttention() {
        return false;
    }

    /**
     * y [batch·tokens, proj.out] = proj(attention(qkv(x'))) (+ residual) for inference, x' as in
     * {@link #mlpForward}, with the attention core of {@link #attentionForward} in between: x',
     * q, k, v and the context kept where the next step reads them (nothing is kept for a
     * backward pass). Only where {@link #fusesSelfAttention()}.
     */
    default void selfAttentionForward(Tensor x, LayerNormWeights norm, LinearProduct qkv, LinearProduct proj,
                                      Tensor residual, Tensor y, int batch, int tokens, int heads, int headDim,
                                      float scale) {
        throw new UnsupportedOperationException(name() + " does not fuse attention's products");
    }

    /** dh [rows, r] = dy · U[:, :r] and dx [rows, in] = dh · VT[:r] (both overwritten). */
    default void lowRankBackwardInput(Tensor dy, Tensor vt, Tensor u, Tensor dh, Tensor dx, int rows, int in,
                                      int out, int r, int maxRank) {
        gemm(false, false, rows, r, out, 1f, dy, out, u, maxRank, 0f, dh, r);
        gemm(false, false, rows, in, r, 1f, dh, r, vt, in, 0f, dx, in);
    }

    /**
     * The whole backward pass of a factorized linear layer y = (x · VT[:r]ᵀ) · U[:, :r]ᵀ + b:
     * overwrites dh [rows, r] and dx [rows, in], and accumulates dU[:, :r] += dyᵀ · h,
     * dVT[:r] += dhᵀ · x and dBias += Σ_rows dy ({@code h} is the forward's x · VT[:r]ᵀ). The
     * default is {@link #lowRankBackwardInput} and three reductions; a backend may walk dy once.
     */
    default void lowRankBackward(Tensor dy, Tensor x, Tensor h, Tensor vt, Tensor u, Tensor dh, Tensor dx,
                                 Tensor dVt, Tensor dU, Tensor dBias, int rows, int in, int out, int r,
                                 int maxRank) {
        lowRankBackwardInput(dy, vt, u, dh, dx, rows, in, out, r, maxRank);
        gemm(true, false, out, r, rows, 1f, dy, out, h, r, 1f, dU, maxRank);
        gemm(true, false, r, in, rows, 1f, dh, r, x, in, 1f, dVt, in);
        accumulateBiasGrad(dy, dBias, rows, out);
    }

    // ---- linear algebra -------------------------------------------------------------------

    /**
     * Thin SVD of a [m, n] (row-major, not modified): a = u * diag(s) * vt with u [m, k],
     * s [k] descending, vt [k, n], k = min(m, n).
     */
    void svd(Tensor a, int m, int n, Tensor u, Tensor s, Tensor vt);

    // ---- batch lanes ----------------------------------------------------------------------

    /**
     * Into how many lanes a model splits a batch of {@code batch} images: each lane runs the
     * whole forward (and backward) on its slice of the images, by itself, with its own
     * activations and gradients. 1 (the default) keeps a batch whole, which is right for a
     * device that wants large ops; a multi-core CPU gains from lanes because the ops of one
     * lane need no hand-offs between cores and its activations stay in cache.
     */
    default int batchLanes(int batch) {
        return 1;
    }

    /** Runs {@code lane.accept(i)} for every lane i &lt; lanes (the default: one after another). */
    default void runLanes(int lanes, java.util.function.IntConsumer lane) {
        for (int i = 0; i < lanes; i++) {
            lane.accept(i);
        }
    }

    /**
     * dst[i] += Σ_p parts[p][i] over the first {@code n} elements, adding the parts in list
     * order, then sets those elements of every part to zero (the lanes' gradients, folded into
     * the model's).
     */
    default void addAndClear(Tensor dst, java.util.List<Tensor> parts, long n) {
        for (Tensor p : parts) {
            add(dst, p, dst, n);
            fill(p.head(n), 0f);
        }
    }

    /** Blocks until all queued work is done (a no-op on synchronous backends). */
    default void synchronize() {
    }

    @Override
    default void close() {
    }
}
