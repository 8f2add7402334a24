package dev.flora.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flora.cli.CliRunner;
import dev.flora.engine.io.SafeTensors;
import dev.flora.engine.io.TensorData;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The FLORA commands end to end on a small PyTorch-trained backbone and the bundled data:
 * supernet, search (killed and resumed), export, compress, and their bad-input errors.
 */
class PipelineCliTest {
    @TempDir
    static Path dir;

    static Path backbone;
    static Path supernet;

    static CliRunner.Run run(String... args) {
        return CliRunner.run(args);
    }

    @BeforeAll
    static void trainASupernet() throws Exception {
        backbone = Path.of(PipelineCliTest.class.getResource("/golden/timm_vit_tiny_fmnist.safetensors").toURI());
        Path runDir = dir.resolve("supernet");
        CliRunner.Run r = run("supernet", "--model", backbone.toString(), "--data", "fmnist-subset", "--out", runDir.toString(),
                "--epochs", "1", "--train-limit", "512", "--batch-size", "64", "--lr", "2e-4");
        assertEquals(0, r.code(), r.err() + r.out());
        supernet = runDir.resolve("supernet.safetensors");
        assertTrue(Files.exists(supernet));
    }

    private static String[] searchArgs(Path out, String... extra) {
        String[] base = {"search", "--supernet", supernet.toString(), "--data", "fmnist-subset", "--out",
            out.toString(), "--population", "8", "--top-k", "3", "--mutations", "3", "--crossovers", "3",
            "--generations", "3", "--val-limit", "150", "--seed", "5"};
        String[] all = java.util.Arrays.copyOf(base, base.length + extra.length);
        System.arraycopy(extra, 0, all, base.length, extra.length);
        return all;
    }

    @Test
    void killedAndResumedSearchEndsLikeAnUninterruptedOne() throws Exception {
        Path straight = dir.resolve("search-straight");
        assertEquals(0, run(searchArgs(straight)).code());
        Path split = dir.resolve("search-split");
        assertEquals(0, run(searchArgs(split, "--generations-this-run", "1")).code());
        assertTrue(!Files.exists(split.resolve("best.txt")), "no result before the last generation");
        CliRunner.Run resumed = run("search", "--out", split.toString(), "--resume");
        assertEquals(0, resumed.code(), resumed.err());
        assertEquals(Files.readString(straight.resolve("best.txt")), Files.readString(split.resolve("best.txt")));
        // a kill between the last state and best.txt (tools/crashtest.sh compress) leaves a search that is not done
        Files.delete(split.resolve("best.txt"));
        try (var cpu = new dev.flora.engine.cpu.CpuBackend()) {
            assertTrue(!new dev.flora.search.SearchRunner(dev.flora.search.SearchRunner.savedConfig(split), split, cpu,
                    System.out).isDone());
        }
        assertEquals(0, run("search", "--out", split.toString(), "--resume").code());
        assertEquals(Files.readString(straight.resolve("evaluated.csv")),
                Files.readString(split.resolve("evaluated.csv")));
    }

    @Test
    void exportedModelEvaluatesWithItsSearchedFlops() throws Exception {
        Path s = dir.resolve("search-for-export");
        assertEquals(0, run(searchArgs(s)).code());
        Path model = dir.resolve("exported.safetensors");
        CliRunner.Run e = run("export", "--supernet", supernet.toString(), "--search", s.toString(), "--out", model.toString());
        assertEquals(0, e.code(), e.err());
        CliRunner.Run ev = run("eval", "--model", model.toString(), "--data", "fmnist-subset", "--json");
        assertEquals(0, ev.code(), ev.err());
        JsonNode j = new ObjectMapper().readTree(ev.out().strip());
        String best = Files.readString(s.resolve("best.txt")).strip();
        String expectedFlops = Files.readAllLines(s.resolve("evaluated.csv")).stream()
                .filter(l -> l.startsWith(best + ",")).findFirst().orElseThrow().split(",")[1];
        assertEquals(Long.parseLong(expectedFlops), j.get("flops").asLong());
        assertTrue(j.get("flops").asLong() <= CostModelBound.half(), "within the default 50 % bound");
    }

