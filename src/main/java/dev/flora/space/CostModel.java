package dev.flora.space;

import dev.flora.engine.nn.ViTConfig;
import java.util.Locale;
import java.util.Map;

/**
 * FLOPs (multiply-accumulates, the field's convention) and parameter counts of architectures
 * in a search space, without building a model. A factorized module of rank r costs
 * N·min(in·out, r·(in+out)): where the factors would cost more than the dense matrix, the
 * exported model keeps the dense product, so rank ratio 1.0 means the dense module.
 */
public final class CostModel {
    private final SearchSpace space;

    public CostModel(SearchSpace space) {
        this.space = space;
    }

    /** Multiply-accumulates of the dense model per image. */
    public static long denseMacs(ViTConfig c) {
        long t = c.tokens();
        long d = c.embedDim();
        long h = c.mlpHidden();
        long patch = (long) c.numPatches() * c.inChans() * c.patchSize() * c.patchSize() * d;
        long perBlock = t * d * 3 * d + t * d * d + 2 * t * d * h + 2 * t * t * d;
        return patch + c.depth() * perBlock + d * c.numClasses();
    }

    /**
     * {@link #denseMacs} less what the engine's forward pass skips: its last block runs proj,
     * MLP and the attention products for the class token only ({@code VisionTransformer#executedMacsPerImage}).
     */
    public static long denseExecutedMacs(ViTConfig c) {
        long t = c.tokens();
        long d = c.embedDim();
        long h = c.mlpHidden();
        return denseMacs(c) - (t - 1) * (d * d + 2 * d * h + 2 * t * d);
    }

    /** Parameters of the dense model (weights and biases, tokens, norms). */
    public static long denseParams(ViTConfig c) {
        long d = c.embedDim();
        long h = c.mlpHidden();
        long patch = (long) c.inChans() * c.patchSize() * c.patchSize() * d + d;
        long tokens = d + (long) c.tokens() * d;
        long perBlock = 4 * d + (d * 3 * d + 3 * d) + (d * d + d) + (d * h + h) + (h * d + d);
        return patch + tokens + c.depth() * perBlock + 2 * d + d * c.numClasses() + c.numClasses();
    }

    /** Multiply-accumulates of one dense block per image: its four linears and the two attention products. */
    public static long denseBlockMacs(ViTConfig c) {
        long t = c.tokens();
        long d = c.embedDim();
        return t * d * 3 * d + t * d * d + 2 * t * d * c.mlpHidden() + 2 * t * t * d;
    }

    /** Multiply-accumulates of one block per image with its targets at ratio indices {@code tuple}. */
    public long blockMacs(int[] tuple) {
        long macs = denseBlockMacs(space.config());
        for (int t = 0; t < tuple.length; t++) {
            macs += (long) space.config().tokens() * delta(t, space.rank(t, tuple[t]));
        }
        return macs;
    }

    /** Cost of one weight matrix at rank r: the cheaper of the factors and the dense matrix. */
    public static long factorizedWeights(int in, int out, int rank) {
        return Math.min((long) in * out, (long) rank * (in + out));
    }

    public long macs(Candidate c) {
        return macs(space.ranks(c));
    }

    public long params(Candidate c) {
        return params(space.ranks(c));
    }

    /** Multiply-accumulates per image with the target modules at {@code ranks} (path to rank). */
    public long macs(Map<String, Integer> ranks) {
        long macs = denseMacs(space.config());
        for (var e : ranks.entrySet()) {
            int t = space.targetOf(e.getKey());
            macs += (long) space.config().tokens() * delta(t, e.getValue());
        }
        return macs;
    }

    public long params(Map<String, Integer> ranks) {
        long params = denseParams(space.config());
        for (var e : ranks.entrySet()) {
            params += delta(space.targetOf(e.getKey()), e.getValue());
        }
        return params;
    }

    /** Weights saved (negative) by target t at rank r, against its dense matrix. */
    private long delta(int t, int rank) {
        int in = space.inFeatures(t);
        int out = space.outFeatures(t);
        return factorizedWeights(in, out, rank) - (long) in * out;
    }

    /** FLOPs of {@code c} as a fraction of the dense model's. */
    public double flopsFraction(Candidate c) {
        return macs(c) / (double) denseMacs(space.config());
    }

    /**
     * The uniform-rank architecture (one ratio for every target module, any rank, not only the
     * grid's) with the most FLOPs not above {@code macs}.
     *
     * @throws IllegalArgumentException when even the smallest (rank 1 everywhere) costs more
     */
    public Map<String, Integer> uniformAtMost(long macs) {
        Map<String, Integer> smallest = space.uniformRanks(1e-9);
        if (macs(smallest) > macs) {
            throw new IllegalArgumentException(String.format(Locale.ROOT, "no uniform-rank subnet has at most %,d "
                    + "FLOPs: the smallest has %,d (%.1f %% of dense)", macs, macs(smallest),
                    100.0 * macs(smallest) / denseMacs(space.config())));
        }
        return space.uniformAtMost(this::macs, macs);
    }
}
