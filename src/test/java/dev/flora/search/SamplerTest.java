package dev.flora.search;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.flora.engine.nn.ViTConfig;
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
}