    @Test
    void unwritableOutputsAndBoundsNothingMeetsAreBadInputsNamedInOneLine() throws Exception {
        // issue 27 items 1 and 7: these exited 1 with a stack trace, or 0 with the smallest subnet
        Path file = Files.writeString(dir.resolve("a-file"), "x");
        CliRunner.Run s = run(searchArgs(file));
        assertEquals(2, s.code(), s.err());
        assertTrue(s.error().contains("cannot create the directory " + file), s.err());
        Path folder = Files.createDirectories(dir.resolve("a-folder.safetensors"));
        CliRunner.Run e = run("export", "--supernet", supernet.toString(), "--uniform-at-flops", "0.5", "--out",
                folder.toString());
        assertEquals(2, e.code(), e.err());
        assertEquals("error: cannot write " + folder + ": it is a directory", e.error());
        for (String bound : new String[] {"0", "2", "1000"}) {
            CliRunner.Run u = run("export", "--supernet", supernet.toString(), "--uniform-at-flops", bound, "--out",
                    dir.resolve("u" + bound + ".safetensors").toString());
            assertEquals(2, u.code(), bound + ": " + u.err() + u.out());
            assertTrue(u.error().contains("--uniform-at-flops " + bound) && u.error().contains("the smallest has"),
                    u.err());
            assertTrue(!Files.exists(dir.resolve("u" + bound + ".safetensors")));
        }
    }

