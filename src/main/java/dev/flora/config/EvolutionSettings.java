package dev.flora.config;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/**
 * The {@code evolution} section: the knobs of the evolutionary search. Defaults are the FLORA
 * reference's (population 50, top 10, 25 mutations with p = 0.2 per block, 25 crossovers,
 * 20 generations).
 */
public record EvolutionSettings(
        @JsonPropertyDescription("Population per generation.") int population,
        @JsonPropertyDescription("Parents kept for mutation and crossover.") int topK,
        @JsonPropertyDescription("Mutated children per generation.") int mutations,
        @JsonPropertyDescription("Probability of re-drawing each block in a mutation.") double mutationProb,
        @JsonPropertyDescription("Crossover children per generation.") int crossovers,
        @JsonPropertyDescription("Generations.") int generations,
        @JsonPropertyDescription("Seed of the search.") long seed) {

    public EvolutionSettings {
        Checks.require(population > 0, "population must be positive, got " + population);
        Checks.require(topK > 0, "top_k must be positive, got " + topK);
        // the parents are the best of the population, so there are never more of them than that
        Checks.require(topK <= population, "top_k (" + topK + ") must not exceed the population (" + population + ")");
        Checks.require(crossovers == 0 || topK >= 2, "crossovers need at least two parents: top_k must be at least 2 "
                + "when crossovers is " + crossovers + ", got " + topK);
        Checks.require(mutations >= 0 && crossovers >= 0 && mutations + crossovers <= population,
                "mutations + crossovers must be within the population (" + population + ")");
        Checks.fraction(mutationProb, "mutation_prob");
        Checks.require(generations > 0, "generations must be positive, got " + generations);
    }

    public static EvolutionSettings reference() {
        return new EvolutionSettings(50, 10, 25, 0.2, 25, 20, 0);
    }
}
