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
        @JsonPropertyDescription("Search space JSON (e.g. from flora filter) or a bundled one "
                + "(vit-fmnist-filtered); empty for every tuple of the space section.") String searchSpace,
        SpaceSettings space,
        DistillSettings distill,
        LoopSettings loop) {

    public static SupernetConfig defaults() {
        return new SupernetConfig(ModelSource.DEFAULT, Datasets.DEBIAN_FMNIST, Method.LRAT, null,
                SpaceSettings.defaults(), DistillSettings.defaults(), LoopSettings.supernetTraining());
    }

    /** This config on another backbone and data (the pipeline's top-level ones). */
    public SupernetConfig on(String model, String data) {
        return new SupernetConfig(model, data, method, searchSpace, space, distill, loop);
    }

    /** This config with another method, over {@code spaceFile} when it is not null. */
    public SupernetConfig with(Method method, String spaceFile) {
        return new SupernetConfig(model, data, method, spaceFile != null ? spaceFile : searchSpace, space, distill,
                loop);
    }
}
