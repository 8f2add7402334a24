package dev.flora.engine.backend;

import dev.flora.engine.tensor.Tensor;

/**
 * What one linear layer's inference forward multiplies, handed to an op that runs two layers
 * at once ({@link Backend#mlpForward}): y = x · Wᵀ + b with W [out, in], or the factorized
 * y = (x · VT[:r]ᵀ) · U[:, :r]ᵀ + b with VT [R, in] and U [out, R].
 */
public sealed interface LinearProduct {
    int in();

    int out();

    Tensor bias();

    record Dense(Tensor w, Tensor bias, int in, int out) implements LinearProduct {
    }

    record LowRank(Tensor vt, Tensor u, Tensor bias, int in, int out, int rank, int maxRank)
            implements LinearProduct {
    }
}
