package dev.flora.engine.nn;

import dev.flora.engine.backend.Backend;
import java.util.Random;

/**
 * timm's default ViT initialization, seeded: linear weights (dense and factorized) and the
 * position embedding from a normal(0, 0.02) truncated at two standard deviations, the class
 * token normal(0, 1e-6), the conv patch projection as PyTorch's conv default
 * (uniform ±1/sqrt(fan_in), bias too), LayerNorm weight 1 and bias 0, other biases 0.
 */
public final class ViTInitializer {
    private static final double STD = 0.02;

    private ViTInitializer() {
    }

    public static void initialize(VisionTransformer model, long seed) {
        ParameterArena arena = model.arena();
        Backend backend = arena.backend();
        Random rng = new Random(seed);
        for (Param p : arena.params()) {
            float[] v = new float[Math.toIntExact(p.numel())];
            String name = p.name();
            if (name.equals("cls_token")) {
                fillNormal(v, rng, 1e-6, Double.POSITIVE_INFINITY);
            } else if (name.startsWith("patch_embed.proj.")) {
                int[] s = model.arena().get("patch_embed.proj.weight").shape();
                double bound = 1.0 / Math.sqrt((double) s[1] * s[2] * s[3]);
                for (int i = 0; i < v.length; i++) {
                    v[i] = (float) ((rng.nextDouble() * 2 - 1) * bound);
                }
            } else if (isNorm(name)) {
                java.util.Arrays.fill(v, name.endsWith(".weight") ? 1f : 0f);
            } else if (name.endsWith("bias")) {
                java.util.Arrays.fill(v, 0f);
            } else {
                fillNormal(v, rng, STD, 2 * STD);
            }
            backend.upload(v, 0, p.value());
        }
    }

    private static boolean isNorm(String name) {
        return name.startsWith("norm.") || name.contains(".norm1.") || name.contains(".norm2.");
    }

    private static void fillNormal(float[] v, Random rng, double std, double clip) {
        for (int i = 0; i < v.length; i++) {
            double x;
            do {
                x = rng.nextGaussian() * std;
            } while (Math.abs(x) > clip);
            v[i] = (float) x;
        }
    }
}
