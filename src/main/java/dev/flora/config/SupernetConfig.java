package dev.flora.config;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import dev.flora.data.Datasets;
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
        SpaceSettings space,
        DistillSettings distill,
        LoopSettings loop) {

    public SupernetConfig {
        Checks.require(init != null, "init must be one of " + SupernetInit.labels());
        Checks.require(calibrationImages >= 1, "calibration_images must be at least 1, got " + calibrationImages);
    }

    public static SupernetConfig defaults() {
        return new SupernetConfig(ModelSource.DEFAULT, Datasets.DEBIAN_FMNIST, Method.LRAT, SupernetInit.SVD,
                SupernetInit.DEFAULT_CALIBRATION_IMAGES, null,
                SpaceSettings.defaults(), DistillSettings.defaults(), LoopSettings.supernetTraining());
    }

    /** This config on another backbone and data (the pipeline's top-level ones). */
    public SupernetConfig on(String model, String data) {
        return new SupernetConfig(model, data, method, init, calibrationImages, searchSpace, space, distill, loop);
    }

    /** This config with another method, over {@code spaceFile} when it is not null. */
    public SupernetConfig with(Method method, String spaceFile) {
        return new SupernetConfig(model, data, method, init, calibrationImages,
                spaceFile != null ? spaceFile : searchSpace, space, distill, loop);
    }
}
