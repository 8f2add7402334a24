package dev.flora.filter;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.flora.data.Datasets;
import dev.flora.models.ModelSource;
import dev.flora.supernet.SupernetConfig;
import dev.flora.config.LoopSettings;

/**
 * Settings of low-rank aware candidate filtering (paper section 4.2). For each block, a local
 * supernet (only that block factorized) trains with LRAT on {@code proxy_fraction} of the
 * training split for {@code epochs}; every tuple of the block is scored on
 * {@code score_fraction} of the validation split by M = λ·P − F (P: top-1 in points, F: the
 * block's FLOPs in percent of its dense FLOPs), and the {@code top_k} best plus the dense tuple
 * are kept.
 */
public record FilterConfig(
        @JsonProperty("model") String model,
        @JsonProperty("data") String data,
        @JsonProperty("include_proj") boolean includeProj,
        @JsonProperty("ratios") double[] ratios,
        @JsonProperty("proxy_fraction") double proxyFraction,
        @JsonProperty("score_fraction") double scoreFraction,
        @JsonProperty("lambda") double lambda,
        @JsonProperty("top_k") int topK,
        @JsonProperty("distill_weight") double distillWeight,
        @JsonProperty("epochs") int epochs,
        @JsonProperty("batch_size") int batchSize,
        @JsonProperty("lr") double lr,
        @JsonProperty("min_lr") double minLr,
        @JsonProperty("warmup_epochs") double warmupEpochs,
        @JsonProperty("weight_decay") double weightDecay,
        @JsonProperty("clip_grad") double clipGrad,
        @JsonProperty("crop_padding") int cropPadding,
        @JsonProperty("hflip") boolean hflip,
        @JsonProperty("seed") long seed,
        @JsonProperty("eval_batch_size") int evalBatchSize) {

    public static FilterConfig defaults() {
        return new FilterConfig(ModelSource.DEFAULT, Datasets.DEBIAN_FMNIST, false, null, 0.35, 0.5, 10, 25, 1.0, 1, 128,
                1e-4, 1e-6, 0.1, 0.01, 1.0, 2, true, 0, 256);
    }

    public FilterConfig validated() {
        LoopSettings.require(proxyFraction > 0 && proxyFraction <= 1, "proxy_fraction must be in (0, 1], got "
                + proxyFraction);
        LoopSettings.require(scoreFraction > 0 && scoreFraction <= 1, "score_fraction must be in (0, 1], got "
                + scoreFraction);
        LoopSettings.require(lambda >= 0, "lambda must be >= 0, got " + lambda);
        LoopSettings.require(topK > 0, "top_k must be positive, got " + topK);
        LoopSettings.require(distillWeight >= 0 && distillWeight <= 1, "distill_weight must be in [0, 1], got "
                + distillWeight);
        if (ratios != null) {
            for (double r : ratios) {
                LoopSettings.require(r > 0 && r <= 1, "rank ratio " + r + " is outside (0, 1]");
            }
        }
        loop();
        return this;
    }

    public LoopSettings loop() {
        return new LoopSettings(epochs, batchSize, lr, minLr, warmupEpochs, weightDecay, clipGrad, cropPadding, hflip,
                seed, evalBatchSize);
    }

    /** The local supernets' training settings, in the form supernet training takes them. */
    SupernetConfig supernetConfig() {
        return new SupernetConfig(model, data, "lrat", null, includeProj, ratios, distillWeight, 0.1, epochs,
                batchSize, lr, minLr, warmupEpochs, weightDecay, clipGrad, cropPadding, hflip, seed, evalBatchSize, 0);
    }
}
