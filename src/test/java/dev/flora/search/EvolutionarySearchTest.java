package dev.flora.search;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flora.config.EvolutionSettings;
import dev.flora.engine.nn.ViTConfig;
import dev.flora.space.Candidate;
import dev.flora.space.CostModel;
import dev.flora.space.FlopsBounds;
import dev.flora.space.SearchSpace;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EvolutionarySearchTest {
    @TempDir
    Path dir;

    private final SearchSpace space = SearchSpace.defaults(ViTConfig.vitFmnist(), false);
    private final long dense = CostModel.denseMacs(ViTConfig.vitFmnist());
    private final PrintStream quiet = new PrintStream(new ByteArrayOutputStream());

    /** A deterministic fitness that prefers fc ranks over qkv ranks, with a little structure to find. */
    private static double fitness(Candidate c) {
        double f = 0;
        for (int b = 0; b < c.blocks(); b++) {
            f += 0.2 * c.ratioIndex(b, 0) + 0.9 * c.ratioIndex(b, 1) + 0.5 * c.ratioIndex(b, 2) * (b % 2 == 0 ? 1 : -1);
        }
        return 50 + f;
    }

    private EvolutionarySearch search(Path state) {
        return new EvolutionarySearch(space, new EvolutionSettings(16, 4, 6, 0.3, 6, 6, 7),
                FlopsBounds.parse("0.4", "0.5", dense), EvolutionarySearchTest::fitness, state, quiet);
    }

    @Test
    void resumedSearchEndsWhereAnUninterruptedOneDoes() throws Exception {
        EvolutionarySearch.State straight = search(dir.resolve("a.json")).run(false, Integer.MAX_VALUE);
        search(dir.resolve("b.json")).run(false, 2);
        EvolutionarySearch.State resumed = search(dir.resolve("b.json")).run(true, Integer.MAX_VALUE);
        ObjectMapper json = new ObjectMapper();
        assertEquals(json.writeValueAsString(straight), json.writeValueAsString(resumed));
        assertEquals(6, resumed.generationsDone());
    }

    @Test
    void everyCandidateIsWithinTheBoundsAndTheBestIsTheFittest() {
        EvolutionarySearch.State s = search(dir.resolve("s.json")).run(false, Integer.MAX_VALUE);
        long lo = Math.round(0.4 * dense);
        long hi = Math.round(0.5 * dense);
        assertTrue(s.evaluated().size() > 40, "explores: " + s.evaluated().size());
        for (EvolutionarySearch.Evaluated e : s.evaluated()) {
            assertTrue(e.flops() >= lo && e.flops() <= hi, e.arch() + " at " + e.flops());
            assertEquals(fitness(e.candidate()), e.top1(), 1e-12);
        }
        double max = s.evaluated().stream().mapToDouble(EvolutionarySearch.Evaluated::top1).max().orElseThrow();
        assertEquals(max, s.best().top1());
        assertTrue(s.history().get(5).bestTop1() >= s.history().get(0).bestTop1());
        assertEquals(s.evaluated().size(), s.evaluated().stream().map(EvolutionarySearch.Evaluated::arch).distinct()
                .count(), "no architecture is evaluated twice");
    }

    @Test
    void boundsNoArchitectureMeetsAreRejectedWithTheReachableRange() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new EvolutionarySearch(space,
                EvolutionSettings.reference(), FlopsBounds.parse("0.05", "0.1", dense),
                EvolutionarySearchTest::fitness, dir.resolve("x.json"), quiet));
        assertTrue(e.getMessage().contains("admit no architecture") && e.getMessage().contains("spans"),
                e.getMessage());
    }

    @Test
    void flopsBoundsParseFractionsPercentsAndCounts() {
        assertEquals(dense / 2, FlopsBounds.parse("0.5", dense, "max"), 1);
        assertEquals(dense / 2, FlopsBounds.parse("50%", dense, "max"), 1);
        assertEquals(31_500_000L, FlopsBounds.parse("31.5M", dense, "max"));
        assertEquals(8_000_000_000L, FlopsBounds.parse("8G", dense, "max"));
        assertThrows(IllegalArgumentException.class, () -> FlopsBounds.parse("half", dense, "max_flops"));
        assertThrows(IllegalArgumentException.class, () -> FlopsBounds.parse("0.6", "0.5", dense));
    }
}
