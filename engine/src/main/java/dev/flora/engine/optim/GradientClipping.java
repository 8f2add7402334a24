package dev.flora.engine.optim;

import dev.flora.engine.nn.ParameterArena;

/** Global gradient-norm clipping over the whole gradient arena, as torch.nn.utils.clip_grad_norm_. */
public final class GradientClipping {
    private GradientClipping() {
    }

    /** Scales the gradients so their global L2 norm is at most {@code maxNorm}; returns the norm before. */
    public static double clip(ParameterArena arena, double maxNorm) {
        double norm = Math.sqrt(arena.backend().sumOfSquares(arena.grads(), arena.size()));
        if (maxNorm > 0 && norm > maxNorm) {
            arena.backend().scale(arena.grads(), (float) (maxNorm / (norm + 1e-6)), arena.size());
        }
        return norm;
    }
}
