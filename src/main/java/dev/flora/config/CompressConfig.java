package dev.flora.config;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import dev.flora.data.Datasets;
import dev.flora.models.ModelSource;

/**
 * The whole FLORA pipeline from a dense checkpoint ({@code flora compress}, {@code flora demo}):
 * supernet training, evolutionary search, export and report. {@code model} and {@code data} apply
 * to every stage (they replace the sections' own); the {@code filter}, {@code supernet} and
 * {@code search} sections take the keys of {@code flora filter}, {@code flora supernet} and
 * {@code flora search}.
 */
public record CompressConfig(
        @JsonPropertyDescription("Dense backbone: a model file or a bundled name.") String model,
        @JsonPropertyDescription("Data: " + Datasets.SPEC_HELP + ".") String data,
        @JsonPropertyDescription("Also train and search an SPOS supernet at the same budget, for the LRAT vs SPOS "
                + "fronts.") boolean compareSpos,
        @JsonPropertyDescription("Run candidate filtering first and search the filtered space.") boolean runFilter,
        @JsonPropertyDescription("Rank allocations of the dense model that need no supernet, exported and scored at "
                + "the searched subnet's FLOPs beside it: comma-separated methods of flora allocate ("
                + "uniform, svd-energy, activation-aware, greedy, global-threshold); empty for none.")
        String allocations,
        @JsonPropertyDescription("Training images whose layer inputs the calibrated allocations measure.")
        int calibrationImages,
        FilterConfig filter,
        SupernetConfig supernet,
        SearchConfig search) {

    /** The top-level model and data are the stages' model and data. */
    public CompressConfig {
        allocations = allocations == null ? "" : allocations;
        Checks.require(calibrationImages >= 1, "calibration_images must be at least 1, got " + calibrationImages);
        filter = filter == null ? null : filter.on(model, data);
        supernet = supernet == null ? null : supernet.on(model, data);
        if (supernet != null) {
            supernet.requireFp32In("compress");
        }
        search = search == null ? null : search.over(search.supernet(), data);
    }

    public static CompressConfig defaults() {
        return new CompressConfig(ModelSource.DEFAULT, Datasets.DEBIAN_FMNIST, false, false, "",
                SupernetInit.DEFAULT_CALIBRATION_IMAGES, FilterConfig.defaults(),
                SupernetConfig.defaults(), SearchConfig.defaults());
    }

    /** The settings of {@code flora demo}: the defaults overlaid by {@code demo.yaml} (bundled data, minutes). */
    public static CompressConfig demo() {
        return Configs.merge(CompressConfig.class, defaults(), "demo.yaml",
                Configs.readLayer(CompressConfig.class.getResource("demo.yaml")));
    }

    /** The supernet stage's config for {@code method}, over {@code spaceFile} (a filtered space) if not null. */
    public SupernetConfig supernetFor(Method method, String spaceFile) {
        return supernet.with(method, spaceFile);
    }

    /** The search stage's config over the supernet at {@code path}. */
    public SearchConfig searchFor(String path) {
        return search.over(path, data);
    }
}
