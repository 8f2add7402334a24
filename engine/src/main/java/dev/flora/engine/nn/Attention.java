package dev.flora.engine.nn;

import dev.flora.engine.backend.Backend;
import dev.flora.engine.backend.LinearProduct;
import dev.flora.engine.tensor.Tensor;

/**
 * Multi-head self-attention as timm's {@code Attention}: qkv projection with bias, per-head
 * softmax(q·kᵀ / sqrt(d)) · v, output projection. The qkv output [B·T, 3C] is used in place:
 * head h of q, k, v starts at column h·d, C + h·d, 2C + h·d with row stride 3C, so every
 * head-batched product is one strided-batched GEMM per head with no permute copies.
 */
public final class Attention {
    private final Backend backend;
    private final int dim;
    private final int heads;
    private final int headDim;
    private final float scale;
    private final LinearLayer qkv;
    private final LinearLayer proj;
    private final GrowableBuffer probs;
    private final GrowableBuffer context;
    private final GrowableBuffer dProbs;
    private final GrowableBuffer dQkv;
    /** The fused forward's output ({@code Backend.selfAttentionForward}); proj owns it otherwise. */
    private final GrowableBuffer output;
    private Tensor qkvOut;
    private int batch;
    private int tokens;
    /** Prefix rows of the last {@link #forwardPrefixTokens}. */
    private int prefix;
    /** Whether the last forward was {@link #forwardPrefixTokens}, which {@link #backward} then mirrors. */
    private boolean prefixOnly;

    public Attention(Backend backend, String path, int dim, int heads, LinearFactory linears) {
        if (dim % heads != 0) {
            throw new IllegalArgumentException(path + ": embed dim " + dim + " is not divisible by " + heads
                    + " heads");
        }
        this.backend = backend;
        this.dim = dim;
        this.heads = heads;
        this.headDim = dim / heads;
        this.scale = (float) (1.0 / Math.sqrt(headDim));
        this.qkv = linears.create(path + ".qkv", dim, 3 * dim);
        this.proj = linears.create(path + ".proj", dim, dim);
        this.probs = GrowableBuffer.blockActivation(backend, path, "probs");
        this.context = GrowableBuffer.blockActivation(backend, path, "context");
        this.dProbs = GrowableBuffer.blockGradient(backend, path, "dProbs");
        this.dQkv = GrowableBuffer.blockGradient(backend, path, "dQkv");
        this.output = GrowableBuffer.blockActivation(backend, path, "out");
    }

    public LinearLayer qkv() {
        return qkv;
    }

    public LinearLayer proj() {
        return proj;
    }

    /** Multiply-accumulates of the two attention products per image (q·kᵀ and p·v). */
    public long attentionMacs(int tokens) {
        return 2L * tokens * tokens * dim;
    }

    /** {@link #attentionMacs} of {@link #forwardPrefixTokens}: {@code prefix} query rows per image. */
    public long prefixAttentionMacs(int tokens, int prefix) {
        return 2L * prefix * tokens * dim;
    }

    /** x [B·T, C] to [B·T, C], plus {@code residual} (when not null) added by the output projection. */
    public Tensor forward(Tensor x, int batch, int tokens, Tensor residual) {
        return forward(null, x, batch, tokens, residual);
    }

