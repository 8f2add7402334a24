package dev.flora.config;

/**
 * The optimization settings every training loop shares: epochs and batch size, AdamW with
 * per-step cosine schedule and warm-up, gradient clipping, augmentation and the seed.
 */
public record LoopSettings(int epochs, int batchSize, double lr, double minLr, double warmupEpochs,
                           double weightDecay, double clipGrad, int cropPadding, boolean hflip, long seed,
                           int evalBatchSize) {

    public LoopSettings {
        require(epochs > 0, "epochs must be positive, got " + epochs);
        require(batchSize > 0, "batch_size must be positive, got " + batchSize);
        require(evalBatchSize > 0, "eval_batch_size must be positive, got " + evalBatchSize);
        require(lr > 0 && Double.isFinite(lr), "lr must be a positive number, got " + lr);
        require(minLr >= 0 && minLr <= lr, "min_lr must be in [0, lr], got " + minLr);
        require(warmupEpochs >= 0 && warmupEpochs <= epochs, "warmup_epochs must be in [0, epochs], got "
                + warmupEpochs);
        require(weightDecay >= 0, "weight_decay must be >= 0, got " + weightDecay);
        require(clipGrad >= 0, "clip_grad must be >= 0 (0 disables clipping), got " + clipGrad);
        require(cropPadding >= 0, "crop_padding must be >= 0, got " + cropPadding);
    }

    public static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }
}
