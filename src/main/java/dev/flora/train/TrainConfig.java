package dev.flora.train;

import dev.flora.config.LoopSettings;

import dev.flora.config.Configs;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.flora.data.Datasets;
import dev.flora.engine.nn.ViTConfig;

/**
 * Everything that determines a pre-training run. Defaults are the recipe that trains the
 * bundled {@code vit-fmnist}; a YAML config file and command-line flags override them, in that
 * order (see {@link Configs}). YAML keys are the snake_case names below. With
 * {@code init_from} (a model file or bundled name) training starts from those weights, and the
 * architecture is that model's, instead of the {@code arch} preset.
 */
public record TrainConfig(
        @JsonProperty("data") String data,
        @JsonProperty("arch") String arch,
        @JsonProperty("embed_dim") Integer embedDim,
        @JsonProperty("depth") Integer depth,
        @JsonProperty("num_heads") Integer numHeads,
        @JsonProperty("patch_size") Integer patchSize,
        @JsonProperty("mlp_ratio") Double mlpRatio,
        @JsonProperty("epochs") int epochs,
        @JsonProperty("batch_size") int batchSize,
        @JsonProperty("lr") double lr,
        @JsonProperty("min_lr") double minLr,
        @JsonProperty("warmup_epochs") double warmupEpochs,
        @JsonProperty("weight_decay") double weightDecay,
        @JsonProperty("label_smoothing") double labelSmoothing,
        @JsonProperty("clip_grad") double clipGrad,
        @JsonProperty("crop_padding") int cropPadding,
        @JsonProperty("hflip") boolean hflip,
        @JsonProperty("seed") long seed,
        @JsonProperty("eval_batch_size") int evalBatchSize,
        @JsonProperty("train_limit") int trainLimit,
        @JsonProperty("init_from") String initFrom) {

    public static TrainConfig defaults() {
        return new TrainConfig(Datasets.DEBIAN_FMNIST, "vit-fmnist", null, null, null, null, null, 40, 128, 1e-3, 1e-5,
                1, 0.05, 0.1, 1.0, 2, true, 0, 256, 0, null);
    }

    /** Checks ranges; the message names the key. */
    public TrainConfig validated() {
        loop();
        LoopSettings.require(labelSmoothing >= 0 && labelSmoothing < 1, "label_smoothing must be in [0, 1), got "
                + labelSmoothing);
        LoopSettings.require(trainLimit >= 0, "train_limit must be >= 0 (0 means all), got " + trainLimit);
        model();
        return this;
    }

    /** The optimization settings of this run. */
    public LoopSettings loop() {
        return new LoopSettings(epochs, batchSize, lr, minLr, warmupEpochs, weightDecay, clipGrad, cropPadding, hflip,
                seed, evalBatchSize);
    }

    /** The architecture: the preset named by {@code arch} with any explicit overrides. */
    public ViTConfig model() {
        ViTConfig p = switch (arch) {
            case "vit-fmnist" -> ViTConfig.vitFmnist();
            case "deit-tiny" -> ViTConfig.deitTiny();
            case "deit-small" -> ViTConfig.deitSmall();
            case "deit-base" -> ViTConfig.deitBase();
            default -> throw new IllegalArgumentException("unknown arch '" + arch
                    + "' (expected vit-fmnist, deit-tiny, deit-small or deit-base)");
        };
        return new ViTConfig(p.imgSize(), patchSize != null ? patchSize : p.patchSize(), p.inChans(),
                embedDim != null ? embedDim : p.embedDim(), depth != null ? depth : p.depth(),
                numHeads != null ? numHeads : p.numHeads(), mlpRatio != null ? mlpRatio : p.mlpRatio(),
                p.numClasses(), p.inputMean(), p.inputStd());
    }
}