    /** As above on norm(x) (x itself where norm is null). */
    public Tensor forward(LayerNorm norm, Tensor x, int batch, int tokens, Tensor residual) {
        this.batch = batch;
        this.tokens = tokens;
        this.prefixOnly = false;
        int rows = batch * tokens;
        int t = tokens;
        // an inference backend may run the norm, both projections and the core as one op, the
        // normalized rows, q, k, v and the context kept in its own format where the next step
        // reads them
        LinearProduct pq = backend.fusesSelfAttention() ? qkv.inferenceProduct() : null;
        LinearProduct pp = pq != null ? proj.inferenceProduct() : null;
        if (pp != null) {
            qkvOut = null;
            Tensor y = output.get((long) rows * proj.outFeatures());
            backend.selfAttentionForward(x, norm == null ? null : norm.weights(), pq, pp, residual, y, batch, t, heads,
                    headDim, scale);
            return y;
        }
        qkvOut = qkv.forward(norm == null ? x : norm.forward(x, rows), rows);
        Tensor p = probs.get((long) batch * heads * t * t);
        Tensor ctx = context.get((long) rows * dim);
        backend.attentionForward(qkvOut, p, ctx, batch, t, heads, headDim, scale);
        return proj.forward(ctx, rows, residual);
    }

    /**
     * The first {@code prefix} rows of {@link #forward} only (the class token, and a distilled
     * DeiT's distillation token), for the last block: x [B·T, C] (every token is still a key and
     * a value) to [B·P, C], plus {@code residual} [B·P, C]. The scores are P rows per (image,
     * head), so the products and the projection cost P/T of the full pass's. {@link #backward}
     * then takes dy [B·P, C].
     */
    public Tensor forwardPrefixTokens(Tensor x, int batch, int tokens, int prefix, Tensor residual) {
        this.batch = batch;
        this.tokens = tokens;
        this.prefix = prefix;
        this.prefixOnly = true;
        int t = tokens;
        int ld = 3 * dim;
        long tokenStride = (long) t * ld;
        long scoreStride = (long) heads * prefix * t;
        qkvOut = qkv.forward(x, batch * t);
        Tensor scores = probs.get(batch * scoreStride);
        Tensor ctx = context.get((long) batch * prefix * dim);
        for (int h = 0; h < heads; h++) {
            long hq = (long) h * headDim;
            // scores_bh = scale · q_b,prefix,h · k_bhᵀ [P, T]
            backend.gemmStridedBatched(false, true, prefix, t, headDim, scale,
                    qkvOut.from(hq), ld, tokenStride,
                    qkvOut.from(dim + hq), ld, tokenStride,
                    0f, scores.from((long) h * prefix * t), t, scoreStride, batch);
        }
        backend.softmaxForward(scores, batch * heads * prefix, t);
        for (int h = 0; h < heads; h++) {
            long hq = (long) h * headDim;
            // ctx_b,h = p_bh · v_bh [P, d]
            backend.gemmStridedBatched(false, false, prefix, headDim, t, 1f,
                    scores.from((long) h * prefix * t), t, scoreStride,
                    qkvOut.from(2L * dim + hq), ld, tokenStride,
                    0f, ctx.from(hq), dim, (long) prefix * dim, batch);
        }
        return proj.forward(ctx, batch * prefix, residual);
    }

