package dev.flora.engine.nn;

/**
 * What a linear module of the ViT is: dense, factorized with weight inheritance across ranks
 * (FLORA's supernet), or factorized with independent weights per rank choice (the SPOS
 * baseline of the paper's ablation), or a dense layer trained as a product of factors (LoRITa).
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

    /** A dense layer trained as the product of {@code depth} factors (LoRITa), see {@link FactoredLinear}. */
    record Factored(int depth) implements LinearSpec {
        public Factored {
            if (depth < 2) {
                throw new IllegalArgumentException("a factored linear needs at least 2 factors, got " + depth);
            }
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
        if (this instanceof Factored f) {
            return new FactoredLinear(backend, params, path, in, out, f.depth());
        }
        return new Linear(backend, params, path, in, out);
    }
}
