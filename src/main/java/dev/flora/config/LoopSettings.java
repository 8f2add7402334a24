package dev.flora.config;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/**
 * The {@code loop} section every training stage shares: epochs and batch size, AdamW with a
 * per-step cosine schedule and linear warm-up, gradient clipping, label smoothing, augmentation,
 * the seed and data limits. Each stage's defaults are one of the presets below; a setting added
 * here reaches every stage, its YAML key, its flag and its help.
 */
public record LoopSettings(
        @JsonPropertyDescription("Epochs.") int epochs,
        @JsonPropertyDescription("Batch size.") int batchSize,
        @JsonPropertyDescription("Peak learning rate.") double lr,
        @JsonPropertyDescription("Final learning rate of the cosine.") double minLr,
        @JsonPropertyDescription("Linear warm-up length in epochs.") double warmupEpochs,
        @JsonPropertyDescription("AdamW weight decay on weight matrices.") double weightDecay,
        @JsonPropertyDescription("AdamW decay of the second-moment average (beta2), in (0, 1).") double adamBeta2,
        @JsonPropertyDescription("Max global gradient norm, 0 to disable.") double clipGrad,
        @JsonPropertyDescription("Label smoothing of the label loss, in [0, 1).") double labelSmoothing,
        @JsonPropertyDescription("Random-crop padding in pixels, 0 to disable.") int cropPadding,
        @JsonPropertyDescription("Random horizontal flips.") boolean hflip,
        @JsonPropertyDescription("Seed of initialization, shuffling, augmentation and sampling.") long seed,
        @JsonPropertyDescription("Batch size for validation.") int evalBatchSize,
        @JsonPropertyDescription("Use only the first N training images, 0 for all.") int trainLimit) {

    public LoopSettings {
        Checks.require(epochs > 0, "epochs must be positive, got " + epochs);
        Checks.require(batchSize > 0, "batch_size must be positive, got " + batchSize);
        Checks.require(evalBatchSize > 0, "eval_batch_size must be positive, got " + evalBatchSize);
        Checks.require(lr > 0 && Double.isFinite(lr), "lr must be a positive number, got " + lr);
        Checks.require(minLr >= 0 && minLr <= lr, "min_lr must be in [0, lr], got " + minLr);
        Checks.require(warmupEpochs >= 0 && warmupEpochs <= epochs, "warmup_epochs must be in [0, epochs], got "
                + warmupEpochs);
        Checks.require(weightDecay >= 0, "weight_decay must be >= 0, got " + weightDecay);
        Checks.require(adamBeta2 > 0 && adamBeta2 < 1, "adam_beta2 must be in (0, 1), got " + adamBeta2);
        Checks.require(clipGrad >= 0, "clip_grad must be >= 0 (0 disables clipping), got " + clipGrad);
        Checks.require(labelSmoothing >= 0 && labelSmoothing < 1, "label_smoothing must be in [0, 1), got "
                + labelSmoothing);
        Checks.require(cropPadding >= 0, "crop_padding must be >= 0, got " + cropPadding);
        Checks.require(trainLimit >= 0, "train_limit must be >= 0 (0 means all), got " + trainLimit);
    }

    /** Pre-training from scratch: the recipe that trains the bundled {@code vit-fmnist}. */
    public static LoopSettings pretraining() {
        return new LoopSettings(40, 128, 1e-3, 1e-5, 1, 0.05, 0.999, 1.0, 0.1, 2, true, 0, 256, 0);
    }

    /** Supernet training from an SVD-initialized dense model: a tenth of the learning rate, less decay. */
    public static LoopSettings supernetTraining() {
        return new LoopSettings(10, 128, 1e-4, 1e-6, 1, 0.01, 0.999, 1.0, 0.1, 2, true, 0, 256, 0);
    }

    /**
     * A short fine-tune of a fixed subnet (the allocation baselines): the supernet's learning rate
     * and decay, a tenth of an epoch of warm-up; {@code epochs} is each caller's budget.
     */
    public static LoopSettings fineTuning(int epochs) {
        return new LoopSettings(epochs, 128, 1e-4, 1e-6, 0.1, 0.01, 0.999, 1.0, 0.1, 2, true, 0, 256,
                0);
    }

    /** The local supernets of candidate filtering: one short epoch on the proxy set. */
    public static LoopSettings localSupernets() {
        return new LoopSettings(1, 128, 1e-4, 1e-6, 0.1, 0.01, 0.999, 1.0, 0.1, 2, true, 0, 256, 0);
    }
}
