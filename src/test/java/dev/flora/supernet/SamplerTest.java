package dev.flora.supernet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flora.engine.nn.ViTConfig;
import dev.flora.space.SearchSpace;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class SamplerTest {
    private final SearchSpace space = SearchSpace.defaults(ViTConfig.vitFmnist(), false);

    @Test
    void lowRankAwareSamplingIsInverseToRankPerModule() {
        Sampler s = new Sampler(space, Sampler.Kind.LOW_RANK_AWARE);
        double[] ratios = space.ratios();
        double norm = 0;
        for (double r : ratios) {
            norm += 1 / r;
        }
        int[] counts = new int[ratios.length];
        Random rng = new Random(1);
        int n = 200_000;
        for (int i = 0; i < n; i++) {
            counts[s.sample(rng).ratioIndex(2, 1)]++;
        }
        for (int i = 0; i < ratios.length; i++) {
            double p = (1 / ratios[i]) / norm;
            assertEquals(p, counts[i] / (double) n, 0.005, "p(r) ∝ 1/r for ratio " + ratios[i]);
        }
    }

    @Test
    void onARestrictedSpaceTuplesAreWeightedByInverseProductOfRatios() {
        List<int[]> two = List.of(new int[] {0, 0, 0}, new int[] {6, 6, 6});
        SearchSpace restricted = new SearchSpace(ViTConfig.vitFmnist(), SearchSpace.DEFAULT_TARGETS,
                SearchSpace.DEFAULT_RATIOS, java.util.Collections.nCopies(6, two));
        Sampler s = new Sampler(restricted, Sampler.Kind.LOW_RANK_AWARE);
        double w0 = 1 / Math.pow(0.125, 3);
        assertEquals(w0 / (w0 + 1), s.probability(0, 0), 1e-12);
        Sampler u = new Sampler(restricted, Sampler.Kind.UNIFORM);
        assertEquals(0.5, u.probability(3, 1), 1e-12);
    }
    /**
     * Training steps draw their subnets from step-seeded streams; every block, the first one
     * included, must see each rank ratio about as often as the sampler's probabilities say,
     * within a few hundred consecutive steps. (Seeding java.util.Random with the bare step gave
     * block 0 nearly the same ratio for thousands of steps.)
     */
    @Test
    void consecutiveTrainingStepsDrawIndependentSubnets() {
        Sampler s = new Sampler(space, Sampler.Kind.UNIFORM);
        int steps = 700;
        for (long seed : new long[] {0, 7}) {
            for (int b = 0; b < space.depth(); b++) {
                int[] counts = new int[space.ratios().length];
                for (int step = 0; step < steps; step++) {
                    counts[s.sampleForStep(seed, step).ratioIndex(b, 0)]++;
                }
                for (int i = 0; i < counts.length; i++) {
                    // uniform over 7 ratios: 100 expected per ratio, sd about 9
                    assertTrue(counts[i] > 60 && counts[i] < 140, "seed " + seed + " block " + b + " ratio " + i
                            + " drawn " + counts[i] + " times in " + steps + " steps");
                }
            }
        }
        assertEquals(s.sampleForStep(3, 12345).toString(), s.sampleForStep(3, 12345).toString(),
                "a step draws the same subnet every time (resumed runs)");
    }
}
