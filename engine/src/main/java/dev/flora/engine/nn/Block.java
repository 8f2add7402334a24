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
    private final GrowableBuffer classRows;
    private final GrowableBuffer dClassRows;
    private int rows;
    private int tokens;
    /** Whether the last forward was {@link #forwardClassToken}, which {@link #backward} then mirrors. */
    private boolean classTokenOnly;

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
        this.classRows = GrowableBuffer.blockActivation(backend, path, "classRows");
        this.dClassRows = GrowableBuffer.blockGradient(backend, path, "dClassRows");
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
        classTokenOnly = false;
        Tensor x1 = attn.forward(norm1.forward(x, rows), batch, tokens, x);
        return mlp.forward(norm2.forward(x1, rows), rows, x1);
    }

    /**
     * The class token's output row of {@link #forward} only, x [B·T, C] to [B, C]: what the last
     * block needs, since the head reads nothing else. Attention still reads every token's key
     * and value; its query, projection, layernorm and MLP run on B rows instead of B·T, in the
     * forward and in the {@link #backward} that may follow.
     */
    public Tensor forwardClassToken(Tensor x, int batch, int tokens) {
        rows = batch;
        this.tokens = tokens;
        classTokenOnly = true;
        Tensor cls = classRows.get((long) batch * dim);
        backend.copy2d(x, tokens * dim, cls, dim, batch, dim);
        Tensor x1 = attn.forwardClassToken(norm1.forward(x, batch * tokens), batch, tokens, cls);
        return mlp.forward(norm2.forward(x1, batch), batch, x1);
    }

    /**
     * The residual paths add their branch gradients to the skip gradient. Returns dx [B·T, C];
     * after {@link #forwardClassToken}, dy is the class tokens' [B, C].
     */
    public Tensor backward(Tensor dy) {
        if (classTokenOnly) {
            return backwardClassToken(dy);
        }
        long n = (long) rows * dim;
        Tensor dx1t = dx1.get(n);
        backend.add(dy, norm2.backward(mlp.backward(dy)), dx1t, n);
        Tensor dxt = dx.get(n);
        backend.add(dx1t, norm1.backward(attn.backward(dx1t)), dxt, n);
        return dxt;
    }

    /**
     * dx1 [B, C] reaches x through attention (every token, as keys and values and through the
     * first layernorm) and, by the skip connection, the class rows alone.
     */
    private Tensor backwardClassToken(Tensor dy) {
        int batch = rows;
        long n = (long) batch * dim;
        Tensor dx1t = dx1.get(n);
        backend.add(dy, norm2.backward(mlp.backward(dy)), dx1t, n);
        Tensor dxt = dx.get(n * tokens);
        backend.copy(norm1.backward(attn.backward(dx1t)), dxt);
        Tensor dCls = dClassRows.get(n);
        backend.copy2d(dxt, tokens * dim, dCls, dim, batch, dim);
        backend.add(dCls, dx1t, dCls, n);
        backend.copy2d(dCls, dim, dxt, tokens * dim, batch, dim);
        return dxt;
    }
}
