package dev.flora.allocation;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flora.engine.io.AtomicFiles;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;

/**
 * What {@code flora allocate} did, written beside the model as {@link #JSON} and {@link #MARKDOWN}.
 * Ranks are the exact integers chosen, not snapped to the search space's ratio grid: the cost
 * model and the export take any rank.
 *
 * @param flopsFraction the exported model's FLOPs over the dense model's, as {@code flora eval} counts them
 * @param valTop1 validation top-1 in [0, 1] after the fine-tune, null without one
 */
public record AllocationReport(@JsonProperty("method") String method, @JsonProperty("source_model") String sourceModel,
                               @JsonProperty("target") double target,
                               @JsonProperty("flops_fraction") double flopsFraction, @JsonProperty("flops") long flops,
                               @JsonProperty("dense_flops") long denseFlops,
                               @JsonProperty("threshold_name") String thresholdName,
                               @JsonProperty("threshold") double threshold,
                               @JsonProperty("ranks") Map<String, Integer> ranks,
                               @JsonProperty("calibration_images") int calibrationImages,
                               @JsonProperty("finetune_epochs") int finetuneEpochs,
                               @JsonProperty("finetune_val_top1") Double valTop1,
                               @JsonProperty("allocation_seconds") double allocationSeconds,
                               @JsonProperty("finetune_seconds") double finetuneSeconds,
                               @JsonProperty("total_seconds") double totalSeconds,
                               @JsonProperty("model") String model) {
    public static final String JSON = "allocation.json";
    public static final String MARKDOWN = "summary.md";
    private static final ObjectMapper MAPPER = new ObjectMapper();

    public static AllocationReport read(Path dir) {
        try {
            return MAPPER.readValue(dir.resolve(JSON).toFile(), AllocationReport.class);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("cannot read " + dir.resolve(JSON) + ": " + e.getMessage(), e);
        }
    }

    public void write(Path dir) {
        try {
            AtomicFiles.writeString(dir.resolve(JSON), MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(this)
                    + "\n");
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        AtomicFiles.writeString(dir.resolve(MARKDOWN), markdown());
    }

    public String markdown() {
        StringBuilder md = new StringBuilder();
        md.append("# Allocation: ").append(method).append("\n\n");
        md.append(String.format(Locale.ROOT, "- source model: `%s`%n", sourceModel));
        md.append(String.format(Locale.ROOT, "- FLOPs: %,d of %,d (%.2f %% of dense; target %.2f %%)%n", flops,
                denseFlops, 100 * flopsFraction, 100 * target));
        md.append(String.format(Locale.ROOT, "- %s found: %.6f%n", thresholdName, threshold));
        md.append(String.format(Locale.ROOT, "- calibration images: %d%n", calibrationImages));
        md.append(String.format(Locale.ROOT, "- fine-tune: %d epochs%s%n", finetuneEpochs, valTop1 == null ? ""
                : String.format(Locale.ROOT, ", validation top-1 after it %.2f %%", 100 * valTop1)));
        md.append(String.format(Locale.ROOT, "- wall time: %.1f s (allocation and export %.1f s, fine-tune %.1f s)%n",
                totalSeconds, allocationSeconds, finetuneSeconds));
        md.append("- ranks are exact integers, not snapped to the search space's ratio grid\n");
        md.append(String.format(Locale.ROOT, "- model: `%s`%n%n", model));
        md.append("| module | rank |\n| --- | ---: |\n");
        ranks.forEach((path, r) -> md.append("| ").append(path).append(" | ").append(r).append(" |\n"));
        return md.toString();
    }
}
