package dev.flora.engine.nn;

import dev.flora.engine.backend.Backend;
import dev.flora.engine.tensor.Tensor;

/** Pre-norm transformer block: x1 = x + attn(norm1(x)); x2 = x1 + mlp(norm2(x1)). */
public final class Block {
    private final Backend backend;
    private final int dim;
    private final LayerNorm norm1;
    private final Attention attn;
    private final LayerNorm norm2;
    private final Mlp mlp;
    private final GrowableBuffer dx1;
    private final GrowableBuffer dx;
    private final GrowableBuffer prefixRows;
    private final GrowableBuffer dPrefixRows;
    private int rows;
    private int batch;
    private int tokens;
    private int prefix;
    /** Whether the last forward was {@link #forwardPrefixTokens}, which {@link #backward} then mirrors. */
    private boolean prefixOnly;

    public Block(Backend backend, ParameterArena.Builder params, String path, int dim, int heads, int hidden,
                 LinearFactory linears) {
        this.backend = backend;
        this.dim = dim;
        this.norm1 = new LayerNorm(backend, params, path + ".norm1", dim);
        this.attn = new Attention(backend, path + ".attn", dim, heads, linears);
        this.norm2 = new LayerNorm(backend, params, path + ".norm2", dim);
        this.mlp = new Mlp(backend, path + ".mlp", dim, hidden, linears);
        this.dx1 = GrowableBuffer.blockGradient(backend, path, "dx1");
        this.dx = GrowableBuffer.blockGradient(backend, path, "dx");
        this.prefixRows = GrowableBuffer.blockActivation(backend, path, "prefixRows");
        this.dPrefixRows = GrowableBuffer.blockGradient(backend, path, "dPrefixRows");
    }

    public Attention attn() {
        return attn;
    }

    public Mlp mlp() {
        return mlp;
    }

    /**
     * x [B·T, C] to [B·T, C]. The skip connections are added by each branch's last linear layer,
     * in the pass that adds its bias, so x1 and x2 live in those layers' output buffers.
     */
    public Tensor forward(Tensor x, int batch, int tokens) {
        rows = batch * tokens;
        this.tokens = tokens;
        prefixOnly = false;
        Tensor x1 = attn.forward(norm1, x, batch, tokens, x);
        return mlp.forward(norm2, x1, rows, x1);
    }

    /**
     * The first {@code prefix} output rows of {@link #forward} only, x [B·T, C] to [B·P, C]: what
     * the last block needs, since the head reads nothing else (the class token, and a distilled
     * DeiT's distillation token). Attention still reads every token's key and value; its query,
     * projection, layernorm and MLP run on B·P rows instead of B·T, in the forward and in the
     * {@link #backward} that may follow.
     */
    public Tensor forwardPrefixTokens(Tensor x, int batch, int tokens, int prefix) {
        this.batch = batch;
        this.prefix = prefix;
        rows = batch * prefix;
        this.tokens = tokens;
        prefixOnly = true;
        Tensor lead = prefixRows.get((long) rows * dim);
        backend.copy2d(x, tokens * dim, lead, prefix * dim, batch, prefix * dim);
        Tensor x1 = attn.forwardPrefixTokens(norm1.forward(x, batch * tokens), batch, tokens, prefix, lead);
        return mlp.forward(norm2, x1, rows, x1);
    }

    /**
     * The residual paths add their branch gradients to the skip gradient. Returns dx [B·T, C];
     * after {@link #forwardPrefixTokens}, dy is the prefix tokens' [B·P, C].
     */
    public Tensor backward(Tensor dy) {
        if (prefixOnly) {
            return backwardPrefixTokens(dy);
        }
        long n = (long) rows * dim;
        Tensor dx1t = dx1.get(n);
        backend.add(dy, norm2.backward(mlp.backward(dy)), dx1t, n);
        Tensor dxt = dx.get(n);
        backend.add(dx1t, norm1.backward(attn.backward(dx1t)), dxt, n);
        return dxt;
    }

    /**
     * dx1 [B·P, C] reaches x through attention (every token, as keys and values and through the
     * first layernorm) and, by the skip connection, the prefix rows alone.
     */
    private Tensor backwardPrefixTokens(Tensor dy) {
        long n = (long) rows * dim;
        int width = prefix * dim;
        Tensor dx1t = dx1.get(n);
        backend.add(dy, norm2.backward(mlp.backward(dy)), dx1t, n);
        Tensor dxt = dx.get((long) batch * tokens * dim);
        backend.copy(norm1.backward(attn.backward(dx1t)), dxt);
        Tensor dLead = dPrefixRows.get(n);
        backend.copy2d(dxt, tokens * dim, dLead, width, batch, width);
        backend.add(dLead, dx1t, dLead, n);
        backend.copy2d(dLead, width, dxt, tokens * dim, batch, width);
        return dxt;
    }
}
