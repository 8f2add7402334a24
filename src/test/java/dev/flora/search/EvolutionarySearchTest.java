package dev.flora.search;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flora.config.EvolutionSettings;
import dev.flora.config.FitnessSignal;
import dev.flora.engine.nn.ViTConfig;
import dev.flora.latency.LatencyPredictor;
import dev.flora.latency.Machine;
import dev.flora.latency.StubTables;
import dev.flora.space.Candidate;
import dev.flora.space.CostModel;
import dev.flora.space.FlopsBounds;
import dev.flora.space.SearchSpace;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Map;
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

    private static EvolutionarySearch.Score score(Candidate c) {
        return new EvolutionarySearch.Score(fitness(c), fitness(c));
    }

    private EvolutionarySearch search(Path state) {
        return new EvolutionarySearch(space, new EvolutionSettings(16, 4, 6, 0.3, 6, 6, 7),
                FlopsBounds.parse("0.4", "0.5", dense), FitnessSignal.TOP1, EvolutionarySearchTest::score, state, quiet);
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
    void theSearchRanksByFitnessAndRecordsItsSignal() {
        // a fitness that disagrees with top-1: the top-1 winner must not be chosen
        EvolutionarySearch.State s = new EvolutionarySearch(space, new EvolutionSettings(16, 4, 6, 0.3, 6, 3, 7),
                FlopsBounds.parse("0.4", "0.5", dense), FitnessSignal.LOSS,
                c -> new EvolutionarySearch.Score(-fitness(c), fitness(c)), dir.resolve("loss.json"), quiet)
                .run(false, Integer.MAX_VALUE);
        assertEquals(FitnessSignal.LOSS, s.fitness());
        assertEquals(FitnessSignal.LOSS, EvolutionarySearch.readState(dir.resolve("loss.json")).fitness());
        double min = s.evaluated().stream().mapToDouble(EvolutionarySearch.Evaluated::top1).min().orElseThrow();
        assertEquals(min, s.best().top1());
        assertEquals(-min, s.best().fitness());
    }

    @Test
    void aSearchResumedWithAnotherFitnessIsRefused() {
        search(dir.resolve("f.json")).run(false, 2);
        EvolutionarySearch other = new EvolutionarySearch(space, new EvolutionSettings(16, 4, 6, 0.3, 6, 6, 7),
                FlopsBounds.parse("0.4", "0.5", dense), FitnessSignal.KL, EvolutionarySearchTest::score,
                dir.resolve("f.json"), quiet);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> other.run(true, Integer.MAX_VALUE));
        assertTrue(e.getMessage().contains("started with fitness top1, not kl"), e.getMessage());
        assertEquals(1, e.getMessage().lines().count());
    }

    @Test
    void boundsNoArchitectureMeetsAreRejectedWithTheReachableRange() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new EvolutionarySearch(space,
                EvolutionSettings.reference(), FlopsBounds.parse("0.05", "0.1", dense),
                FitnessSignal.TOP1, EvolutionarySearchTest::score, dir.resolve("x.json"), quiet));
        assertTrue(e.getMessage().contains("admit no architecture") && e.getMessage().contains("spans"),
                e.getMessage());
    }

    /** A stub table's predictor (numbers chosen, not measured) and a search within a latency budget of it. */
    private final LatencyPredictor stub = new LatencyPredictor(StubTables.of(space,
            new Machine("Test CPU", 2, "amd64", "cpu", 2), 32), space, "stub.json");

    private EvolutionarySearch underLatency(Path state, double budgetMs) {
        return new EvolutionarySearch(space, new EvolutionSettings(16, 4, 6, 0.3, 6, 6, 7),
                FlopsBounds.parse("0", "1", dense), SearchBound.latency(stub, budgetMs, "stub.json"),
                FitnessSignal.TOP1, EvolutionarySearchTest::score, state, quiet);
    }

    @Test
    void underALatencyBudgetEveryCandidateIsPredictedWithinIt() {
        double budget = 0.6 * stub.millis(Map.of());
        EvolutionarySearch.State s = underLatency(dir.resolve("l.json"), budget).run(false, Integer.MAX_VALUE);
        assertTrue(s.evaluated().size() > 40, "explores: " + s.evaluated().size());
        for (EvolutionarySearch.Evaluated e : s.evaluated()) {
            assertEquals(stub.millis(e.candidate()), e.latencyMs(), 1e-9);
            assertTrue(e.latencyMs() <= budget, e.arch() + " at " + e.latencyMs() + " ms");
        }
        assertEquals(budget, s.latencyMs());
        // the budget binds: the fittest architecture of the whole space (every ratio at its largest) is far over it
        assertTrue(stub.millis(Candidate.uniform(6, 3, 6)) > budget);
        EvolutionarySearch.State resumed = underLatency(dir.resolve("l2.json"), budget).run(false, 2);
        resumed = underLatency(dir.resolve("l2.json"), budget).run(true, Integer.MAX_VALUE);
        assertEquals(s.best(), resumed.best());
    }

    @Test
    void aLatencyBudgetNothingMeetsIsRejectedWithThePredictedRange() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> underLatency(dir.resolve("y.json"), 0.5));
        assertTrue(e.getMessage().startsWith("latency budget 0.500 ms at batch 32 admits no architecture: stub.json "
                + "predicts the search space at ["), e.getMessage());
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
