package dev.flora.train;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.flora.data.Datasets;
import dev.flora.engine.nn.ViTConfig;

/**
 * Everything that determines a pre-training run. Defaults are the recipe that trains the
 * bundled {@code vit-fmnist}; a YAML config file and command-line flags override them, in that
 * order (see {@link Configs}). YAML keys are the snake_case names below.
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
        @JsonProperty("train_limit") int trainLimit) {

    public static TrainConfig defaults() {
        return new TrainConfig(Datasets.DEBIAN_FMNIST, "vit-fmnist", null, null, null, null, null, 40, 128, 1e-3, 1e-5,
                1, 0.05, 0.1, 1.0, 2, true, 0, 256, 0);
    }

    /** Checks ranges; the message names the key. */
    public TrainConfig validated() {
        require(epochs > 0, "epochs must be positive, got " + epochs);
        require(batchSize > 0, "batch_size must be positive, got " + batchSize);
        require(evalBatchSize > 0, "eval_batch_size must be positive, got " + evalBatchSize);
        require(lr > 0 && Double.isFinite(lr), "lr must be a positive number, got " + lr);
        require(minLr >= 0 && minLr <= lr, "min_lr must be in [0, lr], got " + minLr);
        require(warmupEpochs >= 0 && warmupEpochs <= epochs, "warmup_epochs must be in [0, epochs], got "
                + warmupEpochs);
        require(weightDecay >= 0, "weight_decay must be >= 0, got " + weightDecay);
        require(labelSmoothing >= 0 && labelSmoothing < 1, "label_smoothing must be in [0, 1), got " + labelSmoothing);
        require(clipGrad >= 0, "clip_grad must be >= 0 (0 disables clipping), got " + clipGrad);
        require(cropPadding >= 0, "crop_padding must be >= 0, got " + cropPadding);
        require(trainLimit >= 0, "train_limit must be >= 0 (0 means all), got " + trainLimit);
        model();
        return this;
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
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
