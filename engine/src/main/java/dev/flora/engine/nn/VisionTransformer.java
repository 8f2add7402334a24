package dev.flora.engine.nn;

import dev.flora.engine.backend.Backend;
import dev.flora.engine.backend.Region;
import dev.flora.engine.tensor.Tensor;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A timm/DeiT Vision Transformer wired explicitly: patch embedding, class token and position
 * embedding, pre-norm blocks, final norm and a linear head on the class token; or, for a
 * distilled config, timm's {@code VisionTransformerDistilled} (a distillation token after the
 * class token, and the mean of {@code head} on the one and {@code head_dist} on the other,
 * {@link ClassifierHead}). Parameters use timm's names and live in one {@link ParameterArena}. Each block linear module is built as its
 * {@link LinearSpec} in {@code linearSpecs} says (dense when absent).
 *
 * <p>A backend may split a batch into lanes ({@link Backend#batchLanes}): each lane is a
 * replica of this model over the same weights that runs forward and backward on its slice of
 * the images, and the lanes' gradients are then added into this model's.
 *
 * <p>Since the head reads only the prefix tokens (class, and distillation), the final LayerNorm
 * runs on those rows alone; the result is identical to timm's, which normalizes every token and
 * then drops the rest. The last block goes further, in every pass: it computes the prefix rows
 * alone ({@link Block#forwardPrefixTokens}), and its backward back-propagates those rows alone,
 * which spares about two thirds of that block's multiply-adds. Logits and gradients are those of the
 * full block to rounding (GEMMs of one row sum in another order), not bit for bit; the rows
 * it skips do not reach the loss.
 */
public final class VisionTransformer {
    private final Backend backend;
    private final ViTConfig config;
    private final ParameterArena arena;
    private final PatchEmbed patchEmbed;
    private final TokenEmbedding embedding;
    private final List<Block> blocks;
    private final LayerNorm norm;
    private final ClassifierHead head;
    private final Map<String, LinearLayer> linears;
    private final Map<String, LinearSpec> specs;
    private final GrowableBuffer prefixRows;
    private final GrowableBuffer laneLogits;
    /** The lanes of split batches, created on first use; empty in a lane itself. */
    private final List<VisionTransformer> lanes = new ArrayList<>();
    /** Whether this model is a lane of another (lanes never split their batch again). */
    private final boolean isLane;
    /** Lanes the last full forward ran in, or 0 when it ran whole. */
    private int lanesInUse;
    /** Whether the last forward kept what a backward pass needs ({@link #infer} does not). */
    private boolean backwardReady;
    /** The blocks' activation buffers as {@link #infer} shares them. */
    private final GrowableBuffer.Shared inferenceBuffers = new GrowableBuffer.Shared(GrowableBuffer.Kind.ACTIVATION);
    /** The blocks' gradient buffers, shared by every backward pass. */
    private final GrowableBuffer.Shared gradientBuffers = new GrowableBuffer.Shared(GrowableBuffer.Kind.GRADIENT);
    private int batch;

    public VisionTransformer(Backend backend, ViTConfig config, Map<String, ? extends LinearSpec> linearSpecs) {
        this(backend, config, linearSpecs, null, false);
    }

    /** Builds the layers; binds them to {@code shared}'s weights when given, else to a new arena. */
    private VisionTransformer(Backend backend, ViTConfig config, Map<String, ? extends LinearSpec> linearSpecs,
                              ParameterArena shared, boolean isLane) {
        this.backend = backend;
        this.isLane = isLane;
        this.config = config;
        this.specs = Map.copyOf(linearSpecs);
        ParameterArena.Builder params = new ParameterArena.Builder();
        Map<String, LinearLayer> created = new LinkedHashMap<>();
        Map<String, LinearSpec> pending = new LinkedHashMap<>(linearSpecs);
        LinearFactory factory = (path, in, out) -> {
            LinearSpec spec = pending.remove(path);
            LinearLayer layer = (spec == null ? new LinearSpec.Dense() : spec).create(backend, params, path, in, out);
            created.put(path, layer);
            return layer;
        };
        int dim = config.embedDim();
        this.embedding = new TokenEmbedding(backend, params, config);
        this.patchEmbed = new PatchEmbed(backend, params, "patch_embed", config.imgSize(), config.patchSize(),
                config.inChans(), dim);
        List<Block> bs = new ArrayList<>();
        for (int i = 0; i < config.depth(); i++) {
            bs.add(new Block(backend, params, "blocks." + i, dim, config.numHeads(), config.mlpHidden(), factory));
        }
        this.blocks = Collections.unmodifiableList(bs);
        this.norm = new LayerNorm(backend, params, "norm", dim);
        this.head = new ClassifierHead(backend, params, config);
        if (!pending.isEmpty()) {
            throw new IllegalArgumentException("no linear module named " + pending.keySet().iterator().next()
                    + " in the block linears of this ViT (e.g. blocks.0.attn.qkv)");
        }
        this.linears = Collections.unmodifiableMap(created);
        this.arena = shared == null ? params.build(backend) : params.bindTo(shared);
        this.prefixRows = new GrowableBuffer(backend);
        this.laneLogits = new GrowableBuffer(backend);
    }

    /** A dense ViT. */
    public VisionTransformer(Backend backend, ViTConfig config) {
        this(backend, config, Map.of());
    }

    /**
     * A second instance over the same weights with its own activation buffers and ranks: one
     * per thread lets several threads run forward passes of one model at once.
     */
    public VisionTransformer replica() {
        VisionTransformer r = new VisionTransformer(backend, config, specs, arena, false);
        linears.forEach((path, l) -> {
            if (l instanceof RankedLinear ranked) {
                r.setRank(path, ranked.rank());
            }
        });
        return r;
    }

    /**
     * Where the backend runs inference only on weights it converts once and keeps (bf16 on the
     * CPU): converts them all now, by one inference of a blank image, and frees this model's fp32
     * copies of them ({@link ParameterArena#releaseCopiesTheBackendHolds}), so that each weight
     * is held once (nearly all of a ViT's parameters are in them). The model then runs
     * its current ranks only; training it, saving it, or setting another rank and running it
     * fails, saying why. Call it before {@link #replica}.
     *
     * @return the floats freed (0 on a backend that keeps no copies)
     */
    public long storeWeightsOnce() {
        if (!backend.inferenceOnly() || arena.inferenceOnly()) {
            return 0;
        }
        if (isLane || !lanes.isEmpty()) {
            throw new IllegalStateException("store the weights once before a batch is split into lanes");
        }
        Tensor blank = backend.allocate(config.imageSize());
        backend.whileCopyingWeightsToRelease(() -> infer(blank, 1));
        return arena.releaseCopiesTheBackendHolds();
    }

    /** Low-rank (weight-inheriting) modules at the given max ranks, the rest dense. */
    public static VisionTransformer withLowRank(Backend backend, ViTConfig config, Map<String, Integer> maxRanks) {
        Map<String, LinearSpec> specs = new LinkedHashMap<>();
        maxRanks.forEach((k, v) -> specs.put(k, new LinearSpec.LowRank(v)));
        return new VisionTransformer(backend, config, specs);
    }

    /** Sets the rank of a factorized module. */
    public void setRank(String path, int rank) {
        LinearLayer l = linears.get(path);
        if (!(l instanceof RankedLinear r)) {
            throw new IllegalArgumentException(path + " is not a factorized module of this model");
        }
        r.setRank(rank);
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
        return run(images, batch, true);
    }

    /**
     * The same logits as {@link #forward}, for inference only: the blocks share one set of
     * activation buffers, which keeps a batch's activations in cache, and no backward pass may
     * follow ({@link #backward} throws until the next {@link #forward}).
     */
    public Tensor infer(Tensor images, int batch) {
        return run(images, batch, false);
    }

    private Tensor run(Tensor images, int batch, boolean keepActivations) {
        int laneCount = isLane ? 1 : backend.batchLanes(batch);
        Tensor logits;
        if (laneCount > 1) {
            logits = forwardInLanes(images, batch, laneCount, keepActivations);
        } else if (keepActivations) {
            logits = forwardFrom(forwardTo(images, batch, 0), batch, 0);
        } else {
            GrowableBuffer.Shared previous = inferenceBuffers.enter();
            try {
                logits = forwardFrom(forwardTo(images, batch, 0), batch, 0);
            } finally {
                GrowableBuffer.Shared.exit(previous);
            }
        }
        this.backwardReady = keepActivations;
        return logits;
    }

    /** Each lane runs the whole forward on its images and leaves its logits in this model's buffer. */
    private Tensor forwardInLanes(Tensor images, int batch, int laneCount, boolean keepActivations) {
        while (lanes.size() < laneCount) {
            lanes.add(new VisionTransformer(backend, config, specs, arena, true));
        }
        linears.forEach((path, l) -> {
            if (l instanceof RankedLinear ranked) {
                for (int i = 0; i < laneCount; i++) {
                    lanes.get(i).setRank(path, ranked.rank());
                }
            }
        });
        int classes = config.numClasses();
        int imageSize = config.imageSize();
        Tensor logits = laneLogits.get((long) batch * classes);
        backend.runLanes(laneCount, i -> {
            int start = laneStart(batch, laneCount, i);
            int n = laneStart(batch, laneCount, i + 1) - start;
            Tensor y = lanes.get(i).run(images.view((long) start * imageSize, n * imageSize), n, keepActivations);
            backend.copy(y, logits.view((long) start * classes, n * classes));
        });
        this.batch = batch;
        this.lanesInUse = laneCount;
        return logits;
    }

    /**
     * The images of each lane a model on {@code backend} splits a batch of {@code batch} into
     * (one entry when it runs whole): what each lane's layers see, which a per-layer timing must
     * reproduce.
     */
    public static int[] laneImages(Backend backend, int batch) {
        int n = backend.batchLanes(batch);
        int[] images = new int[n];
        for (int i = 0; i < n; i++) {
            images[i] = laneStart(batch, n, i + 1) - laneStart(batch, n, i);
        }
        return images;
    }

    /** The lanes made so far (a test's window). */
    List<VisionTransformer> lanes() {
        return List.copyOf(lanes);
    }

    /** First image of lane {@code lane} of {@code laneCount} near-equal lanes over the batch. */
    private static int laneStart(int batch, int laneCount, int lane) {
        return (int) ((long) batch * lane / laneCount);
    }

    /**
     * The tokens [B, T, C] entering block {@code block} (0 = right after the embeddings). The
     * tensor belongs to the model; copy it to keep it across forward calls.
     */
    public Tensor forwardTo(Tensor images, int batch, int block) {
        checkBlock(block);
        this.batch = batch;
        this.lanesInUse = 0;
        this.backwardReady = false;
        int t = config.tokens();
        Tensor x = embedding.forward(patchEmbed.forward(images, batch), batch);
        for (int i = 0; i < block; i++) {
            x = blocks.get(i).forward(x, batch, t);
        }
        return x;
    }

    /**
     * Logits from the tokens entering block {@code block}: the rest of the blocks, the final norm
     * and the head. With {@link #forwardTo} this lets many variants of the later blocks share one
     * computation of the earlier ones. Only a full {@link #forward} prepares a backward pass.
     */
    public Tensor forwardFrom(Tensor x, int batch, int block) {
        checkBlock(block);
        this.batch = batch;
        this.lanesInUse = 0;
        this.backwardReady = false;
        int t = config.tokens();
        int dim = config.embedDim();
        int prefix = config.prefixTokens();
        int last = blocks.size() - 1;
        for (int i = block; i < last; i++) {
            x = blocks.get(i).forward(x, batch, t);
        }
        Tensor lead;
        if (block <= last) {
            lead = blocks.get(last).forwardPrefixTokens(x, batch, t, prefix);
        } else { // no block left to run: x holds every token
            lead = prefixRows.get((long) batch * prefix * dim);
            backend.copy2d(x, t * dim, lead, prefix * dim, batch, prefix * dim);
        }
        return head.forward(norm.forward(lead, batch * prefix), batch);
    }

    private void checkBlock(int block) {
        if (block < 0 || block > blocks.size()) {
            throw new IllegalArgumentException("block " + block + " outside [0, " + blocks.size() + "]");
        }
    }

    /** Backward pass from dLogits [B, classes]; accumulates every parameter gradient. */
    public void backward(Tensor dLogits) {
        if (!backwardReady) {
            throw new IllegalStateException("backward needs the activations of a forward() pass; the last pass was "
                    + "infer(), forwardTo() or forwardFrom(), or there was none");
        }
        if (lanesInUse > 1) {
            backwardInLanes(dLogits);
            return;
        }
        Tensor dLead = norm.backward(head.backward(dLogits));
        GrowableBuffer.Shared previous = gradientBuffers.enter();
        Tensor dx;
        try {
            // the last block (depth is at least 1) ran on the prefix rows and takes their gradient
            int last = blocks.size() - 1;
            dx = blocks.get(last).backward(dLead);
            for (int i = last - 1; i >= 0; i--) {
                dx = blocks.get(i).backward(dx);
            }
        } finally {
            GrowableBuffer.Shared.exit(previous);
        }
        patchEmbed.backward(embedding.backward(dx));
    }

    /**
     * Each lane back-propagates its slice of dLogits into gradients of its own (a lane's first
     * backward gives it its block), then all are added into this model's, lane by lane, and
     * cleared for the next step.
     */
    private void backwardInLanes(Tensor dLogits) {
        int laneCount = lanesInUse;
        int classes = config.numClasses();
        List<Tensor> laneGrads = new ArrayList<>(laneCount);
        for (int i = 0; i < laneCount; i++) {
            VisionTransformer lane = lanes.get(i);
            if (lane.arena.grads() == arena.grads()) {
                lane.arena.detachGradients();
            }
            laneGrads.add(lane.arena.grads());
        }
        backend.runLanes(laneCount, i -> {
            int start = laneStart(batch, laneCount, i);
            int n = laneStart(batch, laneCount, i + 1) - start;
            lanes.get(i).backward(dLogits.view((long) start * classes, n * classes));
        });
        backend.addAndClear(arena.grads(), laneGrads, arena.size());
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
        macs += head.macsPerImage();
        return macs;
    }

    /**
     * Multiply-accumulates this model's forward pass performs per image, which is less than
     * {@link #macsPerImage}: the last block runs on the prefix tokens only (the head reads
     * nothing else), so of its layers only qkv sees every token (keys and values), and its
     * attention products have one query row per prefix token. A rank cut in the last block's proj or MLP
     * lowers {@link #macsPerImage}, the field's FLOPs, by T times what it saves here; time
     * follows this count.
     */
    public long executedMacsPerImage() {
        int t = config.tokens();
        int prefix = config.prefixTokens();
        long macs = patchEmbed.macsPerImage() + head.macsPerImage();
        for (int i = 0; i < blocks.size(); i++) {
            Block b = blocks.get(i);
            boolean last = i == blocks.size() - 1;
            int rows = last ? prefix : t;
            macs += (long) t * b.attn().qkv().macsPerRow();
            macs += last ? b.attn().prefixAttentionMacs(t, prefix) : b.attn().attentionMacs(t);
            macs += rows * (b.attn().proj().macsPerRow() + b.mlp().fc1().macsPerRow() + b.mlp().fc2().macsPerRow());
        }
        return macs;
    }

    /**
     * The parts of the arena the current architecture trains: everything, except that a
     * factorized module at rank r contributes only VT[:r, :] and U[:, :r] (and a choice block
     * only its active choice). An optimizer that updates just these leaves the weights of unused
     * ranks exactly as they were. Regions are in arena order, adjacent whole parameters merged.
     */
    public List<Region> trainableRegions() {
        java.util.Set<String> handled = new java.util.HashSet<>();
        List<Region> regions = new ArrayList<>();
        for (LinearLayer l : linears.values()) {
            if (l instanceof LowRankLinear lr) {
                regions.addAll(activeRegions(lr));
                handled.add(lr.vt().name());
                handled.add(lr.u().name());
                handled.add(lr.bias().name());
            } else if (l instanceof ChoiceLinear c) {
                for (LowRankLinear choice : c.choices()) {
                    handled.add(choice.vt().name());
                    handled.add(choice.u().name());
                    handled.add(choice.bias().name());
                }
                regions.addAll(activeRegions(c.activeChoice()));
            }
        }
        for (Param p : arena.params()) {
            if (!handled.contains(p.name())) {
                regions.add(Region.run(p.offset(), p.numel(), p.decay()));
            }
        }
        regions.sort(java.util.Comparator.comparingLong(Region::offset));
        return merge(regions);
    }

    private static List<Region> activeRegions(LowRankLinear l) {
        int r = l.rank();
        return List.of(new Region(l.vt().offset(), r, l.inFeatures(), l.inFeatures(), l.vt().decay()),
                new Region(l.u().offset(), l.outFeatures(), r, l.maxRank(), l.u().decay()),
                Region.run(l.bias().offset(), l.bias().numel(), l.bias().decay()));
    }

    /** Joins contiguous regions of the same decay that touch or are separated only by alignment padding. */
    private static List<Region> merge(List<Region> sorted) {
        List<Region> out = new ArrayList<>();
        for (Region r : sorted) {
            Region flat = r.contiguous() ? new Region(r.offset(), 1, Math.toIntExact(r.length()),
                    Math.toIntExact(r.length()), r.decay()) : r;
            if (!out.isEmpty()) {
                Region last = out.get(out.size() - 1);
                long gap = flat.offset() - (last.offset() + last.length());
                if (last.rows() == 1 && flat.rows() == 1 && last.decay() == flat.decay() && gap >= 0
                        && gap < ParameterArena.ALIGN) {
                    int len = Math.toIntExact(flat.offset() + flat.length() - last.offset());
                    out.set(out.size() - 1, new Region(last.offset(), 1, len, len, last.decay()));
                    continue;
                }
            }
            out.add(flat);
        }
        return out;
    }

    public long parameterCount() {
        return arena.parameterCount();
    }
}
