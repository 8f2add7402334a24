package dev.flora.engine.nn;

import dev.flora.engine.backend.Backend;
import dev.flora.engine.tensor.Tensor;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A timm/DeiT Vision Transformer wired explicitly: patch embedding, class token and position
 * embedding, pre-norm blocks, final norm and a linear head on the class token. Parameters use
 * timm's names and live in one {@link ParameterArena}. Any linear module listed in
 * {@code lowRank} (path to max rank) is a {@link LowRankLinear}, the rest are dense.
 *
 * <p>Since the head reads only the class token, the final LayerNorm runs on that row alone; the
 * result is identical to timm's, which normalizes every token and then drops all but the first.
 */
public final class VisionTransformer {
    private final Backend backend;
    private final ViTConfig config;
    private final ParameterArena arena;
    private final PatchEmbed patchEmbed;
    private final Param clsToken;
    private final Param posEmbed;
    private final List<Block> blocks;
    private final LayerNorm norm;
    private final Linear head;
    private final Map<String, LinearLayer> linears;
    private final GrowableBuffer tokens;
    private final GrowableBuffer clsRows;
    private final GrowableBuffer dTokens;
    private final GrowableBuffer dPatches;
    private int batch;

    public VisionTransformer(Backend backend, ViTConfig config, Map<String, Integer> lowRank) {
        this.backend = backend;
        this.config = config;
        ParameterArena.Builder params = new ParameterArena.Builder();
        Map<String, LinearLayer> created = new LinkedHashMap<>();
        Map<String, Integer> pending = new LinkedHashMap<>(lowRank);
        LinearFactory factory = (path, in, out) -> {
            Integer rank = pending.remove(path);
            LinearLayer layer = rank == null ? new Linear(backend, params, path, in, out)
                    : new LowRankLinear(backend, params, path, in, out, rank);
            created.put(path, layer);
            return layer;
        };
        int dim = config.embedDim();
        this.clsToken = params.noDecay("cls_token", 1, 1, dim);
        this.posEmbed = params.noDecay("pos_embed", 1, config.tokens(), dim);
        this.patchEmbed = new PatchEmbed(backend, params, "patch_embed", config.imgSize(), config.patchSize(),
                config.inChans(), dim);
        List<Block> bs = new ArrayList<>();
        for (int i = 0; i < config.depth(); i++) {
            bs.add(new Block(backend, params, "blocks." + i, dim, config.numHeads(), config.mlpHidden(), factory));
        }
        this.blocks = Collections.unmodifiableList(bs);
        this.norm = new LayerNorm(backend, params, "norm", dim);
        this.head = new Linear(backend, params, "head", dim, config.numClasses());
        if (!pending.isEmpty()) {
            throw new IllegalArgumentException("no linear module named " + pending.keySet().iterator().next()
                    + " in the block linears of this ViT (e.g. blocks.0.attn.qkv)");
        }
        this.linears = Collections.unmodifiableMap(created);
        this.arena = params.build(backend);
        this.tokens = new GrowableBuffer(backend);
        this.clsRows = new GrowableBuffer(backend);
        this.dTokens = new GrowableBuffer(backend);
        this.dPatches = new GrowableBuffer(backend);
    }

    /** A dense ViT. */
    public VisionTransformer(Backend backend, ViTConfig config) {
        this(backend, config, Map.of());
    }

    public Backend backend() {
        return backend;
    }

    public ViTConfig config() {
        return config;
    }

    public ParameterArena arena() {
        return arena;
    }

    public List<Block> blocks() {
        return blocks;
    }

    /** The block linear modules (qkv, proj, fc1, fc2 of every block) by path, in model order. */
    public Map<String, LinearLayer> linears() {
        return linears;
    }

    /**
     * Forward pass: images [B, C, H, W] (already normalized) to logits [B, classes]. The logits
     * tensor belongs to the model and stays valid until the next forward.
     */
    public Tensor forward(Tensor images, int batch) {
        this.batch = batch;
        int t = config.tokens();
        int dim = config.embedDim();
        int np = config.numPatches();
        Tensor patches = patchEmbed.forward(images, batch);
        Tensor x = tokens.get((long) batch * t * dim);
        backend.assembleTokens(patches, clsToken.value(), posEmbed.value(), x, batch, np, dim);
        for (Block b : blocks) {
            x = b.forward(x, batch, t);
        }
        Tensor cls = clsRows.get((long) batch * dim);
        backend.copy2d(x, t * dim, cls, dim, batch, dim);
        return head.forward(norm.forward(cls, batch), batch);
    }

    /** Backward pass from dLogits [B, classes]; accumulates every parameter gradient. */
    public void backward(Tensor dLogits) {
        int t = config.tokens();
        int dim = config.embedDim();
        int np = config.numPatches();
        Tensor dCls = norm.backward(head.backward(dLogits));
        Tensor dx = dTokens.get((long) batch * t * dim);
        backend.fill(dx, 0f);
        backend.copy2d(dCls, dim, dx, t * dim, batch, dim);
        for (int i = blocks.size() - 1; i >= 0; i--) {
            dx = blocks.get(i).backward(dx);
        }
        Tensor dp = dPatches.get((long) batch * np * dim);
        backend.assembleTokensBackward(dx, dp, clsToken.grad(), posEmbed.grad(), batch, np, dim);
        patchEmbed.backward(dp);
    }

    /**
     * Multiply-accumulates for one image at the current ranks: patch embedding, every linear,
     * the two attention products per block, and the head (norms and activations not counted).
     */
    public long macsPerImage() {
        int t = config.tokens();
        long macs = patchEmbed.macsPerImage();
        for (LinearLayer l : linears.values()) {
            macs += t * l.macsPerRow();
        }
        for (Block b : blocks) {
            macs += b.attn().attentionMacs(t);
        }
        macs += head.macsPerRow();
        return macs;
    }

    public long parameterCount() {
        return arena.parameterCount();
    }
}
