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

    /** x [B·T, C] to [B·T, C], plus {@code residual} (when not null) added by the output projection. */
    public Tensor forward(Tensor x, int batch, int tokens, Tensor residual) {
        this.batch = batch;
        this.tokens = tokens;
        int rows = batch * tokens;
        int t = tokens;
        qkvOut = qkv.forward(x, rows);
        Tensor p = probs.get((long) batch * heads * t * t);
        Tensor ctx = context.get((long) rows * dim);
        backend.attentionForward(qkvOut, p, ctx, batch, t, heads, headDim, scale);
        return proj.forward(ctx, rows, residual);
    }

    /**
     * The class token's row of {@link #forward} only, for the last block of an inference pass:
     * x [B·T, C] (every token is still a key and a value) to [B, C], plus {@code residual}
     * [B, C]. The scores are one row per (image, head), so the products and the projection
     * cost 1/T of the full pass's. No backward may follow.
     */
    public Tensor forwardClassToken(Tensor x, int batch, int tokens, Tensor residual) {
        this.batch = batch;
        this.tokens = tokens;
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

    /** Returns dx [B·T, C]; accumulates qkv and proj parameter gradients. */
    public Tensor backward(Tensor dy) {
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
}
