package dev.flora.engine.nn;

/**
 * What a linear module of the ViT is: dense, factorized with weight inheritance across ranks
 * (FLORA's supernet), or factorized with independent weights per rank choice (the SPOS
 * baseline of the paper's ablation).
 */
public sealed interface LinearSpec {

    /** A plain dense layer. */
    record Dense() implements LinearSpec {
    }

    /** One pair of factors at rank {@code maxRank}; every rank r ≤ maxRank uses their leading slices. */
    record LowRank(int maxRank) implements LinearSpec {
        public LowRank {
            if (maxRank < 1) {
                throw new IllegalArgumentException("max rank must be at least 1, got " + maxRank);
            }
        }
    }

    /** A separate pair of factors for each rank in {@code ranks}, nothing shared between them. */
    record IndependentRanks(int[] ranks) implements LinearSpec {
        public IndependentRanks {
            if (ranks.length == 0) {
                throw new IllegalArgumentException("need at least one rank choice");
            }
            ranks = ranks.clone();
        }

        @Override
        public int[] ranks() {
            return ranks.clone();
        }
    }

    /** Builds the layer this spec describes. */
    default LinearLayer create(dev.flora.engine.backend.Backend backend, ParameterArena.Builder params, String path,
                               int in, int out) {
        if (this instanceof LowRank l) {
            return new LowRankLinear(backend, params, path, in, out, l.maxRank());
        }
        if (this instanceof IndependentRanks c) {
            return new ChoiceLinear(backend, params, path, in, out, c.ranks());
        }
        return new Linear(backend, params, path, in, out);
    }
}
