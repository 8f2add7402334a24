package dev.flora.train;

import dev.flora.engine.backend.LossResult;
import dev.flora.engine.nn.VisionTransformer;
import dev.flora.engine.tensor.Tensor;
import dev.flora.models.ModelInput;
import java.util.LinkedHashMap;

/**
 * What a {@link TrainingLoop} trains: the model whose arena the optimizer updates, the loss of
 * one batch (forward and backward; the loop has zeroed the gradients), and the validation
 * figures logged after each epoch.
 */
public interface TrainingTask {
    VisionTransformer model();

    /** The model's input: the preprocessing that training batches go through, and its class names. */
    ModelInput input();

    /**
     * Forward and backward of one batch already on the device; accumulates parameter
     * gradients and returns the loss that is reported and checked for divergence.
     *
     * @param step the global optimizer step, for tasks that draw per-step randomness
     */
    LossResult step(Tensor images, int[] labels, int n, long step);

    /** Validation figures after an epoch, in column order (e.g. val_loss, val_top1 in percent). */
    LinkedHashMap<String, Double> validate();
}
