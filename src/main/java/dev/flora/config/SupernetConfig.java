package dev.flora.config;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import dev.flora.data.Datasets;
import dev.flora.engine.backend.Precision;
import dev.flora.models.ModelSource;

/**
 * Settings of supernet training ({@code flora supernet}): LRAT or SPOS from a dense checkpoint,
 * with in-place distillation. The search space is the {@code space} section's unless
 * {@code search_space} names a JSON file, such as the output of candidate filtering.
 */
public record SupernetConfig(
        @JsonPropertyDescription("Dense backbone: a model file or a bundled name.") String model,
        @JsonPropertyDescription("Training data: " + Datasets.SPEC_HELP + ".") String data,
        @JsonPropertyDescription("lrat or spos.") Method method,
        @JsonPropertyDescription("Initial factors: svd (of each weight, the paper's) or activation-aware (SVD of W·L, "
                + "L·Lᵀ the covariance of the layer's inputs on calibration images, as SVD-LLM).") SupernetInit init,
        @JsonPropertyDescription("Training images whose layer inputs the activation-aware init measures.")
        int calibrationImages,
        @JsonPropertyDescription("Search space JSON (e.g. from flora filter) or a bundled one "
                + "(vit-fmnist-filtered); empty for every tuple of the space section.") String searchSpace,
        @JsonPropertyDescription(TrainConfig.PRECISION_HELP) Precision precision,
        SpaceSettings space,
        DistillSettings distill,
        LoopSettings loop) {

    public SupernetConfig {
        Checks.require(init != null, "init must be one of " + SupernetInit.labels());
        Checks.require(precision != null, "precision must be fp32 or bf16");
        Checks.require(calibrationImages >= 1, "calibration_images must be at least 1, got " + calibrationImages);
    }

    public static SupernetConfig defaults() {
        return new SupernetConfig(ModelSource.DEFAULT, Datasets.DEBIAN_FMNIST, Method.LRAT, SupernetInit.SVD,
                SupernetInit.DEFAULT_CALIBRATION_IMAGES, null, Precision.FP32,
                SpaceSettings.defaults(), DistillSettings.defaults(), LoopSettings.supernetTraining());
    }

    /**
     * Fails unless this supernet trains in fp32: the pipelines ({@code pipeline} names one) run every
     * stage on one fp32 backend, so another precision would be ignored.
     */
    public void requireFp32In(String pipeline) {
        Checks.require(precision == Precision.FP32, "supernet.precision " + precision.label() + ": " + pipeline
                + " trains its supernets in fp32; train a bf16 supernet with flora supernet --precision bf16 and "
                + "search it with flora search");
    }

    /** This config on another backbone and data (the pipeline's top-level ones). */
    public SupernetConfig on(String model, String data) {
        return new SupernetConfig(model, data, method, init, calibrationImages, searchSpace, precision, space, distill,
                loop);
    }

    /** This config with another method, over {@code spaceFile} when it is not null. */
    public SupernetConfig with(Method method, String spaceFile) {
        return new SupernetConfig(model, data, method, init, calibrationImages,
                spaceFile != null ? spaceFile : searchSpace, precision, space, distill, loop);
    }
}
