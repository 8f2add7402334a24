package dev.flora.config;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import dev.flora.models.ModelSource;

/**
 * Settings of {@code flora latency-table}: which model and search space to time, at which
 * serving batch, how long to repeat each timing, and how many random subnets calibrate the
 * predictor's fixed overhead and then check it.
 */
public record LatencyTableConfig(
        @JsonPropertyDescription("Model: a file, a bundled name or a preset (deit-small; weights do not change "
                + "the time).") String model,
        @JsonPropertyDescription("Serving batch: images per forward.") int batch,
        @JsonPropertyDescription("Search space JSON or a bundled one (vit-fmnist-filtered); empty for every tuple of "
                + "the space section.") String searchSpace,
        SpaceSettings space,
        @JsonPropertyDescription("Random subnets measured end to end to calibrate the fixed overhead.")
        int calibration,
        @JsonPropertyDescription("Further random subnets measured against the prediction (0: none); their errors go "
                + "into the table.") int check,
        @JsonPropertyDescription("Most seconds timing one module at one rank.") double moduleSeconds,
        @JsonPropertyDescription("Most seconds timing one whole model (at least 3 timed runs).") double modelSeconds,
        @JsonPropertyDescription("Seconds of untimed dense forwards first, while the JIT compiles the engine.")
        double warmupSeconds,
        @JsonPropertyDescription("Which quantile of a timing's samples is its figure: low, so that the seconds in "
                + "which other work on the machine slows every call do not move it (0.5: the median).") double quantile,
        @JsonPropertyDescription("Passes each timing's samples are spread over, interleaved over every module (and "
                + "over a group of models), so that each figure has samples from the whole loop.") int rounds,
        @JsonPropertyDescription("Seed of the random subnets.") long seed) {

    public LatencyTableConfig {
        Checks.require(batch > 0, "batch must be positive, got " + batch);
        Checks.require(calibration >= 0, "calibration must be >= 0, got " + calibration);
        Checks.require(check >= 0, "check must be >= 0, got " + check);
        Checks.require(moduleSeconds > 0 && modelSeconds > 0, "module_seconds and model_seconds must be positive");
        Checks.require(warmupSeconds >= 0, "warmup_seconds must be >= 0, got " + warmupSeconds);
        Checks.require(quantile >= 0 && quantile <= 1, "quantile must be in [0, 1], got " + quantile);
        Checks.require(rounds >= 1, "rounds must be at least 1, got " + rounds);
    }

    public static LatencyTableConfig defaults() {
        return new LatencyTableConfig(ModelSource.DEFAULT, 1, null, SpaceSettings.defaults(), 5, 0, 0.5, 3.0, 5.0, 0.1, 50,
                0);
    }
}
