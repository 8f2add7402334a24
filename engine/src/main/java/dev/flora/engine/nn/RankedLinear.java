package dev.flora.engine.nn;

/** A factorized linear layer whose rank can be chosen per forward pass. */
public interface RankedLinear extends LinearLayer {
    /** The ranks this layer can take. */
    boolean supportsRank(int r);

    /** The rank of the next forward pass. */
    void setRank(int r);

    int rank();

    /** The largest rank it can take. */
    int maxRank();
}
