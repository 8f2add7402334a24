package dev.flora.pipeline;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.flora.data.Datasets;
import dev.flora.filter.FilterConfig;
import dev.flora.models.ModelSource;
import dev.flora.search.SearchConfig;
import dev.flora.supernet.SupernetConfig;

/**
 * The whole FLORA pipeline from a dense checkpoint: supernet training, evolutionary search,
 * export and report. {@code model} and {@code data} apply to every stage (they replace the
 * sections' own model and data); the {@code supernet}
 * and {@code search} sections take the keys of {@code flora supernet} and {@code flora search}.
 * With {@code compare_spos}, an SPOS supernet is trained at the same budget and searched the
 * same way, and the report compares the two fronts. With {@code run_filter}, candidate
 * filtering ({@code filter} section) runs first and the supernets use the filtered space.
 */
public record CompressConfig(
        @JsonProperty("model") String model,
        @JsonProperty("data") String data,
        @JsonProperty("compare_spos") boolean compareSpos,
        @JsonProperty("run_filter") boolean runFilter,
        @JsonProperty("filter") FilterConfig filter,
        @JsonProperty("supernet") SupernetConfig supernet,
        @JsonProperty("search") SearchConfig search) {

    /** The top-level model and data are the stages' model and data (nested values are replaced). */
    public CompressConfig {
        if (supernet != null) {
            supernet = withModelData(supernet, model, data);
        }
        if (filter != null) {
            FilterConfig f = filter;
            filter = new FilterConfig(model, data, f.includeProj(), f.ratios(), f.proxyFraction(), f.scoreFraction(),
                    f.lambda(), f.topK(), f.distillWeight(), f.epochs(), f.batchSize(), f.lr(), f.minLr(),
                    f.warmupEpochs(), f.weightDecay(), f.clipGrad(), f.cropPadding(), f.hflip(), f.seed(),
                    f.evalBatchSize());
        }
        if (search != null) {
            search = new SearchConfig(search.supernet(), data, search.population(), search.topK(),
                    search.mutations(), search.mutationProb(), search.crossovers(), search.generations(),
                    search.minFlops(), search.maxFlops(), search.seed(), search.evalBatchSize(), search.valLimit());
        }
    }

    private static SupernetConfig withModelData(SupernetConfig s, String model, String data) {
        return new SupernetConfig(model, data, s.method(), s.searchSpace(), s.includeProj(), s.ratios(),
                s.distillWeight(), s.labelSmoothing(), s.epochs(), s.batchSize(), s.lr(), s.minLr(), s.warmupEpochs(),
                s.weightDecay(), s.clipGrad(), s.cropPadding(), s.hflip(), s.seed(), s.evalBatchSize(), s.trainLimit());
    }

    public static CompressConfig defaults() {
        return new CompressConfig(ModelSource.DEFAULT, Datasets.DEBIAN_FMNIST, false, false, FilterConfig.defaults(),
                SupernetConfig.defaults(), SearchConfig.defaults());
    }

    /** The settings of {@code flora demo}: bundled backbone and data, a budget of minutes on two cores. */
    public static CompressConfig demo() {
        SupernetConfig s = SupernetConfig.defaults();
        SearchConfig q = SearchConfig.defaults();
        return new CompressConfig(ModelSource.DEFAULT, Datasets.BUNDLED_FMNIST, true, false, FilterConfig.defaults(),
                new SupernetConfig(s.model(), s.data(), s.method(), s.searchSpace(), s.includeProj(), s.ratios(),
                        s.distillWeight(), s.labelSmoothing(), 4, 64, s.lr(), s.minLr(), 0.5, s.weightDecay(),
                        s.clipGrad(), s.cropPadding(), s.hflip(), s.seed(), s.evalBatchSize(), 0),
                new SearchConfig(q.supernet(), q.data(), 20, 5, 8, q.mutationProb(), 8, 6, q.minFlops(), q.maxFlops(),
                        q.seed(), q.evalBatchSize(), 0));
    }

    /** The supernet stage's config for {@code method}, over {@code space} (a filtered space file) if not null. */
    public SupernetConfig supernetFor(String method, String space) {
        SupernetConfig s = supernet;
        return new SupernetConfig(model, data, method, space != null ? space : s.searchSpace(), s.includeProj(),
                s.ratios(), s.distillWeight(),
                s.labelSmoothing(), s.epochs(), s.batchSize(), s.lr(), s.minLr(), s.warmupEpochs(), s.weightDecay(),
                s.clipGrad(), s.cropPadding(), s.hflip(), s.seed(), s.evalBatchSize(), s.trainLimit());
    }

    /** The search stage's config over the supernet at {@code path}. */
    public SearchConfig searchFor(String path) {
        SearchConfig q = search;
        return new SearchConfig(path, data, q.population(), q.topK(), q.mutations(), q.mutationProb(), q.crossovers(),
                q.generations(), q.minFlops(), q.maxFlops(), q.seed(), q.evalBatchSize(), q.valLimit());
    }
}
