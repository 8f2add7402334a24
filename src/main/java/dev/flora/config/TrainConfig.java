package dev.flora.config;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import dev.flora.data.Datasets;
import dev.flora.engine.backend.Precision;
import dev.flora.engine.nn.ViTConfig;

/**
 * Everything that determines a pre-training run ({@code flora pretrain}). Defaults are the recipe
 * that trains the bundled {@code vit-fmnist}. With {@code init_from} (a model file or bundled
 * name) training starts from those weights, and the architecture is that model's.
 */
public record TrainConfig(
        @JsonPropertyDescription("Training data: " + Datasets.SPEC_HELP + ".") String data,
        @JsonPropertyDescription("Architecture preset: vit-fmnist, deit-tiny, deit-small or deit-base.")
        ArchPreset arch,
        ShapeOverrides shape,
        @JsonPropertyDescription("Start from this dense model's weights (and architecture) instead of a random "
                + "initialization.") String initFrom,
        @JsonPropertyDescription(PRECISION_HELP) Precision precision,
        LoopSettings loop,
        @JsonPropertyDescription("LoRITa: train every block linear as a product of this many factors (2 or 3) with "
                + "weight decay, merged into a dense model when saved; 0 = off.") int lorita) {

    /** What the {@code precision} key of the training stages means (its flag is {@code --precision}). */
    public static final String PRECISION_HELP = "Number format of the linear layers' products in forward and "
            + "backward: fp32, or bf16 with fp32 accumulation (weights, gradients and optimizer state stay fp32; on the "
            + "CPU bf16 needs AVX512-BF16, else fp32 runs and says why; tf32 on a GPU). Saved with the run, so a "
            + "resumed run keeps it.";

    public TrainConfig {
        Checks.require(precision != null, "precision must be fp32 or bf16");
        Checks.require(lorita == 0 || lorita == 2 || lorita == 3, "lorita must be 0 (off), 2 or 3, got " + lorita);
        Checks.require(lorita == 0 || initFrom == null, "lorita trains factors from a random initialization; "
                + "it cannot start from init_from " + initFrom);
    }

    public static TrainConfig defaults() {
        return new TrainConfig(Datasets.DEBIAN_FMNIST, ArchPreset.VIT_FMNIST, ShapeOverrides.none(), null,
                Precision.FP32, LoopSettings.pretraining(), 0);
    }

    /** The architecture: the preset with the shape overrides. */
    public ViTConfig model() {
        return shape.applyTo(arch.config());
    }
}
