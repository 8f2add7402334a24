package dev.flora.engine.nn;

import dev.flora.engine.backend.Backend;
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
    private Tensor qkvOut;
    private int batch;
    private int tokens;
    /** Whether the last forward was {@link #forwardClassToken}, which {@link #backward} then mirrors. */
    private boolean classTokenOnly;

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

    /** {@link #attentionMacs} of {@link #forwardClassToken}: one query row per image. */
    public long classTokenAttentionMacs(int tokens) {
        return 2L * tokens * dim;
    }

    /** x [B·T, C] to [B·T, C], plus {@code residual} (when not null) added by the output projection. */
    public Tensor forward(Tensor x, int batch, int tokens, Tensor residual) {
        this.batch = batch;
        this.tokens = tokens;
        this.classTokenOnly = false;
        int rows = batch * tokens;
        int t = tokens;
        qkvOut = qkv.forward(x, rows);
        Tensor p = probs.get((long) batch * heads * t * t);
        Tensor ctx = context.get((long) rows * dim);
        backend.attentionForward(qkvOut, p, ctx, batch, t, heads, headDim, scale);
        return proj.forward(ctx, rows, residual);
    }

    /**
     * The class token's row of {@link #forward} only, for the last block: x [B·T, C] (every
     * token is still a key and a value) to [B, C], plus {@code residual} [B, C]. The scores are
     * one row per (image, head), so the products and the projection cost 1/T of the full
     * pass's. {@link #backward} then takes dy [B, C].
     */
    public Tensor forwardClassToken(Tensor x, int batch, int tokens, Tensor residual) {
        this.batch = batch;
        this.tokens = tokens;
        this.classTokenOnly = true;
        int t = tokens;
        int ld = 3 * dim;
        long tokenStride = (long) t * ld;
        qkvOut = qkv.forward(x, batch * t);
        Tensor scores = probs.get((long) batch * heads * t);
        Tensor ctx = context.get((long) batch * dim);
        for (int h = 0; h < heads; h++) {
            long hq = (long) h * headDim;
            // scores_bh = scale · q_b,cls · k_bhᵀ [1, T]
            backend.gemmStridedBatched(false, true, 1, t, headDim, scale,
                    qkvOut.from(hq), ld, tokenStride,
                    qkvOut.from(dim + hq), ld, tokenStride,
                    0f, scores.from((long) h * t), t, (long) heads * t, batch);
        }
        backend.softmaxForward(scores, batch * heads, t);
        for (int h = 0; h < heads; h++) {
            long hq = (long) h * headDim;
            // ctx_b,h = p_bh · v_bh [1, d]
            backend.gemmStridedBatched(false, false, 1, headDim, t, 1f,
                    scores.from((long) h * t), t, (long) heads * t,
                    qkvOut.from(2L * dim + hq), ld, tokenStride,
                    0f, ctx.from(hq), dim, dim, batch);
        }
        return proj.forward(ctx, batch, residual);
    }

    /**
     * Returns dx [B·T, C]; accumulates qkv and proj parameter gradients. After
     * {@link #forwardClassToken}, dy is the class tokens' [B, C].
     */
    public Tensor backward(Tensor dy) {
        if (classTokenOnly) {
            return backwardClassToken(dy);
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
     * The backward of {@link #forwardClassToken}: one query per (image, head), so dP, dS and
     * dQ are single rows, and dK and dV are outer products (inner dimension 1) over every
     * token. Only the class rows have a query gradient; the other rows' are zero.
     */
    private Tensor backwardClassToken(Tensor dy) {
        int t = tokens;
        int ld = 3 * dim;
        long tokenStride = (long) t * ld;
        long scoreStride = (long) heads * t;
        Tensor dCtx = proj.backward(dy);
        Tensor p = probs.get((long) batch * heads * t);
        Tensor dp = dProbs.get((long) batch * heads * t);
        Tensor dq = dQkv.get((long) batch * t * ld);
        // the non-class rows' query columns stay zero; the GEMMs below write all the rest
        backend.fill(dq, 0f);
        for (int h = 0; h < heads; h++) {
            long hs = (long) h * t;
            long hq = (long) h * headDim;
            // dP_bh = dCtx_b,h · v_bhᵀ [1, T]
            backend.gemmStridedBatched(false, true, 1, t, headDim, 1f,
                    dCtx.from(hq), dim, dim,
                    qkvOut.from(2L * dim + hq), ld, tokenStride,
                    0f, dp.from(hs), t, scoreStride, batch);
            // dV_bh = p_bhᵀ · dCtx_b,h [T, d]
            backend.gemmStridedBatched(true, false, t, headDim, 1, 1f,
                    p.from(hs), t, scoreStride,
                    dCtx.from(hq), dim, dim,
                    0f, dq.from(2L * dim + hq), ld, tokenStride, batch);
        }
        backend.softmaxBackward(p, dp, batch * heads, t);
        for (int h = 0; h < heads; h++) {
            long hs = (long) h * t;
            long hq = (long) h * headDim;
            // dQ_b,cls,h = scale · dS_bh · K_bh [1, d]
            backend.gemmStridedBatched(false, false, 1, headDim, t, scale,
                    dp.from(hs), t, scoreStride,
                    qkvOut.from((long) dim + hq), ld, tokenStride,
                    0f, dq.from(hq), ld, tokenStride, batch);
            // dK_bh = scale · dS_bhᵀ · q_b,cls,h [T, d]
            backend.gemmStridedBatched(true, false, t, headDim, 1, scale,
                    dp.from(hs), t, scoreStride,
                    qkvOut.from(hq), ld, tokenStride,
                    0f, dq.from((long) dim + hq), ld, tokenStride, batch);
        }
        return qkv.backward(dq);
    }
}
