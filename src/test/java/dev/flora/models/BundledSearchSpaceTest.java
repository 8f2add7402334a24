package dev.flora.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flora.config.FilterConfig;
import dev.flora.engine.io.FormatException;
import dev.flora.engine.nn.ViTConfig;
import dev.flora.space.SearchSpace;
import java.math.BigInteger;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The filtered search space of the bundled backbone, as flora filter wrote it, ships and loads. */
class BundledSearchSpaceTest {
    @Test
    void filteredSpaceKeepsAtMostTopKPlusDensePerBlock() {
        SearchSpace space = SearchSpace.read(ModelSource.resolveSearchSpace("vit-fmnist-filtered"),
                ViTConfig.vitFmnist());
        assertEquals(6, space.depth());
        assertEquals(SearchSpace.DEFAULT_TARGETS, space.targets());
        int full = 343;
        int keep = FilterConfig.defaults().topK() + 1;
        int[] dense = new int[space.targets().size()];
        Arrays.fill(dense, space.ratios().length - 1);
        for (int b = 0; b < space.depth(); b++) {
            List<int[]> allowed = space.allowed(b);
            assertTrue(allowed.size() <= keep, "block " + b + " keeps " + allowed.size() + " of " + full);
            assertTrue(allowed.stream().anyMatch(t -> Arrays.equals(t, dense)), "block " + b + " keeps the dense tuple");
        }
        assertTrue(space.size().compareTo(BigInteger.valueOf(keep).pow(6)) <= 0);
    }

    @Test
    void unknownSpaceNamesTheBundledOnes() {
        FormatException e = assertThrows(FormatException.class, () -> ModelSource.resolveSearchSpace("nope"));
        assertTrue(e.getMessage().contains("vit-fmnist-filtered"), e.getMessage());
    }
}
