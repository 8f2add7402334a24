package dev.flora.space;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.flora.engine.cpu.CpuBackend;
import dev.flora.engine.nn.ViTConfig;
import dev.flora.engine.nn.VisionTransformer;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** FLOPs (multiply-accumulates) and parameters against published and hand counts. */
class CostModelTest {
    @Test
    void deitSmallAndBaseMatchThePublishedFlops() {
        assertEquals(4.6, CostModel.denseMacs(ViTConfig.deitSmall()) / 1e9, 0.05, "DeiT-S 4.6 G");
        assertEquals(17.6, CostModel.denseMacs(ViTConfig.deitBase()) / 1e9, 0.05, "DeiT-B 17.6 G");
        assertEquals(22.1, CostModel.denseParams(ViTConfig.deitSmall()) / 1e6, 0.05, "DeiT-S 22.1 M params");
        assertEquals(86.6, CostModel.denseParams(ViTConfig.deitBase()) / 1e6, 0.05, "DeiT-B 86.6 M params");
    }

    @Test
    void vitFmnistHandCount() {
        // per block: qkv 50·128·384 + proj 50·128·128 + fc1, fc2 2·50·128·512 + attention 2·50·50·128
        long block = 50L * 128 * 384 + 50L * 128 * 128 + 2L * 50 * 128 * 512 + 2L * 50 * 50 * 128;
        long patch = 49L * 16 * 128;
        long head = 128L * 10;
        assertEquals(patch + 6 * block + head, CostModel.denseMacs(ViTConfig.vitFmnist()));
        assertEquals(62_924_032L, CostModel.denseMacs(ViTConfig.vitFmnist()));
        VisionTransformer m = new VisionTransformer(new CpuBackend(), ViTConfig.vitFmnist());
        assertEquals(m.macsPerImage(), CostModel.denseMacs(ViTConfig.vitFmnist()), "engine and cost model agree");
        assertEquals(m.parameterCount(), CostModel.denseParams(ViTConfig.vitFmnist()));
        assertEquals(m.executedMacsPerImage(), CostModel.denseExecutedMacs(ViTConfig.vitFmnist()));
    }

    @Test
    void factorizedModulesCostTheCheaperOfFactorsAndDense() {
        SearchSpace s = SearchSpace.defaults(ViTConfig.vitFmnist(), false);
        CostModel cost = new CostModel(s);
        long dense = CostModel.denseMacs(ViTConfig.vitFmnist());
        assertEquals(dense, cost.macs(Candidate.uniform(6, 3, 6)), "ratio 1.0 is the dense module");
        // ratio 0.25 (rank 32): qkv 32·(128+384), fc1/fc2 32·(128+512) per token, 6 blocks
        long expected = dense - 6L * 50 * ((128L * 384 - 32L * 512) + 2 * (128L * 512 - 32L * 640));
        assertEquals(expected, cost.macs(Candidate.uniform(6, 3, 1)));
        // qkv at 0.75 (rank 96) costs 96·512 > 128·384: counted dense
        Candidate c = Candidate.uniform(6, 3, 6).withTuple(0, new int[] {5, 6, 6});
        assertEquals(dense, cost.macs(c));
        assertEquals(cost.macs(Candidate.uniform(6, 3, 1)), cost.macs(s.uniformRanks(0.25)));
    }

    @Test
    void uniformAtMostMatchesTheBudget() {
        SearchSpace s = SearchSpace.defaults(ViTConfig.vitFmnist(), false);
        CostModel cost = new CostModel(s);
        long budget = CostModel.denseMacs(ViTConfig.vitFmnist()) / 2;
        Map<String, Integer> r = cost.uniformAtMost(budget);
        long f = cost.macs(r);
        assertEquals(true, f <= budget);
        Map<String, Integer> bigger = s.uniformRanks(r.values().iterator().next() / 128.0 + 1.0 / 128);
        assertEquals(true, cost.macs(bigger) > budget, "one rank more would exceed the budget");
    }
}
