package dev.flora.config;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import dev.flora.data.Datasets;
import java.util.Locale;

/**
 * Settings of the evolutionary search ({@code flora search}). FLOPs bounds are fractions of the
 * dense model (0.5, 50%) or counts (31.5M). A latency budget, in milliseconds per forward at
 * the batch its latency table was measured at, bounds the search beside them (to bound by
 * latency alone, widen the FLOPs bounds to 0 and 1). Fitness ({@link FitnessSignal}: minus the
 * validation loss by default, which ranked subnets by test top-1 best in {@code flora
 * fitness-check}; or top-1, the paper's; or minus the KL divergence from the dense teacher) is computed on the validation split
 * (the first {@code val_limit} images of it when set), never the test set.
 */
public record SearchConfig(
        @JsonPropertyDescription("A supernet.safetensors from flora supernet.") String supernet,
        @JsonPropertyDescription("Data whose validation split scores subnets.") String data,
        @JsonPropertyDescription("Lower FLOPs bound: a fraction of the dense model (0.45, 45%) or a count (28M).")
        String minFlops,
        @JsonPropertyDescription("Upper FLOPs bound, in the same forms.") String maxFlops,
        @JsonPropertyDescription("Latency budget: most milliseconds per forward at the latency table's batch, as "
                + "the table predicts them; needs latency_table.") Double latencyMs,
        @JsonPropertyDescription("A latency table from flora latency-table, measured on this machine and backend; "
                + "alone, it adds predicted and measured latency to the report.") String latencyTable,
        @JsonPropertyDescription("Batch size for scoring.") int evalBatchSize,
        @JsonPropertyDescription("Score on the first N validation images, 0 for all.") int valLimit,
        @JsonPropertyDescription("What subnets are ranked by: loss (minus the mean cross-entropy; the default, "
                + "which ranked subnets by test top-1 best), top1 (validation top-1, the paper's) or kl (minus the "
                + "mean KL divergence from the largest subnet's outputs).")
        FitnessSignal fitness,
        EvolutionSettings evolution) {

    public SearchConfig {
        Checks.require(evalBatchSize > 0, "eval_batch_size must be positive, got " + evalBatchSize);
        Checks.require(fitness != null, "fitness must be one of " + FitnessSignal.labels());
        Checks.require(valLimit >= 0, "val_limit must be >= 0 (0 means all), got " + valLimit);
        Checks.require(latencyMs == null || latencyMs > 0, "latency_ms must be positive, got " + latencyMs);
        Checks.require(latencyMs == null || latencyTable != null,
                "latency_ms needs latency_table (a table from flora latency-table)");
    }

    public static SearchConfig defaults() {
        return new SearchConfig(null, Datasets.DEBIAN_FMNIST, "0.45", "0.5", null, null, 256, 0,
                FitnessSignal.LOSS, EvolutionSettings.reference());
    }

    /** Checks what the defaults leave open: the supernet to search. */
    public SearchConfig validated() {
        Checks.require(supernet != null, "supernet is required (a file written by flora supernet)");
        return this;
    }

    /** This search over the supernet at {@code path}, scored on {@code data}. */
    public SearchConfig over(String path, String data) {
        return new SearchConfig(path, data, minFlops, maxFlops, latencyMs, latencyTable, evalBatchSize, valLimit,
                fitness, evolution);
    }

    /** This search within [lo, hi] of the dense FLOPs. */
    public SearchConfig within(double lo, double hi) {
        return new SearchConfig(supernet, data, String.format(Locale.ROOT, "%.4f", lo),
                String.format(Locale.ROOT, "%.4f", hi), latencyMs, latencyTable, evalBatchSize, valLimit, fitness,
                evolution);
    }
}
