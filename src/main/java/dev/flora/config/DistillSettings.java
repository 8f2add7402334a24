package dev.flora.config;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/**
 * The {@code distill} section: in-place distillation from the dense teacher. The loss is
 * weight × soft-target cross-entropy against the teacher + (1 − weight) × label cross-entropy.
 */
public record DistillSettings(
        @JsonPropertyDescription("Weight of the distillation loss; the rest goes to the labels.") double weight) {

    public DistillSettings {
        Checks.fraction(weight, "distill.weight");
    }

    public static DistillSettings defaults() {
        return new DistillSettings(1.0);
    }
}
