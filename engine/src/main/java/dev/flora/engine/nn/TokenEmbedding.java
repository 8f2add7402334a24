package dev.flora.engine.nn;

import dev.flora.engine.backend.Backend;
import dev.flora.engine.tensor.Tensor;

/**
 * The token sequence a ViT's blocks see: the prefix tokens ({@code cls_token}, and DeiT's
 * {@code dist_token} in a distilled model) followed by the patch embeddings, plus
 * {@code pos_embed} over all of them, as timm's {@code _pos_embed}: patches [B·N, C] to tokens
 * [B, P + N, C] with P = 1 or 2.
 */
final class TokenEmbedding {
    private final Backend backend;
    private final int dim;
    private final int numPatches;
    private final int tokens;
    private final Param clsToken;
    /** Null unless distilled. */
    private final Param distToken;
    private final Param posEmbed;
    private final GrowableBuffer out;
    private final GrowableBuffer dPatches;
    private final GrowableBuffer dPrefixRows;
    private int batch;

    /** Declares cls_token, pos_embed and (when distilled) dist_token, in timm's state_dict order. */
    TokenEmbedding(Backend backend, ParameterArena.Builder params, ViTConfig config) {
        this.backend = backend;
        this.dim = config.embedDim();
        this.numPatches = config.numPatches();
        this.tokens = config.tokens();
        this.clsToken = params.noDecay("cls_token", 1, 1, dim);
        this.posEmbed = params.noDecay("pos_embed", 1, config.tokens(), dim);
        this.distToken = config.distilled() ? params.noDecay("dist_token", 1, 1, dim) : null;
        this.out = new GrowableBuffer(backend);
        this.dPatches = new GrowableBuffer(backend);
        this.dPrefixRows = new GrowableBuffer(backend);
    }

    /** patches [B·N, C] to tokens [B, T, C]; the result belongs to this layer. */
    Tensor forward(Tensor patches, int batch) {
        this.batch = batch;
        Tensor x = out.get((long) batch * tokens * dim);
        if (distToken == null) {
            backend.assembleTokens(patches, clsToken.value(), posEmbed.value(), x, batch, numPatches, dim);
            return x;
        }
        // rare enough (DeiT distilled checkpoints) to compose from generic ops: a source stride of 0
        // repeats a token into every image, then pos_embed is one bias row over [B, T·C]
        int row = tokens * dim;
        backend.copy2d(clsToken.value(), 0, x, row, batch, dim);
        backend.copy2d(distToken.value(), 0, x.from(dim), row, batch, dim);
        backend.copy2d(patches, numPatches * dim, x.from(2L * dim), row, batch, numPatches * dim);
        backend.addBias(x, posEmbed.value(), batch, row);
        return x;
    }

    /** Accumulates the token and position gradients; returns dPatches [B·N, C] from dTokens [B, T, C]. */
    Tensor backward(Tensor dTokens) {
        Tensor dp = dPatches.get((long) batch * numPatches * dim);
        if (distToken == null) {
            backend.assembleTokensBackward(dTokens, dp, clsToken.grad(), posEmbed.grad(), batch, numPatches, dim);
            return dp;
        }
        int row = tokens * dim;
        backend.copy2d(dTokens.from(2L * dim), row, dp, numPatches * dim, batch, numPatches * dim);
        backend.accumulateBiasGrad(dTokens, posEmbed.grad(), batch, row);
        Tensor prefix = dPrefixRows.get((long) batch * dim);
        backend.copy2d(dTokens, row, prefix, dim, batch, dim);
        backend.accumulateBiasGrad(prefix, clsToken.grad(), batch, dim);
        backend.copy2d(dTokens.from(dim), row, prefix, dim, batch, dim);
        backend.accumulateBiasGrad(prefix, distToken.grad(), batch, dim);
        return dp;
    }
}