    /**
     * Returns dx [B·T, C]; accumulates qkv and proj parameter gradients. After
     * {@link #forwardPrefixTokens}, dy is the prefix tokens' [B·P, C].
     */
    public Tensor backward(Tensor dy) {
        if (prefixOnly) {
            return backwardPrefixTokens(dy);
        }
        int t = tokens;
        int rows = batch * t;
        int ld = 3 * dim;
        long tokenStride = (long) t * ld;
        long probStride = (long) heads * t * t;
        Tensor dCtx = proj.backward(dy);
        Tensor p = probs.get((long) batch * heads * t * t);
        Tensor dp = dProbs.get((long) batch * heads * t * t);
        Tensor dq = dQkv.get((long) rows * ld);
        for (int h = 0; h < heads; h++) {
            long hp = (long) h * t * t;
            long hq = (long) h * headDim;
            // dP_bh = dCtx_bh · v_bhᵀ
            backend.gemmStridedBatched(false, true, t, t, headDim, 1f,
                    dCtx.from(hq), dim, (long) t * dim,
                    qkvOut.from(2L * dim + hq), ld, tokenStride,
                    0f, dp.from(hp), t, probStride, batch);
            // dV_bh = P_bhᵀ · dCtx_bh
            backend.gemmStridedBatched(true, false, t, headDim, t, 1f,
                    p.from(hp), t, probStride,
                    dCtx.from(hq), dim, (long) t * dim,
                    0f, dq.from(2L * dim + hq), ld, tokenStride, batch);
        }
        backend.softmaxBackward(p, dp, batch * heads * t, t);
        for (int h = 0; h < heads; h++) {
            long hp = (long) h * t * t;
            long hq = (long) h * headDim;
            // dQ_bh = scale · dS_bh · K_bh
            backend.gemmStridedBatched(false, false, t, headDim, t, scale,
                    dp.from(hp), t, probStride,
                    qkvOut.from((long) dim + hq), ld, tokenStride,
                    0f, dq.from(hq), ld, tokenStride, batch);
            // dK_bh = scale · dS_bhᵀ · Q_bh
            backend.gemmStridedBatched(true, false, t, headDim, t, scale,
                    dp.from(hp), t, probStride,
                    qkvOut.from(hq), ld, tokenStride,
                    0f, dq.from((long) dim + hq), ld, tokenStride, batch);
        }
        return qkv.backward(dq);
    }

    /**
     * The backward of {@link #forwardPrefixTokens}: P queries per (image, head), so dP, dS and
     * dQ have P rows, and dK and dV are products of inner dimension P over every token. Only
     * the prefix rows have a query gradient; the other rows' are zero.
     */
    private Tensor backwardPrefixTokens(Tensor dy) {
        int t = tokens;
        int ld = 3 * dim;
        long tokenStride = (long) t * ld;
        long scoreStride = (long) heads * prefix * t;
        long ctxStride = (long) prefix * dim;
        Tensor dCtx = proj.backward(dy);
        Tensor p = probs.get(batch * scoreStride);
        Tensor dp = dProbs.get(batch * scoreStride);
        Tensor dq = dQkv.get((long) batch * t * ld);
        // the non-prefix rows' query columns stay zero; the GEMMs below write all the rest
        backend.fill(dq, 0f);
        for (int h = 0; h < heads; h++) {
            long hs = (long) h * prefix * t;
            long hq = (long) h * headDim;
            // dP_bh = dCtx_b,h · v_bhᵀ [P, T]
            backend.gemmStridedBatched(false, true, prefix, t, headDim, 1f,
                    dCtx.from(hq), dim, ctxStride,
                    qkvOut.from(2L * dim + hq), ld, tokenStride,
                    0f, dp.from(hs), t, scoreStride, batch);
            // dV_bh = p_bhᵀ · dCtx_b,h [T, d]
            backend.gemmStridedBatched(true, false, t, headDim, prefix, 1f,
                    p.from(hs), t, scoreStride,
                    dCtx.from(hq), dim, ctxStride,
                    0f, dq.from(2L * dim + hq), ld, tokenStride, batch);
        }
        backend.softmaxBackward(p, dp, batch * heads * prefix, t);
        for (int h = 0; h < heads; h++) {
            long hs = (long) h * prefix * t;
            long hq = (long) h * headDim;
            // dQ_b,prefix,h = scale · dS_bh · K_bh [P, d]
            backend.gemmStridedBatched(false, false, prefix, headDim, t, scale,
                    dp.from(hs), t, scoreStride,
                    qkvOut.from((long) dim + hq), ld, tokenStride,
                    0f, dq.from(hq), ld, tokenStride, batch);
            // dK_bh = scale · dS_bhᵀ · q_b,prefix,h [T, d]
            backend.gemmStridedBatched(true, false, t, headDim, prefix, scale,
                    dp.from(hs), t, scoreStride,
                    qkvOut.from(hq), ld, tokenStride,
                    0f, dq.from((long) dim + hq), ld, tokenStride, batch);
        }
        return qkv.backward(dq);
    }
}
