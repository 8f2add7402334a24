package dev.flora.supernet;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.flora.data.Datasets;
import dev.flora.models.ModelSource;
import dev.flora.config.LoopSettings;

/**
 * Settings of supernet training (LRAT or SPOS) from a dense checkpoint. The search space is the
 * default one (qkv, fc1, fc2 at the seven default ratios; {@code include_proj} adds attn.proj,
 * {@code ratios} replaces the ratios) unless {@code search_space} names a JSON file, such as the
 * output of candidate filtering. Loss: {@code distill_weight} × soft-target cross-entropy
 * against the dense teacher + (1 − distill_weight) × label cross-entropy.
 */
public record SupernetConfig(
        @JsonProperty("model") String model,
        @JsonProperty("data") String data,
        @JsonProperty("method") String method,
        @JsonProperty("search_space") String searchSpace,
        @JsonProperty("include_proj") boolean includeProj,
        @JsonProperty("ratios") double[] ratios,
        @JsonProperty("distill_weight") double distillWeight,
        @JsonProperty("label_smoothing") double labelSmoothing,
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
        @JsonProperty("eval_batch_size") int evalBatchSize,
        @JsonProperty("train_limit") int trainLimit) {

    public static SupernetConfig defaults() {
        return new SupernetConfig(ModelSource.DEFAULT, Datasets.DEBIAN_FMNIST, "lrat", null, false, null, 1.0, 0.1, 10,
                128, 1e-4, 1e-6, 1, 0.01, 1.0, 2, true, 0, 256, 0);
    }

    public LoopSettings loop() {
        return new LoopSettings(epochs, batchSize, lr, minLr, warmupEpochs, weightDecay, clipGrad, cropPadding, hflip,
                seed, evalBatchSize);
    }

    public SupernetConfig validated() {
        loop();
        Method.parse(method);
        LoopSettings.require(distillWeight >= 0 && distillWeight <= 1, "distill_weight must be in [0, 1], got "
                + distillWeight);
        LoopSettings.require(labelSmoothing >= 0 && labelSmoothing < 1, "label_smoothing must be in [0, 1), got "
                + labelSmoothing);
        LoopSettings.require(trainLimit >= 0, "train_limit must be >= 0 (0 means all), got " + trainLimit);
        if (ratios != null) {
            for (double r : ratios) {
                LoopSettings.require(r > 0 && r <= 1, "rank ratio " + r + " is outside (0, 1]");
            }
        }
        return this;
    }
}
