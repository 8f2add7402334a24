package dev.flora.engine.nn;

import static dev.flora.engine.reference.Compare.toDouble;
import static dev.flora.engine.reference.Compare.toFloat;

import dev.flora.engine.backend.Backend;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/** Helpers shared by model-level tests: random parameters, tiny configs. */
public final class ModelTestSupport {
    private ModelTestSupport() {
    }

    /** A 2-block ViT small enough for exhaustive finite differences. */
    public static ViTConfig tinyConfig() {
        return new ViTConfig(8, 4, 2, 8, 2, 2, 2.0, 3, new double[] {0.5, 0.5}, new double[] {0.25, 0.25});
    }

    /**
     * Gives every parameter random values of a size that makes every path of the network matter
     * (LayerNorm weights around 1), uploads them as float, and returns the exact float values
     * as doubles for the reference.
     */
    public static Map<String, double[]> randomize(VisionTransformer model, Random rng, double scale) {
        Backend backend = model.backend();
        Map<String, double[]> out = new LinkedHashMap<>();
        for (Param p : model.arena().params()) {
            double[] v = new double[Math.toIntExact(p.numel())];
            boolean normWeight = p.name().endsWith("norm1.weight") || p.name().endsWith("norm2.weight")
                    || p.name().equals("norm.weight");
            for (int i = 0; i < v.length; i++) {
                v[i] = (normWeight ? 1 : 0) + (rng.nextDouble() * 2 - 1) * scale;
            }
            float[] f = toFloat(v);
            backend.upload(f, 0, p.value());
            out.put(p.name(), toDouble(f));
        }
        return out;
    }
}
