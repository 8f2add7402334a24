package dev.flora.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.flora.config.ArchPreset;
import dev.flora.engine.nn.ViTConfig;
import dev.flora.space.CostModel;
import dev.flora.space.SearchSpace;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * On vit-fmnist, attention and attn.proj stay dense and qkv, fc1, fc2 at 1/8 of their rank still
 * cost as much again, so the default rank grid's smallest subnet is about 28 % of the dense FLOPs:
 * the ablation names a 25 % target as out of reach before it trains anything, and a grid with
 * 1/16 (smallest subnet about 21 %) reaches it.
 */
class UnreachableTargetsTest {
    private static final ViTConfig ARCH = ArchPreset.VIT_FMNIST.config();
    private static final long DENSE = CostModel.denseMacs(ARCH);
    private static final List<Double> TARGETS = List.of(0.25, 0.35, 0.5);

    @Test
    void theDefaultGridCannotReachAQuarterOfTheFlopsAndOneWithASixteenthCan() {
        SearchSpace defaults = SearchSpace.resolve(ARCH, null, false, null);
        assertEquals(List.of(0.25), Ablation.outOfReach(defaults, TARGETS, 0.05, DENSE));
        SearchSpace finer = SearchSpace.resolve(ARCH, null, false,
                new double[] {0.0625, 0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 1.0});
        assertEquals(List.of(), Ablation.outOfReach(finer, TARGETS, 0.05, DENSE));
        assertEquals(List.of(0.2), Ablation.outOfReach(finer, List.of(0.2, 0.25), 0.05, DENSE));
        // without the full rank the largest subnet is below a target near dense too
        SearchSpace halves = SearchSpace.resolve(ARCH, null, false, new double[] {0.25, 0.5});
        assertEquals(List.of(0.2, 0.95), Ablation.outOfReach(halves, List.of(0.2, 0.5, 0.95), 0.05, DENSE));
    }
}
