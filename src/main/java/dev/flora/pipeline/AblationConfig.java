package dev.flora.pipeline;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.flora.data.Datasets;
import dev.flora.filter.FilterConfig;
import dev.flora.models.ModelSource;
import dev.flora.search.SearchConfig;
import dev.flora.supernet.SupernetConfig;
import java.util.List;

/**
 * The ablation of paper figures 4 and 5: four supernets at one training budget (SPOS, SPOS
 * with filtering, LRAT, LRAT with filtering), each searched at every FLOPs target (the window
 * [target − window, target] of the dense FLOPs), plus the uniform-rank curve. The sections
 * take the keys of {@code flora filter}, {@code flora supernet} and {@code flora search};
 * {@code model} and {@code data} apply to all of them.
 */
public record AblationConfig(
        @JsonProperty("model") String model,
        @JsonProperty("data") String data,
        @JsonProperty("targets") List<Double> targets,
        @JsonProperty("window") double window,
        @JsonProperty("filter") FilterConfig filter,
        @JsonProperty("supernet") SupernetConfig supernet,
        @JsonProperty("search") SearchConfig search) {

    /** The top-level model and data are the sections' model and data. */
    public AblationConfig {
        if (filter != null && supernet != null && search != null) {
            CompressConfig c = new CompressConfig(model, data, true, true, filter, supernet, search);
            filter = c.filter();
            supernet = c.supernet();
            search = c.search();
        }
    }

    public static AblationConfig defaults() {
        CompressConfig c = CompressConfig.defaults();
        return new AblationConfig(ModelSource.DEFAULT, Datasets.DEBIAN_FMNIST, List.of(0.4, 0.5, 0.6), 0.05,
                c.filter(), c.supernet(), c.search());
    }

    /** The same stages expressed as a compress config (model and data propagated to the sections). */
    CompressConfig asCompress() {
        return new CompressConfig(model, data, true, true, filter, supernet, search);
    }

    AblationConfig validated() {
        if (targets == null || targets.isEmpty()) {
            throw new IllegalArgumentException("targets: give at least one FLOPs target (fractions of dense)");
        }
        for (double t : targets) {
            if (!(t > window && t <= 1)) {
                throw new IllegalArgumentException("target " + t + " must be in (window, 1] with window " + window);
            }
        }
        if (!(window > 0)) {
            throw new IllegalArgumentException("window must be positive, got " + window);
        }
        return this;
    }
}
