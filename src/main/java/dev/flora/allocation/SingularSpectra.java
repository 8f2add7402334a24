package dev.flora.allocation;

import dev.flora.engine.linalg.LowRankFactors;
import dev.flora.engine.nn.Linear;
import dev.flora.engine.nn.LinearLayer;
import dev.flora.engine.nn.VisionTransformer;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The normalized singular values σᵢ/σ₁ of every block linear of a dense model (the spectra
 * LoRITa makes decay faster), and their mean over blocks per module type (attn.qkv, attn.proj,
 * mlp.fc1, mlp.fc2): every block's module of a type has the same shape.
 */
public final class SingularSpectra {
    private SingularSpectra() {
    }

    /** σᵢ/σ₁ of each block linear, by path in model order. */
    public static Map<String, double[]> normalized(VisionTransformer model) {
        Map<String, double[]> out = new LinkedHashMap<>();
        for (Map.Entry<String, LinearLayer> e : model.linears().entrySet()) {
            if (!(e.getValue() instanceof Linear l)) {
                throw new IllegalArgumentException(e.getKey() + " is not a dense linear layer (spectra need a dense "
                        + "model)");
            }
            float[] s = LowRankFactors.of(model.backend(), l.weight().value(), l.outFeatures(), l.inFeatures())
                    .singularValues();
            double[] r = new double[s.length];
            for (int i = 0; i < s.length; i++) {
                r[i] = s[0] > 0 ? s[i] / (double) s[0] : 0;
            }
            out.put(e.getKey(), r);
        }
        return out;
    }

    /** "blocks.3.mlp.fc1" → "mlp.fc1". */
    public static String moduleType(String path) {
        return path.replaceFirst("^blocks\\.\\d+\\.", "");
    }

    /** The mean of the normalized spectra of each module type over the blocks. */
    public static Map<String, double[]> meanByType(Map<String, double[]> byPath) {
        Map<String, double[]> sums = new LinkedHashMap<>();
        Map<String, Integer> counts = new LinkedHashMap<>();
        byPath.forEach((path, r) -> {
            String type = moduleType(path);
            double[] sum = sums.computeIfAbsent(type, t -> new double[r.length]);
            for (int i = 0; i < r.length; i++) {
                sum[i] += r[i];
            }
            counts.merge(type, 1, Integer::sum);
        });
        sums.forEach((type, sum) -> {
            for (int i = 0; i < sum.length; i++) {
                sum[i] /= counts.get(type);
            }
        });
        return sums;
    }
}
