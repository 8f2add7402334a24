package dev.flora.allocation;

import dev.flora.config.SupernetInit;
import dev.flora.data.Datasets;

/**
 * Everything that determines one {@code flora allocate} run; the defaults are declared here once
 * and the command's flags read them.
 *
 * @param target the subnet's FLOPs as a fraction of the dense model's, in (0, 1]
 * @param calibrationImages training images whose layer inputs the calibrated methods measure
 * @param finetuneEpochs epochs of fine-tuning the fixed subnet, 0 for none (the same for every method)
 */
public record AllocationSettings(AllocationMethod method, String model, double target, String data,
                                 int calibrationImages, int finetuneEpochs) {
    public static final String DEFAULT_DATA = Datasets.BUNDLED_FMNIST;
    /** As many as the activation-aware supernet initialization takes. */
    public static final int DEFAULT_CALIBRATION_IMAGES = SupernetInit.DEFAULT_CALIBRATION_IMAGES;
    public static final int DEFAULT_FINETUNE_EPOCHS = 0;

    public AllocationSettings {
        if (!(target > 0 && target <= 1)) {
            throw new IllegalArgumentException("--target " + target + ": expected a fraction of the dense model's FLOPs "
                    + "in (0, 1]");
        }
        if (calibrationImages < 1) {
            throw new IllegalArgumentException("--calibration-images must be at least 1, got " + calibrationImages);
        }
        if (finetuneEpochs < 0) {
            throw new IllegalArgumentException("--finetune-epochs must be >= 0, got " + finetuneEpochs);
        }
    }
}