    @Test
    void aSearchOnDataWithoutValidationImagesIsRefused() throws Exception {
        // issue 27 item 8: nine images gave an empty split, every candidate 0.00 % and an arbitrary best.txt
        Path data = dev.flora.data.ImageFolderFixture.trainVal(dir.resolve("nine"), 3, 1, 2);
        Path out = dir.resolve("search-nine");
        CliRunner.Run r = run("search", "--supernet", supernet.toString(), "--data", data.toString(), "--out",
                out.toString(), "--population", "4", "--top-k", "2", "--mutations", "1", "--crossovers", "1",
                "--generations", "1");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.error().contains("the validation split is empty"), r.err());
        assertTrue(!Files.exists(out));
    }

    /** Half the backbone's FLOPs. */
    static final class CostModelBound {
        static long half() throws Exception {
            var cfg = dev.flora.engine.io.ModelIO.inferConfig(SafeTensors.open(backbone),
                    java.util.OptionalInt.empty());
            return dev.flora.space.CostModel.denseMacs(cfg) / 2;
        }
    }

    @Test
    void compressRunsEveryStageAndSkipsThemWhenRunAgain() throws Exception {
        Path out = dir.resolve("compress");
        String[] args = {"compress", "--model", backbone.toString(), "--data", "fmnist-subset", "--out", out.toString(),
            "--compare-spos", "--supernet-epochs", "1", "--set", "supernet.train_limit=384", "--set",
            "supernet.batch_size=64", "--set", "search.population=6", "--set", "search.top_k=2", "--set",
            "search.mutations=2", "--set", "search.crossovers=2", "--set", "search.generations=2", "--set",
            "search.val_limit=120"};
        CliRunner.Run r = run(args);
        assertEquals(0, r.code(), r.err() + r.out());
        for (String f : new String[] {"flora.safetensors", "uniform.safetensors", "pareto.csv", "pareto.png",
            "results.json", "summary.md", "config.yaml"}) {
            assertTrue(Files.exists(out.resolve(f)), f);
        }
        JsonNode res = new ObjectMapper().readTree(out.resolve("results.json").toFile());
        assertEquals(3, res.get("models").size());
        long denseFlops = res.get("models").get(0).get("flops").asLong();
        long floraFlops = res.get("models").get(1).get("flops").asLong();
        long uniformFlops = res.get("models").get(2).get("flops").asLong();
        assertTrue(floraFlops <= denseFlops / 2 + 1 && uniformFlops <= floraFlops, floraFlops + " " + uniformFlops);
        assertTrue(Files.readString(out.resolve("pareto.csv")).contains("spos,searched,"));
        assertTrue(Files.readString(out.resolve("summary.md")).contains("| SPOS |"));
        String before = Files.readString(out.resolve("results.json"));
        CliRunner.Run again = run(args);
        assertEquals(0, again.code(), again.err());
        assertTrue(again.out().contains("supernet-lrat: done") && again.out().contains("search-spos: done"), again.out());
        JsonNode a = new ObjectMapper().readTree(before);
        JsonNode b = new ObjectMapper().readTree(out.resolve("results.json").toFile());
        assertEquals(a.get("models"), b.get("models"), "a rerun reproduces the results");
    }

    @Test
    void ablationComparesFourSupernetsAndTheUniformCurve() throws Exception {
        Path out = dir.resolve("ablation");
        CliRunner.Run r = run("ablation", "--model", backbone.toString(), "--data", "fmnist-subset", "--out", out.toString(),
                "--targets", "0.6,0.75", "--set", "filter.proxy_fraction=0.05", "--set", "filter.score_fraction=0.2",
                "--set", "filter.top_k=8", "--set", "supernet.epochs=1", "--set", "supernet.train_limit=384",
                "--set", "search.population=6", "--set", "search.generations=2", "--set", "search.mutations=2",
                "--set", "search.crossovers=2", "--set", "search.top_k=2", "--set", "search.val_limit=100");
        assertEquals(0, r.code(), r.err() + r.out());
        String csv = Files.readString(out.resolve("ablation.csv"));
        for (String v : new String[] {"spos,", "spos-filter,", "lrat,", "lrat-filter,", "uniform-grid,",
            "uniform-matched,", "dense,"}) {
            assertTrue(csv.contains("\n" + v), v + " in\n" + csv);
        }
        assertTrue(Files.size(out.resolve("fronts.png")) > 1000);
        assertTrue(Files.size(out.resolve("uniform_vs_searched.png")) > 1000);
        // the filtered space keeps at most k + 1 tuples per block
        JsonNode space = new ObjectMapper().readTree(out.resolve("filter").resolve("search_space.json").toFile());
        for (JsonNode block : space.get("blocks")) {
            assertTrue(block.size() <= 9, "k + dense");
        }
    }

    @Test
    void badInputsExitTwoWithOneLine() throws Exception {
        CliRunner.Run r = run(searchArgs(dir.resolve("impossible"), "--min-flops", "0.01", "--max-flops", "0.02"));
        assertEquals(2, r.code());
        assertTrue(r.error().contains("admit no architecture"), r.err());
        r = run("supernet", "--model", backbone.toString(), "--data", "fmnist-subset", "--out",
                dir.resolve("bad-ratio").toString(), "--ratios", "0.5,1.5");
        assertEquals(2, r.code());
        assertTrue(r.error().contains("1.5") && r.error().contains("(0, 1]"), r.err());
        Path notVit = dir.resolve("not-a-vit.safetensors");
        SafeTensors.write(notVit, Map.of("encoder.layer.0.weight", new TensorData(new int[] {2, 2}, new float[4])),
                Map.of());
        r = run("supernet", "--model", notVit.toString(), "--data", "fmnist-subset", "--out",
                dir.resolve("bad-model").toString());
        assertEquals(2, r.code());
        assertTrue(r.error().contains("not a ViT checkpoint"), r.err());
        assertTrue(!Files.exists(dir.resolve("bad-model")), "no partial output");
        r = run("search", "--supernet", backbone.toString(), "--data", "fmnist-subset", "--out",
                dir.resolve("dense-as-supernet").toString());
        assertEquals(2, r.code());
        assertTrue(r.error().contains("not a supernet"), r.err());
        r = run("export", "--supernet", supernet.toString(), "--arch", "9:9:9|0:0:0", "--out",
                dir.resolve("x.safetensors").toString());
        assertEquals(2, r.code());
        assertTrue(r.error().contains("not in the supernet's search space"), r.err());
    }
}
