package dev.flora.filter;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flora.config.Configs;
import dev.flora.config.FilterConfig;
import dev.flora.data.Datasets;
import dev.flora.data.ImageSource;
import dev.flora.engine.cpu.CpuBackend;
import dev.flora.engine.nn.ViTConfig;
import dev.flora.space.SearchSpace;
import dev.flora.supernet.Supernet;
import dev.flora.train.Evaluator;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CandidateFilterTest {
    @TempDir
    Path dir;

    private static FilterConfig tiny() throws Exception {
        Path backbone = Path.of(CandidateFilterTest.class.getResource("/golden/timm_vit_tiny_fmnist.safetensors")
                .toURI());
        return Configs.merge(FilterConfig.class, FilterConfig.defaults(), "test", Configs.layer(Map.of(
                "model", backbone.toString(), "data", "fmnist-subset", "proxy_fraction", 0.05, "score_fraction", 0.25,
                "top_k", 5, "space", Map.of("ratios", new double[] {0.25, 0.5, 1.0}),
                "loop", Map.of("batch_size", 64))));
    }

    @Test
    void keepsTopKPlusDenseAndScoresWithTheCachedPrefixAsAFullForwardWould() throws Exception {
        FilterConfig cfg = tiny();
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
        CandidateFilter.Result r = new CandidateFilter(cfg, dir, new CpuBackend(), quiet).run();
        assertEquals(2, r.blocks().size());
        for (CandidateFilter.BlockResult b : r.blocks()) {
            assertEquals(27, b.scores().size(), "3 ratios, 3 targets: 27 tuples scored");
            assertTrue(b.kept().size() <= 6 && b.kept().size() >= 5, "k + dense at most");
            assertTrue(b.kept().stream().anyMatch(t -> Arrays.equals(t, new int[] {2, 2, 2})), "dense kept");
            for (CandidateFilter.Score s : b.scores()) {
                assertEquals(cfg.lambda() * s.top1() - s.flopsPct(), s.metric(), 1e-9);
            }
        }
        // the space file reloads into the same space
        ViTConfig arch = r.space().config();
        SearchSpace back = SearchSpace.read(r.file(), arch);
        assertEquals(r.space().size(), back.size());

        // block 1's scores, recomputed with a full forward of the local supernet
        Supernet local = Supernet.load(dir.resolve("block-1").resolve("checkpoint.safetensors"), new CpuBackend());
        ImageSource val = Datasets.valPart(Datasets.load("fmnist-subset").train());
        int n = (int) Math.round(0.25 * val.count());
        int[] idx = new int[n];
        Arrays.setAll(idx, i -> i);
        ImageSource scoring = val.subset("s", idx);
        for (CandidateFilter.Score s : r.blocks().get(1).scores().subList(0, 5)) {
            local.apply(local.largest().withTuple(1, s.tuple()));
            double top1 = 100 * Evaluator.evaluate(local.model(), local.input(), scoring, 64).top1();
            assertEquals(top1, s.top1(), 1e-9, "tuple " + Arrays.toString(s.tuple()));
        }
    }

    @Test
    void aRerunSkipsFinishedBlocks() throws Exception {
        FilterConfig cfg = tiny();
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        new CandidateFilter(cfg, dir, new CpuBackend(), new PrintStream(log)).run();
        Files.delete(dir.resolve("block-1.json"));
        ByteArrayOutputStream again = new ByteArrayOutputStream();
        CandidateFilter.Result r = new CandidateFilter(cfg, dir, new CpuBackend(), new PrintStream(again)).run();
        String text = again.toString();
        assertTrue(text.contains("block 0: done"), text);
        assertTrue(text.contains("block 1: training its local supernet (resuming)"), text);
        assertEquals(new ObjectMapper().readTree(Files.readString(dir.resolve("search_space.json"))),
                new ObjectMapper().readTree(Files.readString(r.file())));
    }
    /**
     * A block interrupted while being scored continues after the tuples scored before (read from
     * the block's partial scores, in block-N.json's format), and ignores a partial file whose
     * tuples are not the first of this space's.
     */
    @Test
    void aRerunContinuesABlocksScoringAfterItsPartialScores() throws Exception {
        FilterConfig cfg = tiny();
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
        CandidateFilter.Result first = new CandidateFilter(cfg, dir, new CpuBackend(), quiet).run();
        List<CandidateFilter.Score> all = first.blocks().get(1).scores();
        ObjectMapper json = new ObjectMapper();
        JsonNode scores = json.readTree(dir.resolve("block-1.json").toFile()).get("scores");
        ArrayNode before = json.createArrayNode();
        for (int i = 0; i < 3; i++) {
            before.add(((ObjectNode) scores.get(i).deepCopy()).put("top1", -1.0));
        }
        Path partial = dir.resolve("block-1").resolve(CandidateFilter.PARTIAL_SCORES);
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        List<CandidateFilter.Score> again = rescoreBlock1(cfg, before, log);
        assertTrue(log.toString().contains("block 1: 3 of 27 tuples scored before"), log.toString());
        assertEquals(27, again.size());
        for (int i = 0; i < 27; i++) {
            assertArrayEquals(all.get(i).tuple(), again.get(i).tuple());
            assertEquals(i < 3 ? -1.0 : all.get(i).top1(), again.get(i).top1(), 1e-12, "tuple " + i);
        }
        assertFalse(Files.exists(partial), "the partial scores go once the block is written");

        ArrayNode shuffled = json.createArrayNode().add(scores.get(1).deepCopy()).add(scores.get(0).deepCopy());
        ByteArrayOutputStream log2 = new ByteArrayOutputStream();
        List<CandidateFilter.Score> fresh = rescoreBlock1(cfg, shuffled, log2);
        assertTrue(log2.toString().contains("its tuples are not this space's"), log2.toString());
        for (int i = 0; i < 27; i++) {
            assertEquals(all.get(i).top1(), fresh.get(i).top1(), 1e-12, "tuple " + i);
        }
    }

    /** Block 1 filtered again with {@code partial} as its scores so far; returns its scores. */
    private List<CandidateFilter.Score> rescoreBlock1(FilterConfig cfg, ArrayNode partial, ByteArrayOutputStream log)
            throws Exception {
        Files.delete(dir.resolve("block-1.json"));
        Files.writeString(dir.resolve("block-1").resolve(CandidateFilter.PARTIAL_SCORES), partial.toString());
        return new CandidateFilter(cfg, dir, new CpuBackend(), new PrintStream(log)).run().blocks().get(1).scores();
    }
}
