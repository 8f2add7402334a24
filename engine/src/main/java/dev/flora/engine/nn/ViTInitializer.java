package dev.flora.engine.nn;

import dev.flora.engine.backend.Backend;
import java.util.Random;

/**
 * timm's default ViT initialization, seeded: linear weights (dense and factorized) and the
 * position embedding from a normal(0, 0.02) truncated at two standard deviations, the class
 * token normal(0, 1e-6), the factors of a LoRITa layer ({@link FactoredLinear}) each normal at
 * the scale that gives their product the dense layer's standard deviation, the conv patch projection as PyTorch's conv default
 * (uniform ±1/sqrt(fan_in), bias too), LayerNorm weight 1 and bias 0, other biases 0.
 */
public final class ViTInitializer {
    private static final double STD = 0.02;
    /** Standard deviation of a unit normal truncated at ±2, which a truncated fill actually has. */
    private static final double TRUNCATED_STD = 0.8796;

    private ViTInitializer() {
    }

    public static void initialize(VisionTransformer model, long seed) {
        ParameterArena arena = model.arena();
        Backend backend = arena.backend();
        Random rng = new Random(seed);
        java.util.Map<String, Double> factorStd = new java.util.HashMap<>();
        for (LinearLayer l : model.linears().values()) {
            if (l instanceof FactoredLinear f) {
                // matched on the truncated fills' actual deviations: the product then has the dense layer's
                double std = FactoredLinear.factorStd(STD * TRUNCATED_STD, f.inner(), f.depth()) / TRUNCATED_STD;
                for (int i = 0; i < f.depth(); i++) {
                    factorStd.put(f.factor(i).name(), std);
                }
            }
        }
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
            } else if (factorStd.containsKey(name)) {
                double std = factorStd.get(name);
                fillNormal(v, rng, std, 2 * std);
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
