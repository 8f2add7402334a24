package dev.flora.engine.backend;

import dev.flora.engine.tensor.Tensor;

/**
 * A layer normalization handed to an op that runs it with what follows
 * ({@link Backend#mlpForward}, {@link Backend#selfAttentionForward}): y = (x − mean) / √(var +
 * eps) · γ + β over each row, γ and β [cols].
 */
public record LayerNormWeights(Tensor gamma, Tensor beta, float eps) {
}
