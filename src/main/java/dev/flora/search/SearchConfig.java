package dev.flora.search;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.flora.data.Datasets;
import dev.flora.config.LoopSettings;

/**
 * Settings of the evolutionary search; defaults are the FLORA reference's (population 50,
 * top 10, 25 mutations with p = 0.2 per block, 25 crossovers, 20 generations). FLOPs bounds
 * are fractions of the dense model (0.5, 50%) or counts (31.5M). Fitness is top-1 on the
 * validation split (the first {@code val_limit} images of it when set), never the test set.
 */
public record SearchConfig(
        @JsonProperty("supernet") String supernet,
        @JsonProperty("data") String data,
        @JsonProperty("population") int population,
        @JsonProperty("top_k") int topK,
        @JsonProperty("mutations") int mutations,
        @JsonProperty("mutation_prob") double mutationProb,
        @JsonProperty("crossovers") int crossovers,
        @JsonProperty("generations") int generations,
        @JsonProperty("min_flops") String minFlops,
        @JsonProperty("max_flops") String maxFlops,
        @JsonProperty("seed") long seed,
        @JsonProperty("eval_batch_size") int evalBatchSize,
        @JsonProperty("val_limit") int valLimit) {

    public static SearchConfig defaults() {
        return new SearchConfig(null, Datasets.DEBIAN_FMNIST, 50, 10, 25, 0.2, 25, 20, "0.45", "0.5", 0, 256, 0);
    }

    public EvolutionarySearch.Settings settings() {
        return new EvolutionarySearch.Settings(population, topK, mutations, mutationProb, crossovers, generations, seed);
    }

    public SearchConfig validated() {
        settings();
        LoopSettings.require(evalBatchSize > 0, "eval_batch_size must be positive, got " + evalBatchSize);
        LoopSettings.require(valLimit >= 0, "val_limit must be >= 0 (0 means all), got " + valLimit);
        LoopSettings.require(supernet != null, "supernet is required (a file written by flora supernet)");
        return this;
    }

    public SearchConfig withSupernet(String path) {
        return new SearchConfig(path, data, population, topK, mutations, mutationProb, crossovers, generations, minFlops,
                maxFlops, seed, evalBatchSize, valLimit);
    }
}
