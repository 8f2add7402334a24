package dev.flora.train;

import dev.flora.engine.backend.Backend;
import dev.flora.engine.nn.FactoredLinear;
import dev.flora.engine.nn.Linear;
import dev.flora.engine.nn.LinearLayer;
import dev.flora.engine.nn.LinearSpec;
import dev.flora.engine.nn.Param;
import dev.flora.engine.nn.ViTConfig;
import dev.flora.engine.nn.VisionTransformer;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * LoRITa pre-training ({@code lorita: N}): every block linear (qkv, proj, fc1, fc2, FLORA's
 * search targets) trained as a product of N factors, and the trained model merged back into an
 * ordinary dense ViT for everything downstream.
 */
public final class Lorita {
    /** The metadata key of a model file that records the factor count it was trained with. */
    public static final String METADATA_KEY = "flora.lorita";

    private Lorita() {
    }

    /** A factored spec of depth {@code depth} for every block linear of {@code arch}. */
    public static Map<String, LinearSpec> specs(ViTConfig arch, int depth) {
        Map<String, LinearSpec> specs = new LinkedHashMap<>();
        for (int i = 0; i < arch.depth(); i++) {
            for (String m : new String[] {"attn.qkv", "attn.proj", "mlp.fc1", "mlp.fc2"}) {
                specs.put("blocks." + i + "." + m, new LinearSpec.Factored(depth));
            }
        }
        return specs;
    }

    /** A dense ViT with the same function: factored layers' weights are their factors' products, the rest copied. */
    public static VisionTransformer merged(VisionTransformer factored) {
        Backend backend = factored.backend();
        VisionTransformer dense = new VisionTransformer(backend, factored.config());
        Map<String, LinearLayer> layers = factored.linears();
        for (Param p : dense.arena().params()) {
            if (factored.arena().contains(p.name())) {
                backend.copy(factored.arena().get(p.name()).value(), p.value());
            }
        }
        for (Map.Entry<String, LinearLayer> e : dense.linears().entrySet()) {
            if (layers.get(e.getKey()) instanceof FactoredLinear f) {
                backend.copy(f.mergedWeight(), ((Linear) e.getValue()).weight().value());
            }
        }
        return dense;
    }
}
